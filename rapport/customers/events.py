"""Events in the Segment / RudderStack tracking spec: parsing, validation and the identifiers they carry."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from rapport.config import Settings
from rapport.customers.identifiers import ANONYMOUS_ID, EMAIL, PHONE, USER_ID, Identifier, normalize
from rapport.errors import InvalidInput

EVENT_TYPES = ("identify", "track", "page", "screen", "alias", "group")
_MAX_ID = 256
_LIBRARY_CHANNELS = {"analytics.js": "web", "analytics-ios": "app", "analytics-android": "app"}


class InvalidEvent(InvalidInput):
    """A message that breaks the tracking spec; ``errors`` names each field and the reason."""

    def __init__(self, errors: list[dict[str, str]]):
        self.errors = errors
        super().__init__("; ".join(f"{e['field']}: {e['reason']}" for e in errors))


@dataclass(slots=True)
class Event:
    """One validated message, with its identifiers normalised."""

    message_id: str
    type: str
    timestamp: datetime
    channel: str
    source: str
    user_id: str | None = None
    anonymous_id: str | None = None
    name: str | None = None
    properties: dict[str, Any] | None = None
    traits: dict[str, Any] | None = None
    context: dict[str, Any] | None = None
    identifiers: list[Identifier] = field(default_factory=list)
    # alias: the earlier id that now names the same person (a user id or an anonymous id)
    previous_id: str | None = None


def parse_event(raw: Any, settings: Settings, default_type: str | None = None, source: str | None = None) -> Event:
    """Validate one message and extract its identifiers; raise InvalidEvent naming every bad field."""
    if type(raw) is dict:
        common = _parse_common(raw, settings, default_type, source)
        if common is not None:
            return common
    return _parse_any(raw, settings, default_type, source)


def _parse_any(raw: Any, settings: Settings, default_type: str | None, source: str | None) -> Event:
    """Every check of the spec, each failure collected with its field: what decides whether a message is valid."""
    if isinstance(raw, str):  # a row a file reader could not read, described
        raise InvalidEvent([{"field": "(row)", "reason": raw}])
    if not isinstance(raw, dict):
        raise InvalidEvent([{"field": "(event)", "reason": f"must be a JSON object, got {type(raw).__name__}"}])
    errors: list[dict[str, str]] = []
    etype = raw.get("type", default_type)
    if default_type is not None and etype != default_type:
        errors.append({"field": "type", "reason": f"this endpoint takes {default_type!r} events, got {etype!r}"})
    elif etype not in EVENT_TYPES:
        errors.append({"field": "type", "reason": f"must be one of {', '.join(EVENT_TYPES)}; got {etype!r}"})
    user_id = _optional_id(raw, "userId", errors)
    anonymous_id = _optional_id(raw, "anonymousId", errors)
    previous_id = _optional_id(raw, "previousId", errors)
    if etype == "alias":
        if not previous_id or not user_id:
            errors.append({"field": "previousId", "reason": "alias needs both previousId and userId"})
    elif not user_id and not anonymous_id:
        errors.append({"field": "userId", "reason": "one of userId or anonymousId is required"})
    name = _event_name(raw, etype, errors)
    properties = _optional_object(raw, "properties", errors)
    traits = _optional_object(raw, "traits", errors)
    context = _optional_object(raw, "context", errors)
    if context is not None and context.get("traits") is not None and not isinstance(context.get("traits"), dict):
        errors.append({"field": "context.traits", "reason": "must be an object"})
    timestamp = _timestamp(raw, errors)
    message_id = raw.get("messageId")
    if message_id is not None and (not isinstance(message_id, str) or not message_id or len(message_id) > 200):
        errors.append({"field": "messageId", "reason": "must be a non-empty string of at most 200 characters"})
    identifiers = [] if errors else _identifiers(raw, user_id, anonymous_id, settings, errors)
    if errors:
        raise InvalidEvent(errors)
    return Event(  # positional: a keyword call costs a microsecond more per message
        message_id or _content_id(raw),
        str(etype),
        timestamp,
        _channel(raw, context),
        _source(context, source),
        user_id,
        anonymous_id,
        name,
        properties,
        traits,
        context,
        identifiers,
        previous_id,
    )


_COMMON_TYPES = frozenset(("identify", "track", "page", "screen"))
_UNUSUAL: Any = object()  # a value the common path leaves to parse_event's checks (and their messages)


def _parse_common(
    raw: dict[str, Any], settings: Settings, default_type: str | None, source: str | None
) -> Event | None:
    """The common valid message (identify, track, page or screen with string ids, a messageId and an ISO-8601
    timestamp) checked in one pass, or None for anything else, which ``parse_event`` then validates in full.

    It accepts only what the full checks accept and builds the same Event; anything it is unsure of (a missing
    messageId or timestamp, a number for an id, a field of the wrong type, a bad identifier) falls back, so the
    errors of a rejected message come from one place. tests/customers/test_events.py compares both on a corpus.
    """
    etype = raw.get("type", default_type)
    if type(etype) is not str or etype not in _COMMON_TYPES or (default_type is not None and etype != default_type):
        return None
    user_id, anonymous_id = _plain_id(raw.get("userId")), _plain_id(raw.get("anonymousId"))
    previous_id = _plain_id(raw.get("previousId"))
    if user_id is _UNUSUAL or anonymous_id is _UNUSUAL or previous_id is _UNUSUAL or not (user_id or anonymous_id):
        return None
    if etype == "track":
        name = raw.get("event")
        if type(name) is not str or not (name := name.strip()):
            return None
        name = name[:200]
    else:
        name = raw.get("name")
        if name is not None and type(name) is not str:
            return None
        name = name[:200] if name else None
    properties, traits, context = raw.get("properties"), raw.get("traits"), raw.get("context")
    if (
        (properties is not None and type(properties) is not dict)
        or (traits is not None and type(traits) is not dict)
        or (context is not None and (type(context) is not dict or type(context.get("traits", {})) not in _OBJECT))
    ):
        return None
    stamp, message_id = raw.get("timestamp"), raw.get("messageId")
    if type(stamp) is not str or type(message_id) is not str or not 0 < len(message_id) <= 200:
        return None
    try:
        timestamp = datetime.fromisoformat(stamp)
    except ValueError:
        return None
    if timestamp.tzinfo is not UTC:
        timestamp = timestamp.replace(tzinfo=UTC) if timestamp.tzinfo is None else timestamp.astimezone(UTC)
    errors: list[dict[str, str]] = []
    identifiers = _identifiers(raw, user_id, anonymous_id, settings, errors)
    if errors:
        return None
    return Event(
        message_id, etype, timestamp, _channel(raw, context), _source(context, source), user_id, anonymous_id,
        name, properties, traits, context, identifiers, previous_id,
    )  # fmt: skip


_OBJECT = (dict, type(None))


def _plain_id(value: Any) -> Any:
    """An id as ``_optional_id`` reads a plain string (None when absent or blank), else ``_UNUSUAL``."""
    if value is None or value == "":
        return None
    if type(value) is str and len(value) <= _MAX_ID:
        return value.strip() or None
    return _UNUSUAL


def _optional_id(raw: dict[str, Any], key: str, errors: list[dict[str, str]]) -> str | None:
    value = raw.get(key)
    if value is None or value == "":
        return None
    if type(value) is str and len(value) <= _MAX_ID:  # the common case, checked first
        return value.strip() or None
    if isinstance(value, bool) or not isinstance(value, str | int):
        errors.append({"field": key, "reason": f"must be a string, got {type(value).__name__}"})
        return None
    text = str(value).strip()
    if len(text) > _MAX_ID:
        errors.append({"field": key, "reason": f"is {len(text)} characters long; the limit is {_MAX_ID}"})
        return None
    return text or None


def _event_name(raw: dict[str, Any], etype: Any, errors: list[dict[str, str]]) -> str | None:
    if etype == "track":
        event = raw.get("event")
        if not isinstance(event, str) or not event.strip():
            errors.append({"field": "event", "reason": "track needs a non-empty event name"})
            return None
        return event.strip()[:200]
    if etype == "group":
        group_id = raw.get("groupId")
        if not isinstance(group_id, str | int) or not str(group_id).strip():
            errors.append({"field": "groupId", "reason": "group needs a groupId"})
            return None
        return str(group_id)[:200]
    name = raw.get("name")
    if name is not None and not isinstance(name, str):
        errors.append({"field": "name", "reason": "must be a string"})
        return None
    return name[:200] if name else None


def _optional_object(raw: dict[str, Any], key: str, errors: list[dict[str, str]]) -> dict[str, Any] | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        errors.append({"field": key, "reason": f"must be an object, got {type(value).__name__}"})
        return None
    return value


def _timestamp(raw: dict[str, Any], errors: list[dict[str, str]]) -> datetime:
    for key in ("timestamp", "originalTimestamp"):
        value = raw.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            errors.append({"field": key, "reason": "must be an ISO-8601 string"})
            break
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            errors.append({"field": key, "reason": f"{value!r} is not an ISO-8601 date-time"})
            break
        if parsed.tzinfo is UTC:
            return parsed
        if parsed.tzinfo is None:
            return parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)
    return datetime.now(UTC)


def _identifier(pair: tuple[str, str]) -> Identifier:
    return tuple.__new__(Identifier, pair)  # type: ignore[no-any-return]


def _path(node: Any, parts: tuple[str, ...]) -> Any:
    for part in parts:
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


@dataclass(frozen=True, slots=True)
class _IdentifierPlan:
    """Where identifiers may stand, compiled once per settings: the distinct parent objects (each read once per
    message), in declaration order, (where, parent index, key, kind), and the top-level keys the parents stand
    under (None when a field is top-level itself)."""

    parents: tuple[tuple[str, ...], ...]
    fields: tuple[tuple[str, int, str, str], ...]
    roots: tuple[str, ...] | None


def _identifier_plan(settings: Settings) -> _IdentifierPlan:
    """The plan for these settings, compiled on first use (settings are frozen, so it never goes stale)."""
    cached = _PLANS.get(id(settings))
    if cached is None or cached[0] is not settings:
        cached = _PLANS[id(settings)] = (settings, _compile_plan(tuple(settings.identifier_fields.items())))
        if len(_PLANS) > 64:
            del _PLANS[next(iter(_PLANS))]
    return cached[1]


_PLANS: dict[int, tuple[Settings, _IdentifierPlan]] = {}


@lru_cache(maxsize=64)
def _compile_plan(declared: tuple[tuple[str, str], ...]) -> _IdentifierPlan:
    """Segment puts a track call's traits in context.traits, so every traits.X is also read there."""
    paths: list[tuple[str, str]] = []
    for path, kind in (("traits.email", EMAIL), ("traits.phone", PHONE), *declared):
        paths.append((path, kind))
        if path.startswith("traits."):
            paths.append((f"context.{path}", kind))
    parents: list[tuple[str, ...]] = []
    fields: list[tuple[str, int, str, str]] = []
    for path, kind in paths:
        *parent, key = path.split(".")
        if tuple(parent) not in parents:
            parents.append(tuple(parent))
        fields.append((path, parents.index(tuple(parent)), key, kind))
    roots = None if () in parents else tuple(dict.fromkeys(parent[0] for parent in parents))
    return _IdentifierPlan(tuple(parents), tuple(fields), roots)


