"""The demo's linkage step: after ingestion, link the stored profiles and show the cross-division merges found.

The demo firm has people whose call-centre record and web account share no identifier (only name, address and
birthday, written differently); stitching cannot join them, linkage should, and nobody else should be merged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rapport.customers.identifiers import Identifier
from rapport.customers.linkage.proposals import link_store
from rapport.demo.firm import DemoFirm
from rapport.store.linkage import linkage_store
from rapport.store.store import Store


def linkage_report(store: Store, firm: DemoFirm, say: Callable[[str], Any] | None = None) -> dict[str, Any]:
    """Run store linkage once, score its merges against the firm's ground truth, and say what it found."""
    report = link_store(linkage_store(store))
    profiles = store.profile_identifiers()
    wrong = 0
    for merge in report.merges:
        people = {firm.true_person_of(k, v) for k, v, shared in profiles.get(merge["survivor_id"], []) if not shared}
        wrong += len(people - {None}) > 1
    joined, example = 0, None
    for person in firm.linkage_only_people:
        crm = store.customer_by_identifier(Identifier("anonymous_id", person.crm_id or ""))
        account = store.customer_by_identifier(Identifier("user_id", person.user_id or ""))
        if crm == account:
            joined += 1
            example = example or _example(store, person.name, crm, person.crm_id or "", person.user_id or "")
    if say is not None:
        say(
            f"Linkage: {joined} of {len(firm.linkage_only_people)} call-centre records joined to their web accounts "
            f"with no shared identifier; {report.merged} merges (p ≥ {report.auto_threshold}), {wrong} wrong, "
            f"{report.queued} queued for review, in {report.seconds:.1f} s"
        )
        if example:
            say(f"  e.g. {example['person']}: {example['call_centre_record']} + {example['web_account']} → "
                f"{example['customer_id']} (p = {example['match_probability']})")  # fmt: skip
    return {
        "profiles_linked": report.profiles_linked,
        "merged": report.merged,
        "queued_for_review": report.queued,
        "wrong_merges": wrong,
        "linkage_only_people": len(firm.linkage_only_people),
        "linkage_only_joined": joined,
        "auto_threshold": report.auto_threshold,
        "review_threshold": report.review_threshold,
        "seconds": report.seconds,
        "example": example,
    }


def _example(store: Store, name: str, customer_id: str, crm_id: str, user_id: str) -> dict[str, Any] | None:
    merge = next((m for m in store.merge_records(store.members(customer_id)) if m.reason == "linkage"), None)
    if merge is None:
        return None
    return {
        "person": name,
        "customer_id": customer_id,
        "call_centre_record": crm_id,
        "web_account": user_id,
        "merge_id": merge.id,
        "match_probability": merge.evidence.get("match_probability"),
        "fields": {f: v["level"] for f, v in merge.evidence.get("fields", {}).items()},
    }
