"""Carrying out the chosen experience under consent and the contact policy: the action each one yields.

respond_to_desire → a one-click reorder of the usual item and quantity (shown when the customer is with us);
curated_offering → k options with reasons; coach_behavior → a nudge with its channel and send time;
automatic_execution → an automatic order scheduled under the customer's mandate. Each step that cannot go ahead
falls back to a more cautious experience, or to nothing now, and says why.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from rapport.decide import contact_policy
from rapport.decide.contact_policy import Contact
from rapport.decide.engine import EXPERIENCE_OF_LEVEL, DecisionStore
from rapport.errors import Conflict, RapportError
from rapport.recognize.need import Need
from rapport.repeat import contact_risk, nudges
from rapport.repeat.contact_risk import ContactRiskStore
from rapport.repeat.nudges import NudgeStore
from rapport.repeat.preferences import LEARNING_WINDOW, pending_prompts
from rapport.request.constraints import OfferConstraints
from rapport.request.offers import offer_list
from rapport.respond import automatic, mandates, reorder
from rapport.respond.automatic import AutomaticStore
from rapport.respond.outbox import action_row

if TYPE_CHECKING:
    from rapport.decide.decision import DecisionStatus
    from rapport.decide.engine import DecisionRules, _Draft
    from rapport.decide.state import CustomerState

FALLBACK_RANKER = "fallback:own-frequent-items"


class ExperienceStore(DecisionStore, AutomaticStore, NudgeStore, ContactRiskStore, Protocol):
    """What carrying out an experience needs: the decision store's reads and writes, Respond's and Repeat's."""


def carry_out(
    store: ExperienceStore, state: CustomerState, decision_id: str, draft: _Draft, now: datetime, rules: DecisionRules
) -> None:
    """Turn the chosen need into an action (or nothing now), following the customer's control level."""
    need = draft.need
    assert need is not None
    if need.kind == "issue":
        _service_first(draft, need)
        return
    category = need.category or need.item or "default"
    level, source = state.control_level(category)
    explored = None
    if level == "i_choose" and source == "learned" and not draft.situation.inbound:
        explored = nudges.explore_up(
            store, state.customer_id, category, state.control_rows, state.bandit, decision_id, now
        )
    draft.experience = EXPERIENCE_OF_LEVEL["remind_me" if explored else level]
    draft.reasons.append(f"control level for {category}: {level} ({source}) → {draft.experience}")
    if explored:
        draft.reasons.append(
            f"trying one reminder (probability {explored['propensity']:.2f}): {level} was learned, not chosen, and "
            f"the purchases expected since have not come"
        )
    step = _Step(store, state, decision_id, draft, now, rules, need)
    step.unconfirmed = (source == "firm_default" or explored is not None) and not draft.situation.inbound
    if draft.experience == "automatic_execution" and not step.automatic():
        draft.experience = "coach_behavior"
    if draft.settled:
        return
    if draft.experience == "curated_offering" and not step.curated():
        draft.experience = "respond_to_desire"
    if draft.experience == "coach_behavior":
        step.coach()
        tried = explored or step.tried
        if tried and draft.action is not None:
            draft.action["exploration"] = tried
    elif draft.experience == "respond_to_desire":
        step.respond_to_desire()


def attach_prompts(store: ExperienceStore, state: CustomerState, draft: _Draft) -> None:
    """Show with the action what learning asks the customer about this category (until they choose themselves)."""
    need = draft.need
    if draft.action is None or need is None or need.kind == "issue":
        return
    category = need.category or need.item or "default"
    if state.prompts is None:
        open_prompts = store.open_prompts(state.customer_id, category)
    else:
        open_prompts = [prompt for prompt in state.prompts if prompt.category == category]
    prompts = pending_prompts(open_prompts, state.control_rows, category)
    if prompts:
        draft.action["prompts"] = [prompt.to_dict() for prompt in prompts]
        draft.reasons.append("asks the customer: " + " | ".join(prompt.message for prompt in prompts))


def _service_first(draft: _Draft, need: Need) -> None:
    """An open complaint puts service before selling: at the call centre the agent sees it, elsewhere we hold back."""
    draft.reasons.append(f"open issue: {need.reason}")
    if draft.situation.touchpoint == "call_centre":
        draft.act({"type": "service_follow_up", "channel": "call_centre", "issue": need.to_dict()["evidence"]})
    else:
        draft.nothing("an open complaint comes first; no offers or reminders until it is resolved")


