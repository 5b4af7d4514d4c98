"""Segment tracking-spec messages of the demo firm, as its collectors would send them, and the ground truth of
which person each identifier in them belongs to.

Messages are built with a float time (days since the window's start) and get their ISO timestamp and a seeded
UUID messageId once sorted, so the output depends on the seed only.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

from rapport.demo.people import Person, canonical_email, canonical_phone

LIBRARIES = {
    "web": "analytics.js",
    "store": "pos-connector",
    "call_centre": "crm-connector",
    "device": "device-cloud",
    "partner": "marketplace-feed",
}
APP_LIBRARIES = ("analytics-ios", "analytics-android")
# Where identifiers stand in a message, as the firm declares them (path -> kind), beside userId, anonymousId,
# traits.email and traits.phone which every Segment source carries.
IDENTIFIER_FIELDS = {"traits.loyalty_card": "loyalty_card", "context.device.id": "device_id"}


class Emitter:
    """Collects one firm's messages and records, per person, the identifiers their messages carry."""

    def __init__(self, start: datetime, days: int, rng: random.Random, shared: set[tuple[str, str]]):
        self.start_s = start.timestamp()
        self.days = days
        self.rng = rng
        self.shared = shared  # identifiers deliberately used by several people: never one person's
        self.shared_users: dict[tuple[str, str], set[str]] = {key: set() for key in shared}
        self.visitors: set[str] = set()  # anonymous ids of visitors who are none of the people
        self._pending: list[tuple[float, int, dict[str, Any]]] = []
        self._seen: dict[str, dict[tuple[str, str], None]] = {}
        self._channels: dict[str, dict[str, None]] = {}

    # ----- message kinds -------------------------------------------------------------------------------------
    def identify(self, who: Person | None, t: float, channel: str, traits: dict[str, Any], **ids: Any) -> None:
        self._emit(who, t, {"type": "identify", "traits": traits}, channel, **ids)

    def track(
        self,
        who: Person | None,
        t: float,
        channel: str,
        event: str,
        properties: dict[str, Any],
        context_traits: dict[str, Any] | None = None,
        **ids: Any,
    ) -> None:
        self._emit(who, t, {"type": "track", "event": event, "properties": properties}, channel, context_traits, **ids)

    def page(self, who: Person | None, t: float, name: str, path: str, **ids: Any) -> None:
        props = {"path": path, "url": f"https://shop.rapport.example{path}", "title": f"{name} | Rapport Demo Shop"}
        self._emit(who, t, {"type": "page", "name": name, "properties": props}, "web", **ids)

    def screen(self, who: Person, t: float, name: str, **ids: Any) -> None:
        self._emit(who, t, {"type": "screen", "name": name, "properties": {}}, "app", **ids)

    def alias(self, who: Person, t: float, channel: str, previous_id: str, user_id: str) -> None:
        self._emit(who, t, {"type": "alias", "previousId": previous_id}, channel, user_id=user_id)

    def group(self, who: Person, t: float, channel: str, group_id: str, traits: dict[str, Any], **ids: Any) -> None:
        self._emit(who, t, {"type": "group", "groupId": group_id, "traits": traits}, channel, **ids)

    # ----- assembly ------------------------------------------------------------------------------------------
    def _emit(
        self,
        who: Person | None,
        t: float,
        message: dict[str, Any],
        channel: str,
        context_traits: dict[str, Any] | None = None,
        user_id: str | None = None,
        anonymous_id: str | None = None,
        device_id: str | None = None,
        library: str | None = None,
    ) -> None:
        if t >= self.days:  # after the window's end (a ticket resolved later): not yet happened
            return
        context: dict[str, Any] = {"channel": channel, "library": {"name": library or LIBRARIES[channel]}}
        if device_id is not None:
            context["device"] = {"id": device_id}
        if context_traits:
            context["traits"] = context_traits
        if user_id is not None:
            message["userId"] = user_id
        if anonymous_id is not None:
            message["anonymousId"] = anonymous_id
        message["context"] = context
        self._pending.append((t if t > 0.0 else 0.0, len(self._pending), message))
        if who is None:
            if anonymous_id is not None and channel != "device":
                self.visitors.add(anonymous_id)
            return
        key = who.person_id
        seen = self._seen.get(key)
        if seen is None:
            seen = self._seen[key] = {}
            self._channels[key] = {}
        self._channels[key][channel] = None
        if user_id is not None:
            seen[("user_id", user_id)] = None
        if anonymous_id is not None:
            seen[("anonymous_id", anonymous_id)] = None
        found = _trait_identifiers(message.get("traits"), context_traits)
        if device_id is not None:
            found.append(("device_id", device_id))
        if "previousId" in message:
            found.append(("anonymous_id", message["previousId"]))
        for identifier in found:
            if identifier in self.shared:
                self.shared_users[identifier].add(key)
            else:
                seen[identifier] = None

    def identifiers_of(self, person: Person) -> list[tuple[str, str]]:
        return list(self._seen.get(person.person_id, {}))

    def channels_of(self, person: Person) -> tuple[str, ...]:
        return tuple(sorted(self._channels.get(person.person_id, {})))

    def finish(self) -> list[dict[str, Any]]:
        """The messages in time order, each with its timestamp and a seeded UUID (version 4) messageId."""
        self._pending.sort(key=lambda entry: (entry[0], entry[1]))
        getrandbits = self.rng.getrandbits
        start_ms = round(self.start_s * 1000)
        day_prefix: dict[int, str] = {}
        events = []
        for t, _, message in self._pending:
            ms = start_ms + int(t * 86_400_000)
            day, ms_of_day = divmod(ms, 86_400_000)
            prefix = day_prefix.get(day)
            if prefix is None:
                prefix = day_prefix[day] = datetime.fromtimestamp(day * 86400, UTC).strftime("%Y-%m-%dT")
            seconds, milli = divmod(ms_of_day, 1000)
            minutes, second = divmod(seconds, 60)
            hour, minute = divmod(minutes, 60)
            message["timestamp"] = f"{prefix}{hour:02d}:{minute:02d}:{second:02d}.{milli:03d}Z"
            bits = getrandbits(128)
            h = f"{bits:032x}"
            variant = "89ab"[(bits >> 62) & 3]
            message["messageId"] = f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{variant}{h[17:20]}-{h[20:]}"
            events.append(message)
        self._pending = []
        return events


def _trait_identifiers(*where: dict[str, Any] | None) -> list[tuple[str, str]]:
    """The (kind, canonical value) pairs in traits (of the message or its context), as Rapport's stitching reads them."""
    found = []
    for traits in where:
        if traits:
            if "email" in traits:
                found.append(("email", canonical_email(traits["email"])))
            if "phone" in traits:
                found.append(("phone", canonical_phone(traits["phone"])))
            if "loyalty_card" in traits:
                found.append(("loyalty_card", traits["loyalty_card"]))
    return found
