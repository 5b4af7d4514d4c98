"""The decision engine's store Protocols, kept in memory: the seam where Rapport's decision path runs at speed.

``decide`` (rapport.decide.engine), the experiences it carries out, consent, the contact policy, mandates,
automatic orders, the outbox and learning from outcomes all talk to storage through small Protocols
(``ExperienceStore``, ``ControlStore``, ``OutcomeLog`` with Repeat's ``RepeatStore`` and ``NudgeStore``). ``MemoryStore`` implements those Protocols over Python
dicts, so the simulator runs the very functions the API runs, without a database round trip per read. It keeps
only what a decision can read back: the contact log of the last weeks, the latest orders, the latest turns per
category (what learning reads), the decisions still awaiting their outcome, the prompts learning left and one
nudge bandit for the whole population (its per-customer counts are the customer's own); the rest (audit rows,
logged decisions) is counted.
"""

from __future__ import annotations

import zlib
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from rapport.config import Settings
from rapport.decide.consent import Consent, in_force
from rapport.decide.contact_policy import Contact, ContactPolicy, contacts_window, policy_from
from rapport.decide.control import ControlSetting
from rapport.decide.decision import Decision
from rapport.decide.outcomes import Outcome
from rapport.decide.state import CustomerState
from rapport.errors import NotFound
from rapport.recognize.need import Need
from rapport.repeat.bandit import Arm, Choice, NudgeBandit, NudgeContext
from rapport.repeat.contact_risk import ContactRisk, RiskCounts
from rapport.repeat.preferences import LEARNING_WINDOW, Prompt, Turn
from rapport.repeat.simulator.streams import CustomerStreams
from rapport.request.history import Purchases
from rapport.respond.reorder import order_lines_of

COUNTED = ("scheduled", "notified", "executing", "executed")  # what a mandate's monthly cap counts (as the SQL store)
IN_FLIGHT = ("scheduled", "notified", "executing")
CONTACT_MEMORY = timedelta(days=40)  # longer than the widest cap window: older contacts can no longer matter
# The latest orders kept per customer (the SQL store reads up to 50): a simulated customer buys one usual item per
# category, so eight orders give the same usual order and frequent items as fifty, at a sixth of the reading.
ORDERS_KEPT = 8


@dataclass(slots=True)
class CustomerRecord:
    """Everything the store holds about one simulated customer."""

    timezone: str
    needs: list[Need] = field(default_factory=list)
    control: dict[tuple[str, str], ControlSetting] = field(default_factory=dict)
    consents: list[Consent] = field(default_factory=list)
    policy: ContactPolicy | None = None
    contacts: list[tuple[Contact, str | None]] = field(default_factory=list)
    orders: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=ORDERS_KEPT))
    order_lines: deque[list[tuple[Any, ...]]] = field(default_factory=lambda: deque(maxlen=ORDERS_KEPT))
    lines: list[tuple[Any, ...]] | None = None  # every kept order's lines, newest first (None: to be joined)
    mandates: list[dict[str, Any]] = field(default_factory=list)
    automatic: list[dict[str, Any]] = field(default_factory=list)
    actions: dict[str, dict[str, Any]] = field(default_factory=dict)  # idempotency key → action, recent ones
    turns: dict[str, deque[Turn]] = field(default_factory=dict)  # category → the latest turns, newest first
    prompts: dict[str, Prompt] = field(default_factory=dict)  # prompt key → prompt
    window: tuple[ContactPolicy, timedelta, timedelta] | None = None  # the policy and its contacts_window span
    in_force: tuple[datetime, dict[str, bool]] | None = None  # the latest consent's time, what is in force after it


@dataclass(frozen=True, slots=True)
class _Subject:
    """What the store keeps of an acted decision while it collects outcomes."""

    customer_id: str
    category: str | None
    experience: str | None
    arm: str | None  # the bandit arm it logged
    at: datetime
    sku: str | None
    inbound: bool = False  # it answered the customer's own visit


class _MandateTransaction:
    def __init__(self, store: MemoryStore) -> None:
        self.store = store

    def month_total(self, mandate_id: str, cap_month: str) -> float:
        return self.store.month_total(mandate_id, cap_month)

    def pending(self, mandate_id: str, sku: str) -> dict[str, Any] | None:
        for row in self.store._orders_of_mandate(mandate_id):
            if row["sku"] == sku and row["status"] in IN_FLIGHT:
                return row
        return None

    def insert(self, row: dict[str, Any], audit: dict[str, Any]) -> None:
        record = self.store.customers[row["customer_id"]]
        record.automatic.append(row)
        self.store._automatic[row["id"]] = row
        self.store.append_audit(audit)


