"""Deterministic stitching on real stores (SQLite and PostgreSQL): joins, guards, undo, profiles."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from rapport.customers.ingestion import ingest
from rapport.customers.profile import build_profile
from rapport.customers.service import get_profile, merge_history, profile_of, resolve_customer
from rapport.errors import NotFound
from rapport.store.store import Store

_ids = itertools.count()


def msg(kind: str, **fields: Any) -> dict[str, Any]:
    """A tracking-spec message with a fresh messageId and a timestamp that moves forward."""
    n = next(_ids)
    base: dict[str, Any] = {
        "type": kind,
        "messageId": f"m-{n}",
        "timestamp": f"2026-03-01T10:{n // 60 % 60:02d}:{n % 60:02d}Z",
    }
    if kind == "track":
        base["event"] = fields.pop("event", "Viewed")
    base.update(fields)
    return base


def send(store: Store, *messages: dict[str, Any]) -> None:
    report = ingest(store, list(messages), store.settings)
    assert not report.rejected, report.rejected


def test_a_profile_is_read_by_each_of_its_identifiers(store: Store) -> None:
    send(
        store,
        msg("page", anonymousId="anon-web", context={"channel": "web"}),
        msg("identify", anonymousId="anon-web", userId="u-anna", traits={"email": " Anna.Muller@Example.com "}),
        msg("track", anonymousId="anon-app", event="App Opened", context={"channel": "app", "device": {"id": "ph-1"}}),
        msg("identify", anonymousId="anon-app", traits={"email": "anna.muller@example.com", "phone": "030 1234567"}),
        msg(
            "identify",
            anonymousId="store-1",
            traits={"loyalty_card": "LC-77", "phone": "+49 30 1234567"},
            context={"channel": "store"},
        ),
    )
    references = [
        "anon-web",
        "u-anna",
        "ANNA.MULLER@example.com",
        "+49 30 1234567",
        "0049301234567",
        "loyalty_card:LC-77",
        "device_id:ph-1",
        "anon-app",
    ]
    ids = {resolve_customer(store, ref) for ref in references}
    assert len(ids) == 1
    profile = get_profile(store, "u-anna")
    kinds = {(i["kind"], i["value"]) for i in profile.identifiers}
    assert ("phone", "+49301234567") in kinds and ("email", "anna.muller@example.com") in kinds
    assert profile.facts["channels"] == ["app", "server", "store", "web"]
    assert profile.facts["events"] == 5
    assert store.counts()["customers"] == 1


def test_alias_joins_two_profiles(store: Store) -> None:
    send(
        store,
        msg("track", anonymousId="a-1", event="Cart Viewed"),
        msg("identify", userId="u-9", traits={"email": "x@y.io"}),
    )
    assert resolve_customer(store, "a-1") != resolve_customer(store, "u-9")
    send(store, msg("alias", previousId="a-1", userId="u-9"))
    assert resolve_customer(store, "a-1") == resolve_customer(store, "u-9")
    history = merge_history(store, "u-9")
    assert [m["reason"] for m in history if m["status"] == "applied"] == ["alias"]


def test_two_accounts_never_merge_through_a_family_tablet(store: Store) -> None:
    tablet = {"device": {"id": "tablet-1"}, "channel": "app"}
    for user in ("u-mum", "u-dad", "u-kid", "u-gran"):
        send(store, msg("identify", userId=user, traits={"email": f"{user}@family.de"}, context=tablet))
    customers = {resolve_customer(store, u) for u in ("u-mum", "u-dad", "u-kid", "u-gran")}
    assert len(customers) == 4
    profile = get_profile(store, "u-mum")
    assert {"kind": "device_id", "value": "tablet-1"} in profile.shared_identifiers
    refused = [m for m in merge_history(store, "u-dad") if m["status"] == "refused"]
    assert refused and "kind limit" in refused[0]["evidence"]["why"]


def test_a_switchboard_number_stops_joining_and_its_merges_are_undone(store: Store) -> None:
    switchboard = "+49 30 9999000"
    people = [f"caller{i}@mail.de" for i in range(5)]
    for email in people:
        send(
            store,
            msg(
                "identify",
                anonymousId=f"cc-{email}",
                traits={"email": email, "phone": switchboard},
                context={"channel": "call_centre"},
            ),
        )
    assert len({resolve_customer(store, email) for email in people}) == 5
    undone = [m for email in people for m in merge_history(store, email) if m["status"] == "undone"]
    assert undone and all("shared" in m["undo_reason"] for m in undone)
    # Once shared, the number joins nobody new either.
    send(store, msg("identify", anonymousId="cc-late", traits={"email": "late@mail.de", "phone": switchboard}))
    assert resolve_customer(store, "late@mail.de") not in {resolve_customer(store, e) for e in people}


def test_a_merge_can_be_undone_and_both_profiles_come_back_whole(store: Store) -> None:
    send(
        store,
        msg("track", anonymousId="web-1", event="Product Viewed", context={"channel": "web"}),
        msg("track", anonymousId="web-1", event="Product Viewed", context={"channel": "web"}),
        msg("identify", userId="u-1", traits={"email": "p@q.de"}, context={"channel": "app"}),
        msg("identify", anonymousId="web-1", traits={"email": "p@q.de"}),
    )
    merged = resolve_customer(store, "web-1")
    assert merged == resolve_customer(store, "u-1")
    before = get_profile(store, merged)
    merge = next(m for m in merge_history(store, merged) if m["status"] == "applied")
    store.undo_merge(merge["id"], "test")
    left, right = get_profile(store, "web-1"), get_profile(store, "u-1")
    assert left.customer_id != right.customer_id
    assert left.facts["events"] + right.facts["events"] == before.facts["events"]
    ids_before = {(i["kind"], i["value"]) for i in before.identifiers}
    ids_after = {(i["kind"], i["value"]) for p in (left, right) for i in p.identifiers}
    assert ids_before == ids_after
    # The surviving id kept its identity; the other record answers for itself again.
    assert merged in (left.customer_id, right.customer_id)


def test_the_surviving_id_is_stable_and_merged_ids_redirect(store: Store) -> None:
    send(store, msg("track", anonymousId="old", event="Visit"))
    first = resolve_customer(store, "old")
    send(store, msg("identify", userId="u-new", traits={"email": "n@n.de"}))
    second = resolve_customer(store, "u-new")
    send(store, msg("identify", anonymousId="old", userId="u-new"))
    assert resolve_customer(store, "u-new") == first
    assert store.canonical_id(second) == first


def test_traits_follow_source_precedence_then_recency(store: Store) -> None:
    ranked = Store(store.settings.with_overrides(source_precedence=("crm",)), engine=store.engine)
    send(
        ranked,
        msg("identify", userId="u-t", traits={"name": "From CRM", "city": "Bonn"}, context={"source": "crm"}),
        msg("identify", userId="u-t", traits={"name": "typed on web", "city": "Köln"}, context={"source": "web"}),
    )
    profile = get_profile(ranked, "u-t")
    assert profile.traits["name"] == "From CRM"  # the stronger source wins over a later weaker one
    assert profile.trait_sources["name"]["source"] == "crm"
    send(ranked, msg("identify", userId="u-t", traits={"name": "CRM update"}, context={"source": "crm"}))
    assert get_profile(ranked, "u-t").traits["name"] == "CRM update"


def test_the_profile_read_shows_what_every_column_of_the_events_shows(store: Store) -> None:
    """The profile reads only the event columns it shows (of the context only its traits): it is the profile
    built from the whole rows, traits from the context included, and ``events=0`` shows no event."""
    send(
        store,
        msg("identify", userId="u-p", traits={"email": "p@x.de"}, context={"traits": {"city": "Ulm"}, "ip": "1.2.3.4"}),
        msg("track", userId="u-p", event="Order Completed", properties={"total": 12.5, "products": [{"sku": "A"}]}),
        msg("page", userId="u-p", context={"page": {"path": "/"}}),
        msg("track", anonymousId="a-p", event="Viewed"),
        msg("alias", userId="u-p", previousId="a-p"),
    )
    canonical = resolve_customer(store, "u-p")
    members = store.members(canonical)
    whole = build_profile(canonical, members, store.identifier_rows(members), store.event_rows(members))
    read = profile_of(store, canonical)
    assert read.to_dict() == whole.to_dict() and read.traits["city"] == "Ulm" and read.facts["spend"] == 12.5
    assert read.to_dict(events_limit=0)["events"] == [] and len(read.to_dict(events_limit=2)["events"]) == 2


def test_unknown_customer_is_a_clear_not_found(store: Store) -> None:
    with pytest.raises(NotFound, match=r"nobody@nowhere\.de"):
        get_profile(store, "nobody@nowhere.de")


def test_two_workers_stitching_at_once_create_one_customer(store: Store) -> None:
    from concurrent.futures import ThreadPoolExecutor

    batches = [[msg("identify", userId="u-race", traits={"email": "race@r.de"}) for _ in range(20)] for _ in range(4)]
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda b: ingest(store, b, store.settings), batches))
    assert store.counts()["customers"] == 1
    assert get_profile(store, "u-race").facts["events"] == 80


def test_every_event_is_counted_when_an_identifier_turns_shared_mid_batch(store: Store) -> None:
    switchboard = "+49 30 9999000"
    batch = [
        msg("identify", anonymousId=f"cc-{i}", traits={"email": f"one{i}@mail.de", "phone": switchboard})
        for i in range(6)
    ]
    report = ingest(store, batch, store.settings)
    assert report.stored == 6 == store.counts()["events"]
    assert len({resolve_customer(store, f"one{i}@mail.de") for i in range(6)}) == 6
