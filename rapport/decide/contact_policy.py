"""The contact policy: one contact budget per customer across everything Rapport sends.

Nudges, offers, service notices and the notices of automatic orders all count against the same frequency caps
(per channel or for every channel, "*", per rolling window), wait out quiet hours in the customer's time zone and
go to their preferred channel first. A contact that would break the policy is deferred to the first moment it fits
or, if that is too far off, dropped, and the plan says why; a mandatory notice (one a mandate requires) is never
dropped: it waits. The fatigue cost of one more contact is what ranking weighs against a need's value.

Contacts are recorded by whoever enqueues them, at their planned send time, so two contacts planned before either
is delivered cannot take the same last slot (a decision counts its own in the transaction that logs it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import cached_property
from typing import Any, Literal, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from rapport.decide.consent import CONTACT_CHANNELS
from rapport.errors import InvalidInput

PlanStatus = Literal["now", "deferred", "dropped"]
ALL_CHANNELS = "*"
MANDATORY_HORIZON = timedelta(days=400)  # a mandatory notice always finds a slot well before this
_HOURS = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True)
class FrequencyCap:
    """At most ``limit`` contacts on ``channel`` ("*": all channels together) in any ``days``-day window."""

    channel: str
    days: int
    limit: int

    @cached_property
    def window(self) -> timedelta:  # computed once per cap (every contact plan reads it many times)
        return timedelta(days=self.days)

    def counts(self, channel: str) -> bool:
        return self.channel in (ALL_CHANNELS, channel)

    def to_dict(self) -> dict[str, Any]:
        return {"channel": self.channel, "days": self.days, "max": self.limit}

    def describe(self) -> str:
        where = "all channels" if self.channel == ALL_CHANNELS else self.channel
        return f"{self.limit} per {self.days} days on {where}"


@dataclass(frozen=True)
class ContactPolicy:
    """The caps, quiet hours, time zone and preferred channels that apply to one customer."""

    caps: tuple[FrequencyCap, ...]
    quiet_hours: tuple[time, time] | None
    timezone: str
    preferred_channels: tuple[str, ...]
    max_defer: timedelta
    customised: tuple[str, ...] = ()  # the fields the customer set themselves

    def to_dict(self) -> dict[str, Any]:
        quiet = f"{self.quiet_hours[0]:%H:%M}-{self.quiet_hours[1]:%H:%M}" if self.quiet_hours else ""
        return {
            "caps": [cap.to_dict() for cap in self.caps],
            "quiet_hours": quiet,
            "timezone": self.timezone,
            "preferred_channels": list(self.preferred_channels),
            "max_defer_hours": self.max_defer.total_seconds() / 3600,
            "customised": list(self.customised),
        }


@dataclass(frozen=True)
class ContactPlan:
    """Where and when a contact may go: now, deferred to ``send_at``, or dropped, with the reason."""

    status: PlanStatus
    channel: str | None
    send_at: datetime
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "channel": self.channel,
            "send_at": self.send_at.isoformat(),
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Contact:
    """One contact counted against the budget."""

    kind: str
    channel: str
    at: datetime
    mandatory: bool = False


class ContactStore(Protocol):
    """Where policies and the contact log are kept (rapport.store.consents)."""

    @property
    def settings(self) -> Any: ...

    def contact_policy_row(self, customer_id: str) -> dict[str, Any] | None: ...

    def contact_policy(self, customer_id: str) -> ContactPolicy: ...

    def put_contact_policy(self, customer_id: str, policy: dict[str, Any], at: datetime) -> None: ...

    def contacts_between(self, customer_id: str, start: datetime, end: datetime) -> list[Contact]: ...

    def insert_contact(self, customer_id: str, contact: Contact, key: str | None = None) -> bool: ...

    def forget_contacts(self, customer_id: str, keys: list[str]) -> int: ...


# ----- the policy in force ----------------------------------------------------------------------------------------
def policy_of(store: ContactStore, customer_id: str) -> ContactPolicy:
    """The firm's defaults with the customer's own settings over them; the time zone falls back to traits.timezone."""
    return store.contact_policy(customer_id)


def policy_from(settings: Any, own: dict[str, Any], traits_zone: str | None) -> ContactPolicy:
    """The policy from the firm's settings, the customer's own fields and the time zone in their traits."""
    caps = own.get("caps")
    timezone = own.get("timezone") or traits_zone or settings.default_timezone
    return ContactPolicy(
        caps=tuple(parse_cap(c) for c in (caps if caps is not None else settings.contact_caps)),
        quiet_hours=parse_quiet_hours(own.get("quiet_hours", settings.quiet_hours)),
        timezone=check_timezone(timezone),
        preferred_channels=tuple(own.get("preferred_channels") or settings.preferred_channels),
        max_defer=timedelta(hours=float(settings.max_defer_hours)),
        customised=tuple(sorted(own)),
    )


def contacts_window(policy: ContactPolicy, now: datetime, mandatory: bool = False) -> tuple[datetime, datetime]:
    """The stretch of the contact log that planning a contact at ``now`` must see."""
    horizon = MANDATORY_HORIZON if mandatory else policy.max_defer
    return now - widest_window(policy), now + horizon + widest_window(policy)


def set_contact_policy(store: ContactStore, customer_id: str, changes: dict[str, Any], now: datetime) -> ContactPolicy:
    """Store the customer's own caps, quiet hours, time zone or preferred channels (``None`` restores the default)."""
    known = {"caps", "quiet_hours", "timezone", "preferred_channels"}
    unknown = sorted(set(changes) - known)
    if unknown:
        raise InvalidInput(f"Contact policy fields {unknown} are unknown; use {', '.join(sorted(known))}.")
    own = dict(store.contact_policy_row(customer_id) or {})
    for name, value in changes.items():
        if value is None:
            own.pop(name, None)
        else:
            own[name] = _checked(name, value)
    store.put_contact_policy(customer_id, own, now)
    return policy_of(store, customer_id)


