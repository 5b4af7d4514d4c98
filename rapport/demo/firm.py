"""The demo firm: a connected retailer of printers and toner, coffee machines and pods, and pharmacy refills, with a
year of its customers' messages from web, app, stores, call centre, partner marketplace and device telemetry.

Identifiers are as messy as real collectors send them (e-mails in any case with spaces, phones in national and
international formats, region DE), and the data hold deliberate traps for identity resolution: one family tablet
used by several accounts, the call centre's switchboard number typed into unrelated customers' records, and people
whose call-centre record shares no identifier with their account (only name, address and birthday). The ground
truth (who is who) comes with the messages, so stitching can be scored. Same seed, same firm.
"""

from __future__ import annotations

import gc
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

from rapport.demo.behaviour import MINUTE, Counters, Life
from rapport.demo.catalogue import Catalogue, build_catalogue
from rapport.demo.complaints import Incident
from rapport.demo.messages import IDENTIFIER_FIELDS, Emitter
from rapport.demo.people import Person, canonical_email, canonical_phone
from rapport.demo.plans import MIN_PEOPLE, SWITCHBOARD, draw_people
from rapport.errors import InvalidInput

DEFAULT_PHONE_REGION = "DE"
_KIND_ORDER = {"user_id": 0, "email": 1, "phone": 2, "loyalty_card": 3, "device_id": 4, "anonymous_id": 5}


@dataclass
class DemoFirm:
    """A generated firm: its messages (sorted by time), catalogue, and the ground truth about its people."""

    events: list[dict[str, Any]]
    catalogue: Catalogue
    people: dict[str, Person]  # person_id -> Person
    identifier_fields: dict[str, str]  # declared identifiers: message path -> kind (as in Settings)
    shared_identifiers: dict[tuple[str, str], tuple[str, ...]]  # (kind, value) -> the people who used it
    visitors: frozenset[str]  # anonymous ids of web visitors who are none of the people
    incident: Incident  # the faulty batch behind a burst of complaints
    start: datetime
    end: datetime
    seed: int
    default_phone_region: str = DEFAULT_PHONE_REGION
    _owner: dict[tuple[str, str], str] = field(default_factory=dict, repr=False)

    def true_person_of(self, kind: str, value: str) -> str | None:
        """The person an identifier belongs to; None for shared identifiers, visitors and unknown values.

        Takes values as Rapport stores them (normalised) and also raw e-mails and phone numbers."""
        found = self._owner.get((kind, value))
        if found is None and kind == "email":
            found = self._owner.get((kind, canonical_email(value)))
        elif found is None and kind == "phone":
            found = self._owner.get((kind, canonical_phone(value)))
        return found

    def same_person(self, a: tuple[str, str], b: tuple[str, str]) -> bool:
        """Do two (kind, value) identifiers belong to the same person?"""
        first = self.true_person_of(*a)
        return first is not None and first == self.true_person_of(*b)

    @property
    def linkage_only_people(self) -> list[Person]:
        """People whose call-centre record and account share no identifier (only name, address, birthday)."""
        return [p for p in self.people.values() if p.linkage_only]

    @property
    def households(self) -> dict[str, list[Person]]:
        """Families sharing one tablet: household id -> its members."""
        out: dict[str, list[Person]] = {}
        for person in self.people.values():
            if person.household:
                out.setdefault(person.household, []).append(person)
        return out


def generate_firm(customers: int = 3000, days: int = 365, seed: int = 7, end: datetime | None = None) -> DemoFirm:
    """Generate the demo firm: ``customers`` people over the ``days`` before ``end`` (default: today, 00:00 UTC).

    The same arguments give the same firm, message for message (``end`` defaults to today, so pass it to
    reproduce a firm on another day). 3,000 people over a year give about 200,000 messages in a few seconds.
    """
    paused = gc.isenabled()
    gc.disable()  # millions of small acyclic dicts: the cycle collector would take about half the time
    try:
        return _generate(customers, days, seed, end)
    finally:
        if paused:
            gc.enable()


def _generate(customers: int, days: int, seed: int, end: datetime | None) -> DemoFirm:
    if customers < MIN_PEOPLE:
        raise InvalidInput(f"customers={customers} is too few: the demo's traps need at least {MIN_PEOPLE} people.")
    if days < 30:
        raise InvalidInput(f"days={days} is too short: give at least 30 days so that habits can repeat.")
    end = _end(end)
    start = end - timedelta(days=days)
    rng = random.Random(seed)
    catalogue = build_catalogue()
    members = draw_people(rng, customers, days, catalogue)
    tablets = {plan.tablet for _, plan in members if plan.tablet}
    shared = {("device_id", tablet) for tablet in sorted(tablets)} | {("phone", SWITCHBOARD)}
    out = Emitter(start, days, random.Random(seed * 7919 + 1), shared)
    counters = Counters()
    incident_at = rng.uniform(0.55, 0.8) * days
    incident = Incident("POD-KD-LAT16", "defective", incident_at, incident_at + 21.0)
    for index, (person, plan) in enumerate(members):
        person_rng = random.Random(seed * 1_000_003 + index)
        Life(person_rng, person, plan, catalogue, days, start.weekday(), out, counters, incident).live()
    _visitors(random.Random(seed * 31 + 2), customers // 2, days, catalogue, out)
    events = out.finish()
    people: dict[str, Person] = {}
    owner: dict[tuple[str, str], str] = {}
    for person, _ in members:
        found = out.identifiers_of(person)
        person.identifiers = sorted(found, key=lambda key: _KIND_ORDER.get(key[0], 9))
        person.channels = out.channels_of(person)
        people[person.person_id] = person
        owner.update({key: person.person_id for key in person.identifiers})
    return DemoFirm(
        events=events,
        catalogue=catalogue,
        people=people,
        identifier_fields=dict(IDENTIFIER_FIELDS),
        shared_identifiers={key: tuple(sorted(users)) for key, users in sorted(out.shared_users.items())},
        visitors=frozenset(out.visitors),
        incident=incident,
        start=start,
        end=end,
        seed=seed,
        _owner=owner,
    )


def _end(end: datetime | None) -> datetime:
    if end is None:
        return datetime.combine(datetime.now(UTC).date(), time(), tzinfo=UTC)
    if end.tzinfo is None:
        raise InvalidInput(f"end={end.isoformat()} has no time zone; pass an aware datetime such as ...tzinfo=UTC.")
    return end.astimezone(UTC)


def _visitors(rng: random.Random, sessions: int, days: int, catalogue: Catalogue, out: Emitter) -> None:
    """Anonymous visitors who never become customers: a few page views each, belonging to nobody."""
    items = catalogue.items
    for _ in range(sessions):
        anonymous_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        t = rng.uniform(0, days)
        out.page(None, t, "Home", "/", anonymous_id=anonymous_id)
        for _ in range(rng.randint(0, 2)):
            item = rng.choice(items)
            t += rng.uniform(0.5, 3) * MINUTE
            out.page(None, t, item.name, f"/p/{item.sku}", anonymous_id=anonymous_id)