def _identifiers(
    raw: dict[str, Any],
    user_id: str | None,
    anonymous_id: str | None,
    settings: Settings,
    errors: list[dict[str, str]],
) -> list[Identifier]:
    found: list[Identifier] = []
    if user_id:
        found.append(_identifier((USER_ID, user_id)))
    if anonymous_id:
        found.append(_identifier((ANONYMOUS_ID, anonymous_id)))
    plan = _identifier_plan(settings)
    if plan.roots is not None:  # a loop, not any(…): its generator cost as much as the check
        for root in plan.roots:
            if isinstance(raw.get(root), dict):
                break
        else:
            return found  # no object any identifier stands in (most track and page calls)
    nodes = [_path(raw, parent) for parent in plan.parents]
    region = settings.default_phone_region
    for where, parent, key, kind in plan.fields:
        node = nodes[parent]
        if not isinstance(node, dict):
            continue
        value = node.get(key)
        if value is None or value == "":
            continue
        try:
            identifier = _identifier((kind, normalize(kind, value, region)))
        except InvalidInput as exc:
            errors.append({"field": where, "reason": str(exc)})
            continue
        if identifier not in found:
            found.append(identifier)
    return found


def _channel(raw: dict[str, Any], context: dict[str, Any] | None) -> str:
    for value in (None if context is None else context.get("channel"), raw.get("channel")):
        if isinstance(value, str) and value.strip():
            return value.strip().lower()[:32]
    library = None if context is None else context.get("library")
    name = library.get("name") if isinstance(library, dict) else None
    return _LIBRARY_CHANNELS.get(name, "server") if isinstance(name, str) else "server"


def _source(context: dict[str, Any] | None, source: str | None) -> str:
    value = (context or {}).get("source")
    if isinstance(value, str) and value.strip():
        return value.strip()[:64]
    return (source or "api")[:64]


def _content_id(raw: dict[str, Any]) -> str:
    """A message without messageId gets one from its content, so that its retries still collapse into one."""
    payload = {k: v for k, v in raw.items() if k not in ("sentAt", "receivedAt", "writeKey")}
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()
    return f"content-{digest[:40]}"