class _SeededBandit(NudgeBandit):
    """The nudge bandit as the simulator runs it: the same posteriors, exploration floor and propensities, with two
    differences. Each draw comes from the customer's own seeded stream (Decide seeds it from the decision id, a
    fresh uuid, so a run would not replay). And a decision reads the population's counts as of the start of the
    simulated day (``refresh``, once a day, like a nightly load), with the customer's own counts always current:
    a run sharded over processes then sees the same population counts as a run in one process."""

    def __init__(self, seed: int) -> None:
        super().__init__()
        self.rng = np.random.default_rng(seed)
        self.streams = CustomerStreams(seed, 2)
        self.exploring = CustomerStreams(seed, 3)  # the draws that explore a level (Repeat's explore_up)
        self.snapshot = np.zeros_like(self.population)  # the population's counts at the last refresh
        self._own_then: dict[str, np.ndarray] = {}  # each customer's own counts at the last refresh
        self._changed: set[str] = set()
        self._known = False  # the snapshot holds any outcome

    def update(self, customer_id: str, arm: Arm | str, reward: float) -> None:
        super().update(customer_id, arm, reward)
        self._changed.add(customer_id)

    def refresh(self, population: np.ndarray | None = None) -> None:
        """A new simulated day: the population's counts now (``population``: every shard's sum) become the
        snapshot decisions read."""
        self.snapshot = (self.population if population is None else population).copy()
        self._known = bool(self.snapshot.sum() > 0)
        for customer_id in self._changed:
            self._own_then[customer_id] = self.customers[customer_id].copy()
        self._changed.clear()

    def _others(self, customer_id: str, own: np.ndarray | None) -> np.ndarray:
        then = self._own_then.get(customer_id)
        return self.snapshot if then is None else np.clip(self.snapshot - then, 0.0, None)

    def has_data(self, customer_id: str | None = None) -> bool:
        return self._known if customer_id is None else super().has_data(customer_id)

    def choose(self, context: NudgeContext, rng: np.random.Generator) -> Choice:
        return super().choose(context, self.rng)

    def choose_at(self, context: NudgeContext, u: float) -> Choice:
        return super().choose_at(context, self.streams.random(_index(context.customer_id)))

    def uniform(self, decision_id: str, customer_id: str | None = None) -> float:
        if customer_id is None:
            return super().uniform(decision_id)
        return self.exploring.random(_index(customer_id))


class _DailyRisk(RiskCounts):
    """Contact-risk counts as the simulator reads them: the population's as of the start of the simulated day
    (like the bandit's), the customer's own always current, so a sharded run reads what a run in one does."""

    def __init__(self) -> None:
        super().__init__()
        self.snapshot = np.zeros(2)
        self._own_then: dict[str, np.ndarray] = {}
        self._changed: set[str] = set()

    def add(self, customer_id: str, complained: float) -> None:
        super().add(customer_id, complained)
        self._changed.add(customer_id)

    def refresh(self, population: np.ndarray | None = None) -> None:
        self.snapshot = (self.population if population is None else population).copy()
        for customer_id in self._changed:
            self._own_then[customer_id] = self.customers[customer_id].copy()
        self._changed.clear()

    def daily(self, customer_id: str) -> ContactRisk:
        own = self.customers.get(customer_id)
        then = self._own_then.get(customer_id)
        others = self.snapshot if then is None else np.clip(self.snapshot - then, 0.0, None)
        if own is None:
            return ContactRisk((0.0, 0.0), (float(others[0]), float(others[1])))
        return ContactRisk((float(own[0]), float(own[1])), (float(others[0]), float(others[1])))


def _index(customer_id: str) -> int:
    """The simulated customer's index ("c12" → 12); any other id, a stable number of its own."""
    digits = customer_id[1:]
    return int(digits) if customer_id[:1] == "c" and digits.isdigit() else zlib.crc32(customer_id.encode()) + (1 << 40)


class _NoOffers:
    """No offer model is trained in the simulator: the curated offering falls back to the customer's own items."""

    identity = "simulator"

    def model_version_and_purchases(self, canonical_id: str) -> tuple[str | None, Purchases]:
        return None, Purchases((), (), frozenset())

    def latest_model_version(self) -> str | None:
        return None