def _checked(name: str, value: Any) -> Any:
    if name == "caps":
        if not isinstance(value, list):
            raise InvalidInput(f"caps {value!r} must be a list like [{{'channel': '*', 'days': 7, 'max': 2}}].")
        return [parse_cap(cap).to_dict() for cap in value]
    if name == "quiet_hours":
        parse_quiet_hours(value)
        return value
    if name == "timezone":
        return check_timezone(value)
    channels = value if isinstance(value, list) else None
    if not channels or any(c not in CONTACT_CHANNELS for c in channels):
        raise InvalidInput(f"preferred_channels {value!r} must list channels among {', '.join(CONTACT_CHANNELS)}.")
    return list(dict.fromkeys(channels))


def parse_cap(value: Any) -> FrequencyCap:
    """A cap from "channel:days:max" or {"channel", "days", "max"}."""
    try:
        if isinstance(value, str):
            channel, days, limit = value.split(":")
        else:
            channel, days, limit = value["channel"], value["days"], value["max"]
        cap = FrequencyCap(str(channel), int(days), int(limit))
    except (ValueError, KeyError, TypeError):
        raise InvalidInput(f"Frequency cap {value!r} must be 'channel:days:max' or {{channel, days, max}}.") from None
    if cap.channel != ALL_CHANNELS and cap.channel not in CONTACT_CHANNELS:
        raise InvalidInput(f"Cap channel {cap.channel!r} is unknown; use '*' or one of {', '.join(CONTACT_CHANNELS)}.")
    if not 1 <= cap.days <= 366 or not 0 <= cap.limit <= 1000:
        raise InvalidInput(f"Cap {value!r}: days must be 1 to 366 and max 0 to 1000.")
    return cap


def parse_quiet_hours(value: Any) -> tuple[time, time] | None:
    """ "21:00-08:00" (may span midnight) → (start, end); "" → no quiet hours."""
    if value in ("", None):
        return None
    match = _HOURS.match(value) if isinstance(value, str) else None
    if match is None:
        raise InvalidInput(f"Quiet hours {value!r} must look like '21:00-08:00' (or '' for none).")
    start, end = time(int(match[1]), int(match[2])), time(int(match[3]), int(match[4]))
    return None if start == end else (start, end)


