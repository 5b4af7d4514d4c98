"""The scheduler: moves automatic orders on when their time has come, safely under several workers at once.

- **Notice.** A scheduled order's notice is planned by the contact policy as a mandatory contact (never dropped:
  quiet hours or a full budget defer it, and the order waits), queued in the outbox for its planned time and
  counted against the contact budget; the order is then "notified", to run no sooner than the notice period and
  the cancel window after the notice's send time.
- **Execution.** A notified order runs only once its notice has actually been sent (delivered to the firm's
  systems, or acknowledged by a pull channel) and the notice period and cancel window have passed since then; the
  mandate must still be active, the automatic-execution consent still in force, and both caps still hold. A notice
  that can never be sent (dead-lettered or withdrawn) cancels the order: nothing runs unannounced.
- **Never twice.** Each step is claimed with a conditional UPDATE on the order's status; the order is placed with
  the client key ``automatic:<id>``, so a worker that dies mid-step is finished by the next without a second order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from rapport.decide.consent import CONTACT_CHANNELS, has_consent
from rapport.decide.contact_policy import plan_contact, record_contact
from rapport.errors import RapportError
from rapport.respond import audit
from rapport.respond.automatic import AutomaticOrder, AutomaticStore, CapExceeded, check_caps, withdraw_notice
from rapport.respond.mandates import Mandate, get_mandate
from rapport.respond.orders import Order, OrderLine, OrderRequest, OrderStore, order_for_key, place_order
from rapport.respond.outbox import CLOSED_STATUSES, OPEN, SENT_STATUSES, enqueue_action
from rapport.respond.reorder import usual_order

STALE_CLAIM = timedelta(minutes=5)  # an "executing" claim older than this is finished by the next worker


class SchedulerStore(AutomaticStore, OrderStore, Protocol):
    def automatic_orders_due(self, status: str, column: str, before: datetime, limit: int) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class Step:
    """One step the scheduler took (or is waiting on) for one automatic order."""

    order_id: str
    customer_id: str
    step: str  # notified | notice_deferred | waiting | executed | cancelled
    at: datetime
    detail: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "order_id": self.order_id,
            "customer_id": self.customer_id,
            "step": self.step,
            "at": self.at.isoformat(),
            **self.detail,
        }


def run_due(store: SchedulerStore, now: datetime, worker: str = "scheduler", limit: int = 100) -> list[Step]:
    """Take every step that is due at ``now``: notices, executions, and executions a dead worker left unfinished."""
    steps: list[Step] = []
    for row in store.automatic_orders_due("scheduled", "notify_at", now, limit):
        steps += _notify(store, AutomaticOrder.from_row(row), now, worker)
    for row in store.automatic_orders_due("notified", "execute_after", now, limit):
        steps += _execute(store, AutomaticOrder.from_row(row), now, worker)
    for row in store.automatic_orders_due("executing", "claimed_at", now - STALE_CLAIM, limit):
        steps += _finish(store, AutomaticOrder.from_row(row), now, worker)
    return steps


# ----- the notice -----------------------------------------------------------------------------------------------
def _notify(store: SchedulerStore, order: AutomaticOrder, now: datetime, worker: str) -> list[Step]:
    mandate = get_mandate(store, order.customer_id, order.mandate_id)
    if mandate.status != "active":
        return _cancel(store, order, now, worker, ("scheduled",), f"mandate {mandate.id} is {mandate.status}")
    channels = _notice_channels(store, order.customer_id, now)
    plan = plan_contact(store, order.customer_id, "notice", channels, now, mandatory=True)
    if plan.status == "dropped" or plan.channel is None:  # the policy promises this never happens to a notice
        return [Step(order.id, order.customer_id, "waiting", now, {"reason": f"notice not placed: {plan.reason}"})]
    runs_at = plan.send_at + timedelta(hours=mandate.wait_hours)
    key = f"notice:{order.id}"
    action = enqueue_action(
        store, order.customer_id, "notice", plan.channel, _notice(order, mandate, runs_at), plan.send_at, key, now
    )
    record_contact(store, order.customer_id, "notice", plan.channel, plan.send_at, mandatory=True, key=key)
    values = {
        "status": "notified",
        "notified_at": plan.send_at,
        "execute_after": runs_at,
        "notice_action_id": action.id,
        "claimed_by": worker,
        "claimed_at": now,
    }
    step = "notified" if plan.status == "now" else "notice_deferred"
    detail = {
        "channel": plan.channel,
        "send_at": plan.send_at,
        "execute_after": runs_at,
        "policy": plan.reason,
        "notice_action_id": action.id,
    }
    entry = audit.entry(order.customer_id, now, f"scheduler:{worker}", ("automatic_order", order.id), step, **detail)
    if not store.claim_automatic_order(order.id, ["scheduled"], values, entry):
        _drop_orphan_notice(store, order, action.id, now)
        return []
    return [Step(order.id, order.customer_id, step, now, audit.plain(detail))]


def _notice_channels(store: SchedulerStore, customer_id: str, now: datetime) -> list[str]:
    """The notice channels the customer consented to; none: the first configured (the mandate asks for notice)."""
    configured = list(store.settings.notice_channels)
    consented = [
        c for c in configured if c in CONTACT_CHANNELS and has_consent(store, customer_id, f"contact:{c}", now)
    ]
    return consented or configured[:1]


def _notice(order: AutomaticOrder, mandate: Mandate, runs_at: datetime) -> dict[str, Any]:
    return {
        "type": "automatic_order_notice",
        "automatic_order_id": order.id,
        "mandate_id": mandate.id,
        "sku": order.sku,
        "quantity": order.quantity,
        "amount": order.amount,
        "currency": order.currency,
        "runs_not_before": runs_at.isoformat(),
        "cancel": f"POST /v1/customers/{order.customer_id}/automatic-orders/{order.id}/cancel",
        "message": f"We will order {order.quantity} x {order.sku} for {order.amount:.2f} {order.currency} for you "
        f"under your standing order, no sooner than {runs_at:%d %B %H:%M} UTC. You can cancel until then.",
    }


def _drop_orphan_notice(store: SchedulerStore, order: AutomaticOrder, action_id: str, now: datetime) -> None:
    """Another worker notified first (same action: nothing to do) or the customer cancelled meanwhile (withdraw)."""
    current = store.get_automatic_order(order.id)
    if current is not None and current["status"] == "cancelled" and current["notice_action_id"] is None:
        withdraw_notice(store, order.customer_id, action_id, now, current["cancel_reason"] or "order cancelled")


# ----- the execution --------------------------------------------------------------------------------------------
def _execute(store: SchedulerStore, order: AutomaticOrder, now: datetime, worker: str) -> list[Step]:
    mandate = get_mandate(store, order.customer_id, order.mandate_id)
    notice = store.get_action(order.notice_action_id) if order.notice_action_id else None
    if notice is None or notice["status"] in CLOSED_STATUSES:
        state = "missing" if notice is None else notice["status"]
        return _cancel(store, order, now, worker, ("notified",), f"its notice was never sent ({state})")
    if notice["status"] == OPEN:
        return [Step(order.id, order.customer_id, "waiting", now, {"reason": "the notice has not been sent yet"})]
    assert notice["status"] in SENT_STATUSES
    earliest = max(order.execute_after or now, notice["delivered_at"] + timedelta(hours=mandate.wait_hours))
    if now < earliest:  # the notice went out late: the windows run from when it did
        store.claim_automatic_order(order.id, ["notified"], {"execute_after": earliest})
        return [
            Step(
                order.id,
                order.customer_id,
                "waiting",
                now,
                {"reason": f"cancel window open until {earliest.isoformat()}"},
            )
        ]
    refusal = _refusal(store, order, mandate, now)
    if refusal is not None:
        return _cancel(store, order, now, worker, ("notified",), refusal)
    if not store.claim_automatic_order(
        order.id, ["notified"], {"status": "executing", "claimed_by": worker, "claimed_at": now}
    ):
        return []  # another worker took it, or the customer cancelled at this moment
    return _finish(store, order, now, worker)


def _refusal(store: SchedulerStore, order: AutomaticOrder, mandate: Mandate, now: datetime) -> str | None:
    """Why the order may not run now (mandate, consent, caps re-checked at the last moment), or None."""
    if mandate.status != "active":
        return f"mandate {mandate.id} is {mandate.status}"
    if not has_consent(store, order.customer_id, "automatic_execution", now):
        return "the automatic_execution consent is no longer in force"
    try:
        check_caps(mandate, order.amount, store.month_total(mandate.id, order.cap_month))
    except CapExceeded as exc:
        return str(exc)
    return None


def _finish(store: SchedulerStore, order: AutomaticOrder, now: datetime, worker: str) -> list[Step]:
    """Place the order (idempotent on ``automatic:<id>``) and mark the automatic order executed (or cancelled)."""
    key = f"automatic:{order.id}"
    placed = order_for_key(store, key) or _place(store, order, now, key, worker)
    if isinstance(placed, list):
        return placed
    if placed.status != "fulfilled":
        reasons = "; ".join(r for f in placed.fulfilment for r in f["reasons"])
        return _cancel(
            store, order, now, worker, ("executing",), f"order {placed.id} could not be fulfilled: {reasons}"
        )
    detail = {
        "order_id": placed.id,
        "architecture": placed.architecture,
        "total": placed.total,
        "fulfilment": placed.fulfilment[0]["reasons"],
    }
    entry = audit.entry(
        order.customer_id, now, f"scheduler:{worker}", ("automatic_order", order.id), "executed", **detail
    )
    values = {"status": "executed", "executed_at": now, "order_id": placed.id}
    if not store.claim_automatic_order(order.id, ["executing"], values, entry):
        return []
    return [Step(order.id, order.customer_id, "executed", now, detail)]


def _place(store: SchedulerStore, order: AutomaticOrder, now: datetime, key: str, worker: str) -> Order | list[Step]:
    """The order as the customer usually has it delivered and paid; a refusal cancels the automatic order."""
    usual = usual_order(store, order.customer_id, sku=order.sku)
    line = OrderLine(
        order.sku, order.quantity, order.unit_price, usual.category if usual else None, usual.name if usual else None
    )
    request = OrderRequest(
        order.customer_id,
        (line,),
        order.currency,
        usual.address_ref if usual else None,
        usual.payment_ref if usual else None,
        source="automatic",
    )
    try:
        return place_order(store, request, now, client_key=key, actor=f"scheduler:{worker}")
    except RapportError as exc:
        return _cancel(store, order, now, worker, ("executing",), f"the order could not be placed: {exc}")


def _cancel(
    store: SchedulerStore, order: AutomaticOrder, now: datetime, worker: str, statuses: tuple[str, ...], reason: str
) -> list[Step]:
    values = {"status": "cancelled", "cancelled_at": now, "cancel_reason": reason}
    entry = audit.entry(
        order.customer_id, now, f"scheduler:{worker}", ("automatic_order", order.id), "cancelled", reason=reason
    )
    if not store.claim_automatic_order(order.id, statuses, values, entry):
        return []
    return [Step(order.id, order.customer_id, "cancelled", now, {"reason": reason})]