class MemoryStore:
    """An in-memory ExperienceStore + ControlStore + OutcomeLog for the customers of one simulation run."""

    def __init__(self, settings: Settings | None = None, seed: int = 0) -> None:
        self._settings = settings or Settings()
        self.customers: dict[str, CustomerRecord] = {}
        self._mandates: dict[str, dict[str, Any]] = {}
        self._automatic: dict[str, dict[str, Any]] = {}
        self._actions: dict[str, dict[str, Any]] = {}
        self._subjects: dict[str, _Subject] = {}  # the acted decisions still collecting outcomes
        self.bandit: _SeededBandit = _SeededBandit(
            seed
        )  # the population's counts and every customer's own, as the SQL store keeps them
        self.risk = _DailyRisk()  # contact risk's counts (rapport.repeat.contact_risk), read like the bandit's
        self._outcomes: dict[str, list[Outcome]] = {}
        self._policies: dict[str, ContactPolicy] = {}
        self._parsed: dict[int, tuple[list[dict[str, Any]], list[tuple[Any, ...]]]] = {}  # products → their lines
        self.decisions_logged = 0
        self.audit_rows = 0

    # ----- set-up ----------------------------------------------------------------------------------------------
    @property
    def settings(self) -> Settings:
        return self._settings

    @property
    def offers(self) -> _NoOffers:
        return _NoOffers()

    def add_customer(self, customer_id: str, timezone: str) -> CustomerRecord:
        record = CustomerRecord(timezone)
        policy = self._policies.get(timezone)  # the firm's default policy: one (immutable) object per time zone
        if policy is None:
            policy = self._policies[timezone] = policy_from(self._settings, {}, timezone)
        record.policy = policy
        self.customers[customer_id] = record
        return record

    def record_order(self, customer_id: str, at: datetime, products: list[dict[str, Any]]) -> None:
        """An order the customer placed (with the firm, any channel): what the usual order is read from."""
        record = self.customers[customer_id]
        event = {"timestamp": at, "properties": {"products": products}}
        record.orders.appendleft(event)
        parsed = self._parsed.get(id(products))
        if parsed is None or parsed[0] is not products:  # (the products are kept with it: the id stays theirs)
            lines = order_lines_of([event])  # parsed once, read by every usual order
            self._parsed[id(products)] = (products, lines)
        else:  # the same products again (a simulated customer's usual order): only the time differs
            lines = [type(line)(at, *line[1:]) for line in parsed[1]]
        record.order_lines.appendleft(lines)
        record.lines = None

    def set_needs(self, customer_id: str, needs: list[Need]) -> None:
        self.customers[customer_id].needs = needs

    def canonical_id(self, customer_id: str) -> str:
        if customer_id not in self.customers:
            raise NotFound(f"No simulated customer {customer_id!r}.")
        return customer_id

    # ----- what a decision reads -------------------------------------------------------------------------------
    def customer_state(self, reference: str, now: datetime, outbound: bool) -> CustomerState:
        record = self.customers.get(reference)
        if record is None:
            raise NotFound(f"No simulated customer {reference!r}.")
        state = CustomerState(
            reference, self._settings, list(record.needs), list(record.control.values()), record.consents
        )
        # What is in force changes only with a new consent record: worked out once for every moment after the latest.
        known = record.in_force
        if known is None and record.consents:
            latest = max(c.recorded_at for c in record.consents)
            known = record.in_force = (latest, in_force(record.consents, self._settings, latest))
        if known is not None and now >= known[0]:
            state._consents = known[1]
        if not record.prompts:
            state.prompts = []  # nothing was ever asked: the decision need not ask the store
        if outbound:
            state.policy = record.policy
            if record.window is None or record.window[0] is not record.policy:
                before, after = contacts_window(record.policy, now)  # type: ignore[arg-type]
                record.window = (record.policy, now - before, after - now)
            _, back, ahead = record.window  # contacts_window's span, read once per contact policy
            state.contacts = self.contacts_between(reference, now - back, now + ahead)
        return state

    def save_decision(
        self,
        decision: Decision,
        contacts: Sequence[tuple[Contact, str]] = (),
        actions: Sequence[dict[str, Any]] = (),
    ) -> None:
        """As SqlDecisionStore.save_decision: the outbox actions once per key, the decision naming the first."""
        self.decisions_logged += 1
        for row in actions:
            stored, _new = self.insert_action(row)
            action = decision.action
            if action and action.get("outbox_action_id") == row["id"]:
                action["outbox_action_id"] = stored["id"]
        if decision.status != "nothing_now":  # only an acted decision can collect an outcome
            arm = ((decision.action or {}).get("arm") or {}).get("key")
            sku = decision.need.item if decision.need is not None else None
            self._subjects[decision.id] = _Subject(
                decision.customer_id,
                decision.category,
                decision.experience,
                arm,
                decision.created_at,
                sku,
                decision.situation.inbound,
            )
        for contact, key in contacts:
            self.insert_contact(decision.customer_id, contact, key)

    def forget_decision(self, decision_id: str) -> None:
        """The simulator is done with a decision's outcomes: drop what it kept for them."""
        self._subjects.pop(decision_id, None)
        self._outcomes.pop(decision_id, None)

    def frequent_items(self, customer_id: str, category: str | None, k: int) -> list[dict[str, Any]]:
        counts: dict[str, list[Any]] = {}
        for order in self.customers[customer_id].orders:
            for product in order["properties"]["products"]:
                if category is None or product.get("category") == category:
                    found = counts.setdefault(product["sku"], [0, order["timestamp"]])
                    found[0] += 1
        ranked = sorted(counts.items(), key=lambda item: (-item[1][0], item[0]))[:k]
        return [{"sku": sku, "count": n, "last_at": last} for sku, (n, last) in ranked]

    def order_history(self, customer_id: str, limit: int) -> list[dict[str, Any]]:
        return list(self.customers[customer_id].orders)[:limit]

    def order_lines(self, customer_id: str, limit: int) -> list[tuple[Any, ...]]:
        """``rapport.respond.reorder.order_lines_of(order_history(customer_id, limit))``, kept parsed."""
        record = self.customers[customer_id]
        if limit < ORDERS_KEPT:
            return [line for lines in list(record.order_lines)[:limit] for line in lines]
        if record.lines is None:
            record.lines = [line for lines in record.order_lines for line in lines]
        return record.lines

    # ----- consents --------------------------------------------------------------------------------------------
    def consent_rows(self, customer_id: str) -> list[Consent]:
        return self.customers[customer_id].consents

    def profile_joined_at(self, customer_id: str) -> datetime | None:
        return None  # simulated customers are one record each: nothing was joined

    def insert_consent(self, consent: Consent) -> None:
        record = self.customers[consent.customer_id]
        record.consents.append(consent)
        record.in_force = None

    # ----- control levels and outcomes -------------------------------------------------------------------------
    def control_rows(self, customer_id: str) -> list[ControlSetting]:
        return list(self.customers[customer_id].control.values())

    def put_control_level(self, setting: ControlSetting) -> None:
        self.customers[setting.customer_id].control[(setting.category, setting.source)] = setting

    def delete_control_level(self, customer_id: str, category: str, source: str) -> bool:
        return self.customers[customer_id].control.pop((category, source), None) is not None

    def category_turns(self, customer_id: str, category: str, limit: int) -> list[Turn]:
        return list(self.customers[customer_id].turns.get(category, ()))[:limit]

    def decision_subject(self, decision_id: str) -> tuple[str, str | None] | None:
        found = self._subjects.get(decision_id)
        return None if found is None else (found.customer_id, found.category)

    def insert_outcome(self, outcome: Outcome) -> tuple[Outcome, bool]:
        kept = self._outcomes.setdefault(outcome.decision_id, [])
        for earlier in kept:
            if earlier.outcome == outcome.outcome:
                return earlier, False
        kept.append(outcome)
        subject = self._subjects[outcome.decision_id]
        if subject.category is not None and subject.experience is not None:
            record = self.customers[subject.customer_id]
            log = record.turns.setdefault(subject.category, deque(maxlen=LEARNING_WINDOW))
            turn = Turn(
                subject.experience,
                outcome.outcome,
                subject.sku,
                subject.at,
                outcome.decision_id,
                subject.arm,
                subject.inbound,
            )
            log.appendleft(turn)
        return outcome, True

    # ----- Repeat: the nudge bandit and the prompts ------------------------------------------------------------
    def decision_arm(self, decision_id: str) -> tuple[str | None, int]:
        found = self._subjects.get(decision_id)
        return (None, 0) if found is None else (found.arm, len(self._outcomes.get(decision_id, ())))

    def add_nudge_reward(self, customer_id: str, arm: str, reward: float, now: datetime) -> None:
        self.bandit.update(customer_id, arm, reward)

    def add_contact_refusal(self, customer_id: str, complained: float, now: datetime) -> None:
        self.risk.add(customer_id, complained)

    def contact_risk(self, customer_id: str) -> ContactRisk:
        return self.risk.daily(customer_id)

    def population_counts(self) -> np.ndarray:
        """What learning counted for the whole population (the bandit's, then contact risk's), in one array: a
        sharded run sums every shard's at the start of each simulated day and hands the sum to :meth:`refresh`."""
        return np.concatenate([self.bandit.population.ravel(), self.risk.population])

    def refresh(self, population: np.ndarray | None = None) -> None:
        """A new simulated day: decisions read the population's counts as of now (``population``: every shard's)."""
        if population is None:
            self.bandit.refresh(None)
            self.risk.refresh(None)
            return
        size = self.bandit.population.size
        self.bandit.refresh(population[:size].reshape(self.bandit.population.shape))
        self.risk.refresh(population[size:])

    def nudge_bandit(self, customer_id: str) -> NudgeBandit:
        return self.bandit  # posterior(customer) reads the population's counts and this customer's, as loaded

    def put_prompt(self, prompt: Prompt) -> tuple[Prompt, bool]:
        prompts = self.customers[prompt.customer_id].prompts
        first = prompts.get(prompt.prompt_key)
        if first is not None:
            return first, False
        prompts[prompt.prompt_key] = prompt
        return prompt, True

    def open_prompts(self, customer_id: str, category: str | None = None) -> list[Prompt]:
        found = [
            p
            for p in self.customers[customer_id].prompts.values()
            if p.status == "open" and (category is None or p.category == category)
        ]
        return sorted(found, key=lambda p: (p.created_at, p.id))

    def outcomes_of(self, decision_id: str) -> list[Outcome]:
        return list(self._outcomes.get(decision_id, ()))

    # ----- contact policy and log ------------------------------------------------------------------------------
    def contact_policy_row(self, customer_id: str) -> dict[str, Any] | None:
        return None

    def contact_policy(self, customer_id: str) -> ContactPolicy:
        policy = self.customers[customer_id].policy
        assert policy is not None
        return policy

    def put_contact_policy(self, customer_id: str, policy: dict[str, Any], at: datetime) -> None:
        record = self.customers[customer_id]
        record.policy = policy_from(self._settings, policy, record.timezone)

    def contacts_between(self, customer_id: str, start: datetime, end: datetime) -> list[Contact]:
        return [c for c, _ in self.customers[customer_id].contacts if start <= c.at <= end]

    def insert_contact(self, customer_id: str, contact: Contact, key: str | None = None) -> bool:
        record = self.customers[customer_id]
        if key is not None and any(k == key for _, k in record.contacts):
            return False
        horizon = contact.at - CONTACT_MEMORY
        record.contacts = [(c, k) for c, k in record.contacts if c.at >= horizon]
        record.contacts.append((contact, key))
        return True

    def forget_contacts(self, customer_id: str, keys: list[str]) -> int:
        record = self.customers[customer_id]
        before = len(record.contacts)
        record.contacts = [(c, k) for c, k in record.contacts if k not in keys]
        return before - len(record.contacts)

    # ----- audit -----------------------------------------------------------------------------------------------
    def append_audit(self, row: dict[str, Any]) -> None:
        self.audit_rows += 1

    def audit_of(self, customer_id: str, limit: int) -> list[dict[str, Any]]:
        return []

    # ----- mandates --------------------------------------------------------------------------------------------
    def insert_mandate(self, row: dict[str, Any], audit: dict[str, Any] | None = None) -> tuple[dict[str, Any], bool]:
        stored = dict(row)
        self._mandates[stored["id"]] = stored
        self.customers[stored["customer_id"]].mandates.append(stored)
        if audit is not None:
            self.append_audit(audit)
        return stored, True

    def get_mandate(self, mandate_id: str) -> dict[str, Any] | None:
        return self._mandates.get(mandate_id)

    def mandates_of(self, customer_id: str, status: str | None = None) -> list[dict[str, Any]]:
        return [m for m in self.customers[customer_id].mandates if status is None or m["status"] == status]

    def claim_mandate(
        self, mandate_id: str, statuses: Any, values: dict[str, Any], audit: dict[str, Any] | None = None
    ) -> bool:
        return self._claim(self._mandates.get(mandate_id), statuses, values, audit)

    # ----- automatic orders ------------------------------------------------------------------------------------
    @contextmanager
    def mandate_transaction(self, mandate_id: str) -> Iterator[_MandateTransaction]:
        yield _MandateTransaction(self)  # one thread per store: nothing races for the mandate

    def _orders_of_mandate(self, mandate_id: str) -> list[dict[str, Any]]:
        customer_id = self._mandates[mandate_id]["customer_id"]
        return [row for row in self.customers[customer_id].automatic if row["mandate_id"] == mandate_id]

    def month_total(self, mandate_id: str, cap_month: str) -> float:
        return float(
            sum(
                row["amount"]
                for row in self._orders_of_mandate(mandate_id)
                if row["cap_month"] == cap_month and row["status"] in COUNTED
            )
        )

    def get_automatic_order(self, order_id: str) -> dict[str, Any] | None:
        row = self._automatic.get(order_id)
        return None if row is None else {**_AUTOMATIC_DEFAULTS, **row}

    def automatic_orders_of(
        self, customer_id: str, statuses: Any = None, mandate_id: str | None = None
    ) -> list[dict[str, Any]]:
        return [
            {**_AUTOMATIC_DEFAULTS, **row}
            for row in self.customers[customer_id].automatic
            if (statuses is None or row["status"] in statuses)
            and (mandate_id is None or row["mandate_id"] == mandate_id)
        ]

    def claim_automatic_order(
        self, order_id: str, statuses: Any, values: dict[str, Any], audit: dict[str, Any] | None = None
    ) -> bool:
        return self._claim(self._automatic.get(order_id), statuses, values, audit)

    def drop_settled_orders(self, customer_id: str) -> None:
        """Executed and cancelled orders older than this month no longer count against any cap: let them go."""
        record = self.customers[customer_id]
        keep = []
        for row in record.automatic:
            if row["status"] in IN_FLIGHT or len(keep) < 4:
                keep.append(row)
            else:
                self._automatic.pop(row["id"], None)
        record.automatic = keep

    # ----- the outbox ------------------------------------------------------------------------------------------
    def insert_action(self, row: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        record = self.customers[row["customer_id"]]
        first = record.actions.get(row["idempotency_key"])
        if first is not None:
            return first, False
        horizon = row["send_at"] - CONTACT_MEMORY
        for key, old in list(record.actions.items()):  # settled actions weeks old can no longer be replayed
            if old["status"] != "pending" and old["send_at"] < horizon:
                del record.actions[key]
                self._actions.pop(old["id"], None)
        stored = dict(row)
        self._actions[stored["id"]] = stored
        record.actions[stored["idempotency_key"]] = stored
        return stored, True

    def get_action(self, action_id: str) -> dict[str, Any] | None:
        return self._actions.get(action_id)

    def actions_of(
        self, customer_id: str, statuses: Iterable[str], channels: Iterable[str] | None = None
    ) -> list[dict[str, Any]]:
        wanted, on = set(statuses), None if channels is None else set(channels)
        return [
            row
            for row in self.customers[customer_id].actions.values()
            if row["status"] in wanted and (on is None or row["channel"] in on)
        ]

    def claim_action(
        self, action_id: str, statuses: Iterable[str], values: dict[str, Any], audit: dict[str, Any] | None = None
    ) -> bool:
        return self._claim(self._actions.get(action_id), statuses, values, audit)

    # ----- shared ------------------------------------------------------------------------------------------------
    def _claim(
        self, row: dict[str, Any] | None, statuses: Any, values: dict[str, Any], audit: dict[str, Any] | None
    ) -> bool:
        """The conditional update of the SQL store: change ``row`` only while its status is one of ``statuses``."""
        if row is None or row["status"] not in statuses:
            return False
        row.update(values)
        if audit is not None:
            self.append_audit(audit)
        return True


_AUTOMATIC_DEFAULTS: dict[str, Any] = {
    "notified_at": None,
    "execute_after": None,
    "executed_at": None,
    "cancelled_at": None,
    "cancel_reason": None,
    "notice_action_id": None,
    "order_id": None,
}