def check_timezone(name: Any) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise InvalidInput(f"Time zone {name!r} is unknown; use an IANA name such as 'Europe/Berlin'.") from None
    return str(name)


# ----- planning a contact -----------------------------------------------------------------------------------------
def plan_contact(
    store: ContactStore,
    customer_id: str,
    kind: str,
    channels: list[str] | tuple[str, ...],
    now: datetime,
    mandatory: bool = False,
) -> ContactPlan:
    """Where and when a ``kind`` contact may go among ``channels`` (the ones consented), under the policy.

    The channel that can go soonest wins, the customer's preferred one on ties. Not mandatory: deferred when the
    first fitting moment is within the policy's ``max_defer``, dropped otherwise. Mandatory: never dropped.
    """
    if not channels:
        raise InvalidInput(f"No channel to plan a {kind} contact on; pass the channels the customer consented to.")
    policy = policy_of(store, customer_id)
    log = store.contacts_between(customer_id, *contacts_window(policy, now, mandatory))
    return plan_with(policy, log, channels, now, mandatory)


def plan_with(
    policy: ContactPolicy, log: list[Contact], channels: list[str] | tuple[str, ...], now: datetime, mandatory: bool
) -> ContactPlan:
    """:func:`plan_contact` on a policy and a contact log already read (``log`` covers ``contacts_window``)."""
    if not channels:
        raise InvalidInput("No channel to plan a contact on; pass the channels the customer consented to.")
    horizon = MANDATORY_HORIZON if mandatory else policy.max_defer
    zone = ZoneInfo(policy.timezone)
    ranked = sorted(
        channels, key=lambda c: policy.preferred_channels.index(c) if c in policy.preferred_channels else 99
    )
    best: tuple[datetime, str, list[str]] | None = None
    alike = all(cap.channel == ALL_CHANNELS for cap in policy.caps)  # every channel gets the same slot
    for channel in ranked:
        at, why = earliest_slot(policy, log, channel, now, now + horizon, zone)
        if at is not None and (best is None or at < best[0]):
            best = (at, channel, why)
        if alike or (best is not None and best[0] == now):  # no later channel can do better
            break
    if best is None:
        reasons = _blocking(policy, log, ranked[0], now, zone)
        return ContactPlan("dropped", None, now, f"{'; '.join(reasons)}; no slot within {_hours(horizon)}")
    at, channel, why = best
    if at == now:
        return ContactPlan("now", channel, now, f"within the contact policy on {channel}")
    return ContactPlan(
        "deferred", channel, at, f"{'; '.join(why)}: deferred to {at.astimezone(zone):%Y-%m-%d %H:%M %Z}"
    )


def earliest_slot(
    policy: ContactPolicy, log: list[Contact], channel: str, start: datetime, until: datetime, zone: ZoneInfo
) -> tuple[datetime | None, list[str]]:
    """The first moment from ``start`` to ``until`` a contact on ``channel`` fits, and what pushed it later."""
    at, why = start, list[str]()
    for _ in range(500):
        if at > until:
            return None, why
        quiet_end = _quiet_end(policy.quiet_hours, at, zone)
        if quiet_end is not None:
            why.append(f"quiet hours {policy.to_dict()['quiet_hours']} ({policy.timezone})")
            at = quiet_end
            continue
        full = _full_cap(policy.caps, log, channel, at)
        if full is None:
            return at, _unique(why)
        cap, reopens = full
        why.append(f"frequency cap {cap.describe()} reached")
        at = reopens
    return None, _unique(why)


