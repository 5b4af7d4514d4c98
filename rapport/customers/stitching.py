"""Deterministic stitching: identifiers seen together name one customer.

A profile is a tree of customer records joined by merges; its root's id is the customer's id. Events and
identifiers stay with the record that first received them, so a merge and its undo only re-point records.

Guards against over-merging:
- *Kind limits* (``kind_limits``: one user id, two e-mails, two phones by default): a merge that would give one
  customer more values of a kind is refused; only an explicit ``alias`` joins them anyway.
- *Shared identifiers*: an identifier seen with more distinct customers that could not be merged than
  ``max_customers_per_identifier`` (a family tablet, a switchboard number) stops joining, and the merges that
  rested on it alone are undone.
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Iterable
from datetime import datetime

from rapport.config import Settings
from rapport.customers.events import Event
from rapport.customers.identifiers import ANONYMOUS_ID, EMAIL, PHONE, USER_ID, Identifier
from rapport.customers.ports import IdentityTransaction, MergeRecord, StitchWrites

_SEQUENCE = itertools.count()


def new_customer_id() -> str:
    """A customer id that sorts by creation time (then creation order), so the oldest record of a merge survives."""
    # random's module-level generator is reseeded in forked children, so workers never share its sequence
    return f"c{int(time.time() * 1000):011x}{next(_SEQUENCE) % 0x10000:04x}{random.getrandbits(24):06x}"


class BatchStitcher:
    """Resolves the events of one batch to customer records, inside the store's write lock."""

    def __init__(self, tx: IdentityTransaction, settings: Settings, now: datetime):
        self.tx = tx
        self.settings = settings
        self.now = now
        self.owner: dict[Identifier, str] = {}
        self.shared: set[Identifier] = set()
        self.writes = StitchWrites()
        self.written = 0  # events written so far, including flushes forced mid-batch
        self._canon: dict[str, str] = {}
        self._moved: dict[str, str] = {}
        self._anchors: dict[str, set[Identifier]] = {}
        self._rank = {USER_ID: 0, EMAIL: 2, PHONE: 3, ANONYMOUS_ID: 9}
        for kind, limit in settings.kind_limits.items():
            if limit == 1:
                self._rank.setdefault(kind, 1)

    # ----- lookups -------------------------------------------------------------------------------------------
    def preload(self, events: Iterable[Event]) -> None:
        """Read every identifier of the batch, then the profiles of the events that may join or grow one.

        An event whose identifiers all name one stored record, none of them shared (most events of a running
        firm: a track or page call under a known id), needs neither its profile's root nor its limited
        identifiers: ``resolve`` returns that record. Only the other events' records are read, in two queries;
        anything a resolution needs beyond them is still read when it is needed.
        """
        batch = list(events)
        wanted: set[Identifier] = set()
        for event in batch:
            wanted.update(event.identifiers)
            if event.type == "alias":
                wanted.update(_alias_candidates(event))
        records = self.tx.lookup_identifiers(wanted)
        for identifier, record in records.items():
            self.owner[identifier] = record.customer_id
            if record.shared:
                self.shared.add(identifier)
        involved: set[str] = set()
        for event in batch:
            if event.type != "alias" and self._one_record(event.identifiers) is not None:
                continue
            involved.update(self.owner[i] for i in [*event.identifiers, *_alias_candidates(event)] if i in self.owner)
        if not involved:
            return
        self._load_canon(involved)
        canonicals = {self.canonical(c) for c in involved}
        found = self.tx.unique_identifiers(canonicals, tuple(self.settings.kind_limits))
        for canonical in canonicals:
            self._anchors[canonical] = set(found.get(canonical, set()))

    def _one_record(self, identifiers: list[Identifier]) -> str | None:
        """The record every one of these identifiers names, when they all name the same one and none is shared."""
        owner, shared = self.owner, self.shared
        found: str | None = None
        for identifier in identifiers:
            record = owner.get(identifier)
            if record is None or identifier in shared or (found is not None and record != found):
                return None
            found = record
        return found

    def _load_canon(self, customer_ids: set[str]) -> None:
        missing = [c for c in customer_ids if c not in self._canon]
        if missing:
            for customer_id, canonical in self.tx.canonical_of(missing).items():
                self._canon[customer_id] = self._follow(canonical)
                self._canon.setdefault(canonical, canonical)  # a profile's root is its own canonical

    def _follow(self, canonical: str) -> str:
        while canonical in self._moved:
            canonical = self._moved[canonical]
        return canonical

    def canonical(self, customer_id: str) -> str:
        if customer_id not in self._canon:
            self._load_canon({customer_id})
        return self._follow(self._canon.get(customer_id, customer_id))

    def anchors(self, canonical: str) -> set[Identifier]:
        if canonical not in self._anchors:
            found = self.tx.unique_identifiers([canonical], tuple(self.settings.kind_limits))
            self._anchors[canonical] = set(found.get(canonical, set()))
        return self._anchors[canonical]

    def rank(self, identifier: Identifier) -> int:
        return self._rank.get(identifier[0], 5)

    # ----- resolution ----------------------------------------------------------------------------------------
    def resolve(self, event: Event) -> str:
        """The customer record this event belongs to; attaches new identifiers and merges profiles.

        When the event's strongest identifier is new, it starts a record of its own that then merges (recorded,
        with evidence, undoable) into the profiles its other identifiers name. When it is known, weaker new
        identifiers join that record directly: they are the person's own data under a known id.
        """
        if event.type == "alias":
            return self._resolve_alias(event)
        same = self._one_record(event.identifiers)
        if same is not None:  # known identifiers of one record: nothing to attach, nothing to merge
            return same
        ordered = sorted(event.identifiers, key=self.rank)
        if not any(i in self.owner for i in ordered):  # a new person (most messages of a growing store): no merge
            return self._attach(ordered, self._new_customer(event.timestamp))
        known = [i for i in ordered if i in self.owner and i not in self.shared]
        new = [i for i in ordered if i not in self.owner]
        if not known and not new:
            # Only shared identifiers: the events stay with the record that first held them, joining nobody.
            return self.owner[ordered[0]]
        if new and (not known or self.rank(new[0]) < self.rank(known[0])):
            target = self._attach(new, self._new_customer(event.timestamp))
        else:
            target = self._attach(new, self.owner[known[0]])
            self.writes.unshared.add(known[0])
        for other_canon, its_ids in self._groups(known).items():
            target_canon = self.canonical(target)
            if self.canonical(other_canon) == target_canon:
                continue
            mine = [
                i
                for i in ordered
                if i in self.owner and i not in self.shared and self.canonical(self.owner[i]) == target_canon
            ]
            if self._over_limit(self.anchors(target_canon) | self.anchors(other_canon)):
                self._refuse(target_canon, mine, other_canon, its_ids, event)
                continue
            self._merge(target_canon, other_canon, "stitch", mine, its_ids, event)
        return target

    def _resolve_alias(self, event: Event) -> str:
        user = Identifier(USER_ID, event.user_id or "")
        previous = [i for i in _alias_candidates(event) if i in self.owner and i not in self.shared]
        if user not in self.owner:
            target = self.owner[previous[0]] if previous else self._new_customer(event.timestamp)
            self._attach([user], target)
        target = self.owner[user]
        if not previous:
            return self._attach([Identifier(ANONYMOUS_ID, event.previous_id or "")], target)
        for identifier in previous:
            a, b = self.canonical(target), self.canonical(self.owner[identifier])
            if a != b:
                self._merge(a, b, "alias", [user], [identifier], event)
        return target

    def _groups(self, known: list[Identifier]) -> dict[str, list[Identifier]]:
        groups: dict[str, list[Identifier]] = {}
        for identifier in known:
            groups.setdefault(self.canonical(self.owner[identifier]), []).append(identifier)
        return groups

    def _over_limit(self, identifiers: set[Identifier]) -> bool:
        """Would one customer hold more values of a kind than ``kind_limits`` allows?"""
        per_kind: dict[str, int] = {}
        for identifier in identifiers:
            per_kind[identifier.kind] = per_kind.get(identifier.kind, 0) + 1
        return any(count > self.settings.kind_limits.get(kind, count) for kind, count in per_kind.items())

    def _new_customer(self, at: datetime) -> str:
        customer_id = new_customer_id()
        self.writes.new_customers.append((customer_id, at))
        self._canon[customer_id] = customer_id
        self._anchors[customer_id] = set()
        return customer_id

    def _attach(self, identifiers: list[Identifier], customer_id: str) -> str:
        owner, written, limited, now = self.owner, self.writes.new_identifiers, self.settings.kind_limits, self.now
        anchors: set[Identifier] | None = None
        for identifier in identifiers:
            if identifier in owner:
                continue
            owner[identifier] = customer_id
            written.append((identifier, customer_id, now))
            if identifier[0] in limited:
                if anchors is None:
                    anchors = self.anchors(self.canonical(customer_id))
                anchors.add(identifier)
        return customer_id

    def _merge(
        self, a: str, b: str, reason: str, a_ids: list[Identifier], b_ids: list[Identifier], event: Event
    ) -> None:
        survivor, merged = (a, b) if a <= b else (b, a)
        s_ids, m_ids = (a_ids, b_ids) if survivor == a else (b_ids, a_ids)
        self._moved[merged] = survivor
        self.writes.canonical_moves.append((merged, survivor))
        self.writes.unshared.update(a_ids)
        self.writes.unshared.update(b_ids)
        self.anchors(survivor).update(self.anchors(merged))
        evidence = {
            "message_id": event.message_id,
            "survivor": [i.as_dict() for i in s_ids],
            "merged": [i.as_dict() for i in m_ids],
        }
        self.writes.merges.append(MergeRecord(survivor, merged, "applied", reason, evidence, self.now))

    def _refuse(
        self, canon: str, mine: list[Identifier], other_canon: str, its_ids: list[Identifier], event: Event
    ) -> None:
        """Record why two profiles were kept apart, and count the bridge toward the shared limit."""
        bridge = [i for i in [*mine, *its_ids] if i in self.owner and self.settings.kind_limits.get(i.kind) != 1]
        for identifier in bridge:
            self.writes.sightings.add((identifier, canon))
            self.writes.sightings.add((identifier, other_canon))
        evidence = {
            "message_id": event.message_id,
            "why": "the merged profile would exceed a kind limit (" + _kinds(self.settings.kind_limits) + ")",
            "survivor": [i.as_dict() for i in mine],
            "merged": [i.as_dict() for i in its_ids],
        }
        self.writes.merges.append(MergeRecord(canon, other_canon, "refused", "stitch", evidence, self.now))
        self._check_shared(bridge)

    def _check_shared(self, candidates: list[Identifier]) -> None:
        """Identifiers seen with too many separate customers stop joining; merges that needed them are undone."""
        if not candidates:
            return
        stored = self.tx.sightings(candidates)
        over: list[Identifier] = []
        for identifier in candidates:
            seen = set(stored.get(identifier, set()))
            seen.update(c for i, c in self.writes.sightings if i == identifier)
            seen.add(self.owner[identifier])
            if len({self.canonical(c) for c in seen}) > self.settings.max_customers_per_identifier:
                over.append(identifier)
        if over:
            self._share(over)

    def _share(self, identifiers: list[Identifier]) -> None:
        self.flush()
        for identifier in identifiers:
            self.tx.mark_shared(identifier)
            self.shared.add(identifier)
        for identifier in identifiers:
            for merge in self.tx.applied_merges_citing(identifier):
                if not _still_bridged(merge, self.shared) and merge.id is not None:
                    self.tx.undo_merge(merge.id, f"{identifier.kind} {identifier.value} is shared", self.now)
        self._canon.clear()
        self._moved.clear()
        self._anchors.clear()

    def flush(self) -> int:
        """Write what the batch has resolved so far."""
        written = self.tx.write(self.writes)
        self.writes = StitchWrites()
        self.written += written
        return written


def _kinds(limits: dict[str, int]) -> str:
    return ", ".join(f"{kind} {limit}" for kind, limit in sorted(limits.items()))


def _alias_candidates(event: Event) -> list[Identifier]:
    if event.type != "alias" or not event.previous_id:
        return []
    return [Identifier(USER_ID, event.previous_id), Identifier(ANONYMOUS_ID, event.previous_id)]


def _still_bridged(merge: MergeRecord, shared: set[Identifier]) -> bool:
    sides = []
    for side in ("survivor", "merged"):
        ids = {Identifier(d["kind"], d["value"]) for d in merge.evidence.get(side, [])}
        sides.append(ids - shared)
    return all(sides)
