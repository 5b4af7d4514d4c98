"""A small firm's messages for store linkage tests: web accounts, and call-centre records of some of the same people
that share no identifier with their account (only name, birthday and address, written differently)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from rapport.demo.people import Person, draw_identity, variant_name

START = datetime(2026, 1, 5, 9, tzinfo=UTC)


def _at(minutes: int) -> str:
    return (START + timedelta(minutes=minutes)).isoformat()


def account(person: Person, n: int, user_id: str | None = None) -> dict[str, Any]:
    traits = {"email": f"person{n}.{person.last_name.lower()}@example.com", "first_name": person.first_name,
              "last_name": person.last_name, "birthday": person.birthday, "address": dict(person.address)}  # fmt: skip
    uid = user_id or f"u{n}"
    return {"type": "identify", "messageId": f"web-{uid}", "userId": uid, "traits": traits, "timestamp": _at(n)}


def call_centre(rng: random.Random, person: Person, n: int) -> dict[str, Any]:
    first, last, address = variant_name(rng, person)
    traits = {"phone": f"030 {4_000_000 + n}", "first_name": first, "last_name": last, "birthday": person.birthday,
              "address": address}  # fmt: skip
    return {"type": "identify", "messageId": f"crm-{n}", "anonymousId": f"crm-{n}", "traits": traits,
            "timestamp": _at(10_000 + n)}  # fmt: skip


def firm_messages(people: int = 200, duplicates: int = 6, seed: int = 21) -> tuple[list[dict[str, Any]], list[Person]]:
    """Messages of ``people`` web accounts; the first ``duplicates`` also have a call-centre record."""
    rng = random.Random(seed)
    drawn = [draw_identity(rng, i) for i in range(people)]
    messages = [account(p, i) for i, p in enumerate(drawn)]
    messages += [call_centre(rng, p, i) for i, p in enumerate(drawn[:duplicates])]
    return messages, drawn
