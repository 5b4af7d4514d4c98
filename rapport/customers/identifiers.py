"""Identifiers: (kind, value) pairs that name a customer, normalised so that the same person matches."""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from typing import Any, NamedTuple

import phonenumbers

from rapport.errors import InvalidInput

USER_ID = "user_id"
ANONYMOUS_ID = "anonymous_id"
EMAIL = "email"
PHONE = "phone"


class Identifier(NamedTuple):
    """One identifier of a customer, already normalised."""

    kind: str
    value: str

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "value": self.value}


def normalize_email(raw: str) -> str:
    """Lower-case and trim an e-mail address; reject what is not one."""
    email = raw.strip().lower()
    local, _, domain = email.partition("@")
    if not local or "." not in domain or " " in email:
        raise InvalidInput(f"{raw!r} is not an e-mail address (expected name@domain.tld).")
    return email


_E164 = re.compile(r"\+[1-9]\d{6,14}")


@lru_cache(maxsize=65536)
def normalize_phone(raw: str, default_region: str = "DE") -> str:
    """Write a phone number in E.164 (+4930123456); numbers without a country code use ``default_region``."""
    if _E164.fullmatch(raw):  # already E.164 (what most systems send): skip the costly parse
        return raw
    try:
        number = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidInput(f"{raw!r} is not a phone number ({exc}).") from exc
    if not phonenumbers.is_possible_number(number):
        raise InvalidInput(f"{raw!r} is not a possible phone number in region {default_region}.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize(kind: str, raw: Any, default_region: str = "DE") -> str:
    """Normalise a raw identifier value of the given kind."""
    if not isinstance(raw, str | int) or isinstance(raw, bool):
        raise InvalidInput(f"{kind} must be a string, got {type(raw).__name__} {raw!r}.")
    text = str(raw).strip()
    if not text:
        raise InvalidInput(f"{kind} is empty.")
    if kind == EMAIL:
        return normalize_email(text)
    if kind == PHONE:
        return normalize_phone(text, default_region)
    if len(text) > 256:
        raise InvalidInput(f"{kind} is {len(text)} characters long; the limit is 256.")
    return text


def identifier_hash(identifier: Identifier, pepper: str) -> str:
    """A one-way hash of an identifier, kept after erasure so that late events of the person are dropped."""
    return hashlib.sha256(f"{pepper}\x1f{identifier.kind}\x1f{identifier.value}".encode()).hexdigest()


def parse_identifier(text: str, default_region: str = "DE") -> Identifier:
    """Read 'kind:value' or a bare value (an e-mail, a phone number, or else a customer or user id)."""
    kind, sep, value = text.partition(":")
    if sep and kind and " " not in kind and "@" not in kind and not kind.startswith("+"):
        return Identifier(kind, normalize(kind, value, default_region))
    if "@" in text:
        return Identifier(EMAIL, normalize_email(text))
    if text.strip().startswith("+") or text.strip().replace(" ", "").isdigit():
        return Identifier(PHONE, normalize_phone(text.strip(), default_region))
    return Identifier(USER_ID, text.strip())