def _full_cap(
    caps: tuple[FrequencyCap, ...], log: list[Contact], channel: str, at: datetime
) -> tuple[FrequencyCap, datetime] | None:
    """The first cap that one more contact at ``at`` would break, and the next moment it might fit.

    Exact for rolling windows: the busiest window of a cap's length containing ``at`` can be slid right until it
    starts at a counted contact in (at - window, at] (or at ``at``), so only those windows need checking. A full
    cap frees up only when a counted contact leaves the window, at its time plus the window.
    """
    for cap in caps:
        if not cap.counts(channel):
            continue
        window = cap.window
        low, high = at - window, at + window
        if cap.channel == ALL_CHANNELS:
            times = [c.at for c in log if low < c.at < high]
        else:
            times = [c.at for c in log if low < c.at < high and cap.counts(c.channel)]
        if len(times) < cap.limit:  # no window can hold more than all of them: one more still fits
            continue
        starts = [t for t in times if t <= at] + [at]
        if any(sum(1 for t in times if begin <= t < begin + window) + 1 > cap.limit for begin in starts):
            return cap, min((t + window for t in times), default=at + window)
    return None


def _quiet_end(quiet: tuple[time, time] | None, at: datetime, zone: ZoneInfo) -> datetime | None:
    """When the quiet hours around ``at`` end (UTC), or None when ``at`` is outside them."""
    if quiet is None:
        return None
    start, end = quiet
    local = at.astimezone(zone)
    clock = local.time().replace(tzinfo=None)
    spans_midnight = start > end
    inside = (clock >= start or clock < end) if spans_midnight else (start <= clock < end)
    if not inside:
        return None
    day = local.date() + timedelta(days=1) if spans_midnight and clock >= start else local.date()
    return datetime.combine(day, end, tzinfo=zone).astimezone(at.tzinfo)


def _blocking(policy: ContactPolicy, log: list[Contact], channel: str, now: datetime, zone: ZoneInfo) -> list[str]:
    _, why = earliest_slot(policy, log, channel, now, now + MANDATORY_HORIZON, zone)
    return why or ["the contact policy leaves no slot"]


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _hours(span: timedelta) -> str:
    return f"{span.total_seconds() / 3600:.0f} hours"


# ----- the budget ---------------------------------------------------------------------------------------------------
def record_contact(
    store: ContactStore,
    customer_id: str,
    kind: str,
    channel: str,
    at: datetime,
    mandatory: bool = False,
    key: str | None = None,
) -> bool:
    """Count a contact (enqueued for ``at``, its planned send time) against the customer's budget.

    ``key`` is the outbox idempotency key: a retried enqueue is counted once. Returns whether it was counted now.
    """
    if at.tzinfo is None:
        raise InvalidInput(f"at={at.isoformat()} has no time zone; pass an aware UTC datetime.")
    return store.insert_contact(customer_id, Contact(kind, channel, at, mandatory), key)


def release_contacts(store: ContactStore, customer_id: str, keys: list[str]) -> int:
    """Give back the budget of queued contacts withdrawn before they went out (by outbox idempotency key)."""
    return store.forget_contacts(customer_id, keys)


def contact_cost(store: ContactStore, customer_id: str, now: datetime) -> float:
    """Fatigue in [0, 1]: how much of the tightest cap the contacts around ``now`` already use."""
    policy = policy_of(store, customer_id)
    return fatigue(
        policy, store.contacts_between(customer_id, now - widest_window(policy), now + widest_window(policy)), now
    )


def fatigue(policy: ContactPolicy, log: list[Contact], now: datetime) -> float:
    """The largest share of any cap used by contacts in its window ending at ``now`` (and those already planned)."""
    worst = 0.0
    for cap in policy.caps:
        low, high = now - cap.window, now + cap.window
        if cap.channel == ALL_CHANNELS:
            used = sum(1 for c in log if low < c.at < high)
        else:
            used = sum(1 for c in log if low < c.at < high and cap.counts(c.channel))
        worst = max(worst, 1.0 if cap.limit == 0 else min(1.0, used / cap.limit))
    return worst


def widest_window(policy: ContactPolicy) -> timedelta:
    return max((cap.window for cap in policy.caps), default=timedelta(0))
