"""A stored profile's personal attributes for linkage: names, birth date and address from its traits (the latest
value of each wins), e-mail and phone from its own identifiers (already normalised; shared ones left out)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

COLUMNS = ("given_name", "surname", "birth_date", "street", "postcode", "city", "email", "phone")
_TRAITS = {
    "given_name": ("first_name", "firstName", "firstname", "given_name", "givenName"),
    "surname": ("last_name", "lastName", "lastname", "surname", "family_name", "familyName"),
    "birth_date": ("birthday", "birth_date", "birthDate", "birthdate", "date_of_birth", "dob"),
}
# A birth date sent in parts (traits.birthYear …): put together as 1967-09-27, 1967-09 or 1967 (a partial date).
_BIRTH_PARTS = (
    ("birth_year", "birthYear", "year_of_birth", "yearOfBirth"),
    ("birth_month", "birthMonth", "month_of_birth"),
    ("birth_day", "birthDay", "day_of_birth"),
)
_ADDRESS = {
    "street": ("street", "street_address", "line1", "address_line_1", "address1"),
    "postcode": ("postal_code", "postalCode", "postcode", "zip", "zip_code"),
    "city": ("city", "town", "locality"),
}


def _text(value: Any) -> str | None:
    if isinstance(value, str | int) and not isinstance(value, bool):
        text = str(value).strip()
        return text or None
    return None


def _date_from_parts(traits: dict[str, Any]) -> str | None:
    year, month, day = (
        next((v for k in keys if (v := _text(traits.get(k))) is not None), None) for keys in _BIRTH_PARTS
    )
    if year is None:
        return None  # a day and month alone cannot be written as one date; they are left out
    if month is None:
        return year
    return f"{year}-{month.zfill(2)}" + (f"-{day.zfill(2)}" if day is not None else "")


def attributes_from_traits(traits: dict[str, Any]) -> dict[str, str]:
    """The attributes one event's traits name (Segment's spec and snake_case spellings; a nested address)."""
    found: dict[str, str] = {}
    for column, keys in _TRAITS.items():
        value = next((v for k in keys if (v := _text(traits.get(k))) is not None), None)
        if value is not None:
            found[column] = value
    if "birth_date" not in found and (date := _date_from_parts(traits)):
        found["birth_date"] = date
    if "given_name" not in found and (name := _text(traits.get("name"))) and " " in name:
        found["given_name"], found["surname"] = name.rsplit(" ", 1)
    address = traits.get("address")
    source = address if isinstance(address, dict) else traits
    for column, keys in _ADDRESS.items():
        value = next((v for k in keys if (v := _text(source.get(k))) is not None), None)
        if value is not None:
            found[column] = value
    if isinstance(address, str) and "street" not in found and address.strip():
        found["street"] = address.strip()
    return found


def profile_attributes(
    trait_rows: Iterable[tuple[str, dict[str, Any]]], identifiers: dict[str, list[tuple[str, str, bool]]]
) -> dict[str, dict[str, str]]:
    """Per profile: ``trait_rows`` (profile id, traits) oldest first, later values winning; then its first own
    e-mail and phone."""
    out: dict[str, dict[str, str]] = {}
    for customer_id, traits in trait_rows:
        if traits:
            out.setdefault(customer_id, {}).update(attributes_from_traits(traits))
    for customer_id, rows in identifiers.items():
        if customer_id not in out:
            continue
        for kind in ("email", "phone"):
            values = sorted(value for k, value, shared in rows if k == kind and not shared)
            if values:
                out[customer_id][kind] = values[0]
    return out


def linkable(attributes: dict[str, str]) -> bool:
    """Enough to tell people apart: a full name and a birth date or a street."""
    return all(k in attributes for k in ("given_name", "surname")) and any(
        k in attributes for k in ("birth_date", "street")
    )


def fingerprint(attributes: dict[str, str]) -> str:
    """Changes exactly when an attribute linkage compares changes."""
    return hashlib.sha256(json.dumps(attributes, sort_keys=True).encode()).hexdigest()