class _Step:
    """The experience's action for one decision, with the store and the time it is made at."""

    def __init__(
        self,
        store: ExperienceStore,
        state: CustomerState,
        decision_id: str,
        draft: _Draft,
        now: datetime,
        rules: DecisionRules,
        need: Need,
    ) -> None:
        self.store, self.state, self.customer_id, self.decision_id = store, state, state.customer_id, decision_id
        self.draft, self.now, self.rules, self.need = draft, now, rules, need
        self.unconfirmed = False  # outbound on a level nobody confirmed: the firm's default, or a tried reminder
        self.tried: dict[str, Any] | None = None  # a withheld reminder tried because the expected order has not come

    def consents(self, purpose: str) -> bool:
        return self.state.consents(purpose, self.now)

    # ----- automatic execution --------------------------------------------------------------------------------
    def automatic(self) -> bool:
        """Schedule an automatic order when consent, mandate, confidence and timing allow; False falls back."""
        draft, need = self.draft, self.need
        if not self.consents("automatic_execution"):
            draft.reasons.append("no automatic_execution consent: never automatic, reminding instead")
            return False
        mandate = mandates.mandate_for(self.store, self.customer_id, need.item, need.category, self.now)
        if mandate is None:
            draft.reasons.append(f"no active mandate covers {need.item or need.category}: reminding instead")
            return False
        if need.item is None:
            draft.reasons.append("the need names no item to order: reminding instead")
            return False
        if need.confidence < self.rules.automatic_min_confidence:
            draft.reasons.append(
                f"confidence {need.confidence:.2f} is below {self.rules.automatic_min_confidence} for an automatic "
                "order: reminding instead"
            )
            return False
        lead_days = mandate.lead_days + self.rules.delivery_days
        days = (need.due_at - self.now).total_seconds() / 86_400
        if days > lead_days:
            draft.nothing(
                f"the automatic order under mandate {mandate.id} is scheduled {lead_days:.1f} days before the need "
                f"is due (notice, cancel window and delivery); it is due in {days:.1f} days"
            )
            return True
        pending = automatic.pending_order(self.store, self.customer_id, mandate.id, need.item)
        if pending is not None:
            draft.nothing(f"automatic order {pending.id} is already {pending.status} for {need.item}")
            return True
        quantity = self._usual_quantity()
        reason = f"decision {self.decision_id}: {need.reason}"
        try:
            order = automatic.schedule_automatic_order(
                self.store, self.customer_id, mandate.id, need.item, quantity, self.now, reason
            )
        except RapportError as exc:  # a cap, a lapsed mandate: the customer is reminded instead
            draft.reasons.append(f"the mandate refused an automatic order ({exc}): reminding instead")
            return False
        draft.reasons.append(f"mandate {mandate.id} covers {need.item}; notice and cancel window apply before it runs")
        draft.act(
            {
                "type": "automatic_order",
                "order_id": order.id,
                "mandate_id": mandate.id,
                "sku": need.item,
                "quantity": quantity,
                "status": order.status,
            }
        )
        return True

    def _usual_quantity(self) -> int:
        usual = reorder.usual_order(self.store, self.customer_id, sku=self.need.item, category=self.need.category)
        return usual.quantity if usual is not None else 1

    # ----- curated offering -----------------------------------------------------------------------------------
    def curated(self) -> bool:
        """k options with reasons; False when personalisation is not consented or there is nothing to offer."""
        draft = self.draft
        if not self.consents("personalisation"):
            draft.reasons.append("no personalisation consent: no curated offers")
            return False
        options = self._options()
        if not options:
            draft.reasons.append(f"no options to curate for {self.need.category or self.need.item}")
            return False
        action = {"type": "curated_options", "k": len(options), "options": options}
        if self.draft.situation.inbound:
            self._show(action)
        else:
            self._contact("offer", action)
        return True

    def _options(self) -> list[dict[str, Any]]:
        """Request's curated offering for the need (stock, returns and price rules applied there); the customer's
        own frequent items only while no offer model has been trained yet."""
        rules = OfferConstraints(withheld_categories=self.state.withheld_categories(self.now))
        try:
            found = offer_list(self.store, self.customer_id, self.rules.curated_k, self.need, rules, profile=True)  # type: ignore[arg-type]
        except Conflict:
            return self._own_frequent_items()
        offers = found.offers  # the state's customer id is the profile id: not looked up again
        if offers:
            self.draft.versions["ranker"] = offers[0].model_version
        self.draft.reasons.append(
            f"options from Request's ranker ({len(offers)} fit the need and what can be delivered)"
        )
        return [{"sku": o.sku, "name": o.name, "price": o.price, "rank": o.rank, "reason": o.reason} for o in offers]

    def _own_frequent_items(self) -> list[dict[str, Any]]:
        rows = self.store.frequent_items(self.customer_id, self.need.category, self.rules.curated_k)
        self.draft.versions["ranker"] = FALLBACK_RANKER
        self.draft.reasons.append("options from the customer's own frequent items (no offer model is trained yet)")
        return [
            {"sku": row["sku"], "reason": f"you bought this {row['count']} times, last on {row['last_at']:%Y-%m-%d}"}
            for row in rows
        ]

    # ----- coach behavior -------------------------------------------------------------------------------------
    def coach(self) -> None:
        action = {"type": "nudge", "message": nudge_message(self.need, self.now), "need_reason": self.need.reason}
        if self.draft.situation.inbound:
            self._show(action)
        else:
            self._contact("nudge", action)

    # ----- respond to desire ----------------------------------------------------------------------------------
    def respond_to_desire(self) -> None:
        need, draft = self.need, self.draft
        usual = reorder.usual_order(self.store, self.customer_id, sku=need.item, category=need.category)
        if usual is None:
            draft.nothing(f"no earlier order of {need.item or need.category} to offer as a one-click reorder")
            return
        action = {"type": "one_click_reorder", **usual.to_dict()}
        if not draft.situation.inbound:
            draft.reasons.append(
                f"the one-click reorder of {usual.sku} (quantity {usual.quantity}) is ready for their next visit"
            )
            draft.nothing("the customer chose to decide themselves (i_choose): Rapport does not reach out")
            return
        self._show(action)

    # ----- delivering ----------------------------------------------------------------------------------------
    def _show(self, action: dict[str, Any]) -> None:
        """Inbound: shown in the session on the touchpoint's channel, if the need is near enough to be worth it."""
        draft = self.draft
        if draft.value < self.rules.show_threshold:
            draft.nothing(f"the need's value {draft.value:.2f} is below {self.rules.show_threshold} to show now")
            return
        channel = draft.situation.channel
        draft.reasons.append(f"shown in the {channel} session the customer opened (not a contact)")
        draft.act({**action, "channel": channel, "send_at": self.now.isoformat()})

    def _contact(self, kind: str, action: dict[str, Any]) -> None:
        """Outbound: a contact on a consented channel, worth its fatigue cost, placed by the contact policy."""
        draft, rules = self.draft, self.rules
        allowed = [c for c in rules.contact_channels if self.consents(f"contact:{c}")]
        refused = [c for c in rules.contact_channels if c not in allowed]
        if refused:
            draft.reasons.append(f"no contact consent on {', '.join(refused)}: not those channels")
        if not allowed:
            draft.nothing("no contact consent on any channel")
            return
        if self.unconfirmed and self._too_risky():
            return
        policy, log = self.state.policy, self.state.contacts
        assert policy is not None, "an outbound decision reads the contact policy with the customer's state"
        cost = contact_policy.fatigue(policy, log, self.now)
        net = draft.value - rules.fatigue_weight * cost
        if net < rules.contact_threshold:
            draft.nothing(
                f"not worth a contact: value {draft.value:.2f} minus fatigue {rules.fatigue_weight * cost:.2f} "
                f"is below {rules.contact_threshold}"
            )
            return
        choice = None
        if kind == "nudge":
            bandit = self.state.bandit if self.state.bandit is not None else self.store.nudge_bandit(self.customer_id)
            choice = nudges.choose_arm(bandit, self.customer_id, allowed, self.decision_id)
        start = nudges.send_start(choice.arm, policy.timezone, self.now) if choice else self.now
        if choice is not None:
            draft.versions["bandit"] = nudges.BANDIT_VERSION
            draft.reasons.append(
                f"the nudge bandit chose {choice.arm.nudge} on {choice.arm.channel} at {choice.arm.hour:02d}:00 "
                f"(probability {choice.propensity:.2f}) from what worked for this customer and for others"
            )
            action = {**action, "style": choice.arm.nudge}
        channels = [choice.arm.channel] if choice else allowed
        plan = contact_policy.plan_with(policy, log, channels, start, mandatory=False)
        if plan.status == "dropped":
            draft.nothing(f"the contact policy dropped the {kind}: {plan.reason}")
            return
        payload = {**action, "decision_id": self.decision_id}
        key = f"decide:{kind}:{self.customer_id}:{self.need.item or self.need.category}:{self.need.due_at:%Y-%m-%d}"
        channel = plan.channel or allowed[0]  # a plan that is not dropped always names its channel
        queued = action_row(self.customer_id, kind, channel, payload, plan.send_at, key)
        draft.actions.append(queued)  # queued in the decision's own transaction (the first one, on a repeated key)
        draft.contacts.append((Contact(kind, channel, plan.send_at), key))  # counted with the decision, atomically
        status: DecisionStatus = "act" if plan.send_at <= self.now else "deferred"
        if kind == "nudge":
            action = {**action, "arm": nudges.logged_arm(choice, channel, plan.send_at, policy.timezone)}
        if status == "deferred" and plan.status == "now":
            draft.reasons.append(f"sent on {plan.channel} at the bandit's hour, {plan.send_at.isoformat()}")
        elif status == "deferred":
            draft.reasons.append(f"deferred by the contact policy to {plan.send_at.isoformat()}: {plan.reason}")
        else:
            draft.reasons.append(f"sent on {plan.channel}: {plan.reason}")
        draft.act(
            {**action, "channel": plan.channel, "send_at": plan.send_at.isoformat(), "outbox_action_id": queued["id"]},
            status,
        )

    def _too_risky(self) -> bool:
        """A contact nobody confirmed is not sent to a customer whose refusals, or whose peers' refusals, tend to
        end in complaints (rapport.repeat.contact_risk) — unless they acted on one in this category before. Both
        are read with the customer's state when the store can (its needs' categories and items)."""
        state = self.state
        risk = state.risk if state.risk is not None else self.store.contact_risk(self.customer_id)
        if not risk.withholds_unconfirmed:
            return False
        category = self.need.category or self.need.item or "default"
        if state.turns is not None and category in (self.need.category, self.need.item):  # read with the state
            turns = state.turns.get(category, [])
        else:
            turns = self.store.category_turns(self.customer_id, category, LEARNING_WINDOW)
        if contact_risk.acted_on_contact(turns):
            return False
        if risk.own[0] == 0 and self._try_withheld(category, turns):  # never tried on someone who complained
            return False
        self.draft.nothing(
            f"no contact on a level nobody confirmed: {risk.describe()}; the customer sees it when they visit and "
            "is asked how to be helped"
        )
        return True

    def _try_withheld(self, category: str, turns: list[Any]) -> bool:
        """Whether this withheld reminder is tried: the order expected has not come, none was tried lately, and the
        decision's own draw falls under TRY_PROBABILITY (logged as the try's propensity)."""
        if contact_risk.tried_lately(turns, self.now):
            return False
        if not contact_risk.overdue(reorder.order_times(self.store, self.customer_id, category), self.now):
            return False
        bandit = self.state.bandit if self.state.bandit is not None else self.store.nudge_bandit(self.customer_id)
        if bandit.uniform(self.decision_id, self.customer_id) >= contact_risk.TRY_PROBABILITY:
            return False
        self.tried = {
            "from": "withheld",
            "to": "remind_me",
            "propensity": contact_risk.TRY_PROBABILITY,
            "policy": "try-withheld@1",
        }
        self.draft.reasons.append(
            f"trying one reminder (probability {contact_risk.TRY_PROBABILITY:.2f}) though contact risk would withhold "
            f"it: the order of {category} expected by now has not come"
        )
        return True


def nudge_message(need: Need, now: datetime) -> str:
    """A short reminder in plain words built from the need."""
    what = need.item or need.category or "your usual"
    days = (need.due_at - now).total_seconds() / 86_400
    when = f"around {need.due_at:%d %B}" if days > 1 else "about now"
    if need.kind == "depletion":
        return f"Your {what} looks likely to run out {when}. Reorder in one click?"
    if need.kind == "habit":
        return f"A gentle reminder about {what}: {need.reason}"
    return f"You usually get {what} {when}. Shall we reorder it?"
