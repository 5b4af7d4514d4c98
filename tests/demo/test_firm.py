"""The demo firm: valid Segment messages, deterministic, realistic behaviour, and the identity traps in place."""

from __future__ import annotations

import itertools
import statistics
from collections import Counter, defaultdict
from datetime import UTC, datetime
from typing import Any

import pytest

from rapport.config import Settings
from rapport.customers.events import Event, parse_event
from rapport.customers.identifiers import normalize_phone
from rapport.demo.firm import DemoFirm, generate_firm
from rapport.errors import InvalidInput
from tests.demo.segment_spec import CHANNELS, spec_errors

END = datetime(2025, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def firm() -> DemoFirm:
    return generate_firm(customers=3000, days=365, seed=7, end=END)


@pytest.fixture(scope="module")
def parsed(firm: DemoFirm) -> list[Event]:
    """Every message read by Rapport's own parser, with the firm's declared identifiers."""
    settings = Settings(identifier_fields=firm.identifier_fields, default_phone_region=firm.default_phone_region)
    return [parse_event(message, settings) for message in firm.events]


def _components(parsed: list[Event], skip: set[tuple[str, str]]) -> dict[tuple[str, str], tuple[str, str]]:
    """Join identifiers seen in one message (union-find); identifiers in ``skip`` join nothing."""
    parent: dict[tuple[str, str], tuple[str, str]] = {}

    def find(x: tuple[str, str]) -> tuple[str, str]:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for event in parsed:
        ids = [(i.kind, i.value) for i in event.identifiers if (i.kind, i.value) not in skip]
        if event.type == "alias" and event.previous_id:
            ids.append(("anonymous_id", event.previous_id))
        for identifier in ids:
            root, other = find(ids[0]), find(identifier)
            if root != other:
                parent[other] = root
    return {identifier: find(identifier) for identifier in parent}


def _people_per_component(firm: DemoFirm, roots: dict[tuple[str, str], tuple[str, str]]) -> dict[Any, set[str]]:
    people: dict[Any, set[str]] = defaultdict(set)
    for identifier, root in roots.items():
        person = firm.true_person_of(*identifier)
        if person is not None:
            people[root].add(person)
    return people


def test_same_seed_same_firm_and_another_seed_another() -> None:
    first = generate_firm(customers=150, days=90, seed=11, end=END)
    again = generate_firm(customers=150, days=90, seed=11, end=END)
    other = generate_firm(customers=150, days=90, seed=12, end=END)
    assert first.events == again.events
    assert [p.identifiers for p in first.people.values()] == [p.identifiers for p in again.people.values()]
    assert first.events != other.events
    assert {e["messageId"] for e in first.events}.isdisjoint(e["messageId"] for e in other.events)


def test_refuses_too_few_people_or_days() -> None:
    with pytest.raises(InvalidInput, match="customers=10"):
        generate_firm(customers=10, end=END)
    with pytest.raises(InvalidInput, match="days=7"):
        generate_firm(days=7, end=END)


def test_every_message_follows_the_spec_and_rapport_reads_it(firm: DemoFirm, parsed: list[Event]) -> None:
    problems = [(m["messageId"], errors) for m in firm.events if (errors := spec_errors(m))]
    assert problems == []
    assert len({m["messageId"] for m in firm.events}) == len(firm.events)
    stamps = [m["timestamp"] for m in firm.events]
    assert stamps == sorted(stamps)
    assert firm.start.isoformat() <= stamps[0].replace("Z", "+00:00") and stamps[-1] < "2025-01-01T00:00:00Z"
    assert 100_000 <= len(firm.events) <= 300_000
    assert {e.type for e in parsed} == {"identify", "track", "page", "screen", "alias", "group"}


def test_every_identifier_belongs_to_a_known_person_or_is_a_known_trap(firm: DemoFirm, parsed: list[Event]) -> None:
    """The ground truth covers what Rapport will store: identifiers normalised by Rapport itself."""
    unexplained = Counter()
    for event in parsed:
        for identifier in event.identifiers:
            key = (identifier.kind, identifier.value)
            visitor = identifier.kind == "anonymous_id" and identifier.value in firm.visitors
            if firm.true_person_of(*key) is None and key not in firm.shared_identifiers and not visitor:
                unexplained[identifier.kind] += 1
    assert unexplained == Counter()
    assert all(p.identifiers and p.channels for p in firm.people.values())


def test_channels_all_present(firm: DemoFirm) -> None:
    assert {m["context"]["channel"] for m in firm.events} == set(CHANNELS)
    assert any(len(p.channels) >= 4 for p in firm.people.values())


def test_identifiers_are_messy_across_channels(firm: DemoFirm) -> None:
    emails = [
        t["email"] for m in firm.events for t in (m.get("traits"), m["context"].get("traits")) if t and "email" in t
    ]
    assert sum(e != e.strip() for e in emails) > 100 and sum(e != e.lower() for e in emails) > 100
    formats: dict[str, set[str]] = defaultdict(set)
    for m in firm.events:
        for traits in (m.get("traits"), m["context"].get("traits")):
            if traits and "phone" in traits:
                raw = traits["phone"]
                shape = "+49 " if raw.startswith("+49 ") else "+49" if raw.startswith("+") else raw[:2]
                formats[firm.true_person_of("phone", raw) or "shared"].add(shape)
    assert sum(len(shapes) >= 3 for shapes in formats.values()) > 50  # international, 0049..., national 0...


def test_stitchable_by_design_except_the_linkage_people(firm: DemoFirm, parsed: list[Event]) -> None:
    """Joining identifiers seen together (shared ones excepted) gives one component per person, mixing nobody;
    only the people linkable by name, address and birthday stay in two."""
    roots = _components(parsed, skip=set(firm.shared_identifiers))
    people = _people_per_component(firm, roots)
    assert all(len(members) == 1 for members in people.values())
    components_of = Counter(person for members in people.values() for person in members)
    assert {p for p, n in components_of.items() if n > 1} == {p.person_id for p in firm.linkage_only_people}
    assert all(components_of[p.person_id] == 2 for p in firm.linkage_only_people)
    assert set(components_of) == set(firm.people)


def test_shared_identifiers_would_merge_people_without_a_guard(firm: DemoFirm, parsed: list[Event]) -> None:
    roots = _components(parsed, skip=set())
    people = _people_per_component(firm, roots)
    assert max(len(members) for members in people.values()) >= 3


def test_shared_family_tablet_is_used_by_three_or_more_accounts(firm: DemoFirm) -> None:
    tablets = [key for key in firm.shared_identifiers if key[0] == "device_id"]
    accounts = {
        tablet: {m["userId"] for m in firm.events if m["context"].get("device", {}).get("id") == tablet}
        for _, tablet in tablets
    }
    assert tablets and all(len(users) >= 3 for users in accounts.values())
    for members in firm.households.values():
        assert len({p.address["street"] for p in members}) == 1 and len({p.user_id for p in members}) == len(members)


def test_switchboard_number_is_in_three_or_more_unrelated_records(firm: DemoFirm) -> None:
    (_, switchboard), *_ = [key for key in firm.shared_identifiers if key[0] == "phone"]
    accounts = {
        m["userId"]
        for m in firm.events
        for traits in (m.get("traits"), m["context"].get("traits"))
        if m["context"]["channel"] == "call_centre" and traits and "phone" in traits
        and normalize_phone(traits["phone"]) == switchboard
    }  # fmt: skip
    people = {firm.true_person_of("user_id", account) for account in accounts}
    assert len(people) == len(accounts) >= 3 and None not in people
    assert all(firm.people[p].household is None for p in people if p)


def test_linkage_people_share_only_name_address_and_birthday(firm: DemoFirm, parsed: list[Event]) -> None:
    linkage = firm.linkage_only_people
    assert len(linkage) >= 5
    for person in linkage:
        crm = [m for m in firm.events if m.get("anonymousId") == person.crm_id]
        account = [m for m in firm.events if m.get("userId") == person.user_id and m["type"] == "identify"]
        assert crm and account
        crm_traits = next(m["traits"] for m in crm if m["type"] == "identify")
        account_traits = next(m["traits"] for m in account if "birthday" in m["traits"])
        assert crm_traits["birthday"] == account_traits["birthday"] == person.birthday
        assert crm_traits["address"]["postal_code"] == account_traits["address"]["postal_code"]
        assert {"first_name", "last_name"} <= set(crm_traits) & set(account_traits)
        assert all("order_id" not in (m.get("properties") or {}) for m in crm)


def test_orders_have_consistent_totals(firm: DemoFirm) -> None:
    orders = [m for m in firm.events if m.get("event") == "Order Completed"]
    assert len(orders) > 10_000
    for order in orders:
        props = order["properties"]
        assert props["currency"] == "EUR" and props["products"]
        assert props["total"] == round(sum(p["price"] * p["quantity"] for p in props["products"]), 2)
        assert all({"sku", "name", "category", "price", "quantity"} <= set(p) for p in props["products"])
        assert all(firm.catalogue.item(p["sku"]).price == p["price"] for p in props["products"])
    assert len({o["properties"]["order_id"] for o in orders}) == len(orders)
    channels = Counter(o["context"]["channel"] for o in orders)
    assert set(channels) == {"web", "app", "store", "call_centre", "partner"}


def test_repeat_customers_and_monthly_medication_refills(firm: DemoFirm) -> None:
    buyers: dict[tuple[str, str], list[datetime]] = defaultdict(list)
    for m in firm.events:
        if m.get("event") == "Order Completed" and m["context"]["channel"] in ("web", "app"):
            for product in m["properties"]["products"]:
                buyers[(m["userId"], product["sku"])].append(datetime.fromisoformat(m["timestamp"]))
    repeat = sum(1 for times in buyers.values() if len(times) >= 3)
    assert repeat > 500
    gaps = [
        (b - a).days
        for (_, sku), times in buyers.items()
        if sku.endswith("-30") and sku.startswith("MED-")
        for a, b in itertools.pairwise(times)
    ]
    assert 26 <= statistics.median(gaps) <= 36  # a 30-tablet pack, personal jitter


def test_telemetry_falls_with_use_and_jumps_on_refill(firm: DemoFirm) -> None:
    series: dict[str, list[float]] = defaultdict(list)
    for m in firm.events:
        if m.get("event") == "Level Reported":
            props = m["properties"]
            assert props["sku"] in {i.sku for i in firm.catalogue.items if i.is_consumable}
            level = props.get("level_pct", props.get("units_left"))
            assert 0 <= level <= (100 if "level_pct" in props else props["capacity"])
            series[props["device_id"]].append(level / (100 if "level_pct" in props else props["capacity"]))
    assert len(series) > 500
    long = [levels for levels in series.values() if len(levels) >= 30]
    refilled = [levels for levels in long if any(b - a > 0.3 for a, b in itertools.pairwise(levels))]
    assert len(refilled) >= 0.9 * len(long)
    steps = [b - a for levels in long for a, b in itertools.pairwise(levels)]
    assert sum(s < 0 for s in steps) > 5 * sum(s > 0 for s in steps)  # mostly falling between refills
    assert any(0 < s < 0.05 for s in steps)  # sensor noise lifts some readings a little


def test_daily_doses_with_some_people_slipping(firm: DemoFirm) -> None:
    doses: dict[str, list[datetime]] = defaultdict(list)
    for m in firm.events:
        if m.get("event") == "Dose Taken":
            assert m["context"]["channel"] == "app"
            doses[m["userId"]].append(datetime.fromisoformat(m["timestamp"]))
    assert len(doses) >= 30
    longest_gap = {u: max((b - a).days for a, b in itertools.pairwise(t)) for u, t in doses.items()}
    assert sum(gap <= 3 for gap in longest_gap.values()) > len(doses) / 2  # most keep the routine
    slipped = sum(gap >= 5 for gap in longest_gap.values())
    stopped = sum((END - max(times)).days >= 20 for times in doses.values())
    assert slipped >= 3 and stopped >= 2


def test_complaints_and_a_burst_about_the_faulty_batch(firm: DemoFirm) -> None:
    complaints = [m for m in firm.events if m.get("event") in ("Complaint Filed", "Ticket Opened")]
    assert len(complaints) > 100
    assert {c["properties"]["topic"] for c in complaints} == {"late_delivery", "wrong_item", "defective", "billing"}
    assert {c["context"]["channel"] for c in complaints if c["event"] == "Complaint Filed"} >= {"call_centre"}
    assert all(isinstance(c["properties"]["text"], str) and len(c["properties"]["text"]) > 20 for c in complaints)
    incident = firm.incident
    about = [
        c for c in complaints if c["properties"]["sku"] == incident.sku and c["properties"]["topic"] == "defective"
    ]
    days = [(datetime.fromisoformat(c["timestamp"]) - firm.start).days for c in about]
    window = incident.end + 10 - incident.start  # complaints come up to ten days after the order
    inside = sum(incident.start <= d <= incident.end + 10 for d in days)
    per_day_inside, per_day_outside = inside / window, (len(days) - inside) / (365 - window)
    assert inside >= 5 and per_day_inside > 5 * per_day_outside


def test_truth_helpers_accept_raw_values(firm: DemoFirm) -> None:
    person = next(p for p in firm.people.values() if p.emails and p.phones and p.user_id)
    raw_email = f"  {person.emails[0].upper()} "
    raw_phone = "0" + person.phones[0][3:6] + " " + person.phones[0][6:]
    assert firm.true_person_of("email", raw_email) == person.person_id
    assert firm.true_person_of("phone", raw_phone) == person.person_id
    assert firm.same_person(("email", person.emails[0]), ("user_id", person.user_id))
    assert firm.true_person_of("phone", "+498007272800") is None
    assert firm.true_person_of("email", "nobody@example.com") is None


def test_identity_stories_across_channels(firm: DemoFirm) -> None:
    """Anonymous visits identified on login, store cards linked later, devices paired in the app, call-centre
    records with only a phone number, second e-mail addresses."""
    anonymous_before_login, card_used_before_link, crm_phone_only = set(), set(), 0
    identified: set[str] = set()
    first_store_use: dict[str, str] = {}
    for m in firm.events:
        context, traits = m["context"], m.get("traits") or {}
        if m["type"] == "page" and "userId" not in m and m["anonymousId"] not in identified:
            anonymous_before_login.add(m["anonymousId"])
        if m["type"] == "identify" and "userId" in m and "anonymousId" in m:
            identified.add(m["anonymousId"])
        card = (context.get("traits") or {}).get("loyalty_card") or traits.get("loyalty_card")
        if card and context["channel"] == "store":
            first_store_use.setdefault(card, m["timestamp"])
        if card and "userId" in m and card in first_store_use and first_store_use[card] < m["timestamp"]:
            card_used_before_link.add(card)
        if (
            context["channel"] == "call_centre"
            and "userId" not in m
            and set(context.get("traits") or traits) >= {"phone"}
        ):
            crm_phone_only += 1
    assert len(anonymous_before_login & identified) > 300
    assert len(card_used_before_link) > 100
    assert crm_phone_only > 500
    registered = {m["properties"]["device_id"] for m in firm.events if m.get("event") == "Device Registered"}
    reporting = {m["anonymousId"] for m in firm.events if m.get("event") == "Level Reported"}
    assert reporting and reporting <= registered
    assert sum(len(p.emails) == 2 for p in firm.people.values()) > 50
