"""The rules a Segment tracking-spec message must follow to pass for what a collector sends (our reading of it)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

TYPES = ("identify", "track", "page", "screen", "alias", "group")
CHANNELS = ("web", "app", "store", "call_centre", "device", "partner")
TOP_LEVEL = {
    "type", "messageId", "timestamp", "userId", "anonymousId", "previousId", "groupId", "traits", "event",
    "name", "properties", "context",
}  # fmt: skip


def _id(value: Any) -> bool:
    return isinstance(value, str) and value.strip() == value and 0 < len(value) <= 256


def spec_errors(message: Any) -> list[str]:
    """Everything wrong with one message; an empty list for a valid one."""
    if not isinstance(message, dict):
        return ["not an object"]
    errors = [f"unknown key {key}" for key in message if key not in TOP_LEVEL]
    kind = message.get("type")
    if kind not in TYPES:
        errors.append(f"type {kind!r}")
    if not _id(message.get("messageId")):
        errors.append("messageId")
    errors += _timestamp_errors(message.get("timestamp"))
    if kind == "alias":
        if not (_id(message.get("previousId")) and _id(message.get("userId"))):
            errors.append("alias needs previousId and userId")
    elif not (_id(message.get("userId")) or _id(message.get("anonymousId"))):
        errors.append("needs userId or anonymousId")
    for key in ("userId", "anonymousId"):
        if key in message and not _id(message[key]):
            errors.append(f"{key} {message[key]!r}")
    if kind == "identify" and not isinstance(message.get("traits"), dict):
        errors.append("identify without traits")
    if kind == "track" and not (_id(message.get("event")) and isinstance(message.get("properties"), dict)):
        errors.append("track needs event and properties")
    if kind in ("page", "screen") and not (_id(message.get("name")) and isinstance(message.get("properties"), dict)):
        errors.append(f"{kind} needs name and properties")
    if kind == "group" and not _id(message.get("groupId")):
        errors.append("group needs groupId")
    return errors + _context_errors(message)


def _timestamp_errors(value: Any) -> list[str]:
    if not isinstance(value, str) or not value.endswith("Z"):
        return [f"timestamp {value!r} is not ISO-8601 in UTC 'Z'"]
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return [f"timestamp {value!r}"]
    return [] if parsed.tzinfo is not None and parsed.utcoffset() == UTC.utcoffset(None) else ["timestamp zone"]


def _context_errors(message: dict[str, Any]) -> list[str]:
    context = message.get("context")
    if not isinstance(context, dict):
        return ["context"]
    errors = []
    channel = context.get("channel")
    if channel not in CHANNELS:
        errors.append(f"channel {channel!r}")
    library = context.get("library")
    if not isinstance(library, dict) or not _id(library.get("name")):
        errors.append("context.library.name")
    device = context.get("device")
    if channel in ("app", "device") and not (isinstance(device, dict) and _id(device.get("id"))):
        errors.append(f"{channel} message without context.device.id")
    if channel == "device":
        props = message.get("properties") or {}
        if not (message.get("anonymousId") == device.get("id") == props.get("device_id")):
            errors.append("telemetry: anonymousId, context.device.id and properties.device_id differ")
    traits = context.get("traits")
    if traits is not None and not isinstance(traits, dict):
        errors.append("context.traits")
    for where in (message.get("traits"), traits):
        if isinstance(where, dict) and "email" in where:
            email = where["email"].strip().lower()
            if "@" not in email or "." not in email.partition("@")[2]:
                errors.append(f"email {where['email']!r}")
    return errors
