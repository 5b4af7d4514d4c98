"""Column roles: what each column of a people file holds, recognised from its name and confirmed by its content.

A role names a kind of personal attribute (given name, surname, date of birth, street, postcode, phone, e-mail, a
national id number …). The name proposes a role (in English or German, the usual abbreviations); the content must
agree with it (a "phone" column of e-mail addresses is an e-mail column). Columns whose names say nothing get a role
from their content alone when it is unambiguous (e-mail addresses, dates, phone numbers, long unique numbers).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

GIVEN_NAME = "given_name"
SURNAME = "surname"
FULL_NAME = "full_name"
BIRTH_DATE = "birth_date"
STREET_NUMBER = "street_number"
ADDRESS = "address"
CITY = "city"
POSTCODE = "postcode"
STATE = "state"
PHONE = "phone"
EMAIL = "email"
ID_NUMBER = "id_number"
GENDER = "gender"

NAME_ROLES = (GIVEN_NAME, SURNAME, FULL_NAME)

# Checked in order: the first pattern that matches the (lower-cased, separators removed) column name wins.
_NAME_PATTERNS: tuple[tuple[str, str], ...] = (
    (EMAIL, r"e?mail"),
    (PHONE, r"phone|tele?fon|^tel|mobile?|cell|handy|fax"),
    (BIRTH_DATE, r"birth|dob|geburt|bday|born"),
    (ID_NUMBER, r"ssn|socsec|socialsec|national(id|number|insurance)|passport|taxid|steuerid|licen[cs]e|svnr|nino"),
    (STREET_NUMBER, r"(street|house|haus|building)(number|num|no|nr)|^(number|no|nr|hnr)$"),
    (POSTCODE, r"post(al)?code|zip|postleitzahl|^plz$|postal"),
    (GIVEN_NAME, r"(first|given|fore|vor|christian)name|^(first|given|fname|forename|vorname|prenom)$"),
    (SURNAME, r"(sur|last|family|nach|maiden)name|^(surname|last|lname|nachname|familyname)$"),
    (FULL_NAME, r"^(full)?name$|fullname|customername|personname|contactname|^kunde$"),
    (CITY, r"city|town|suburb|locality|^ort$|stadt|village|municipality|place"),
    (STATE, r"state|province|county|bundesland|^region$|territory"),
    (ADDRESS, r"addr|street|strasse|straße|road|line\d"),
    (GENDER, r"^(sex|gender|geschlecht)$"),
)

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DIGITS = re.compile(r"\D")
_PHONE_CHARS = re.compile(r"^\+?[\d\s()./\-]{6,24}$")
_ALNUM_CODE = re.compile(r"^[A-Za-z0-9]{2,5}[ -]?[A-Za-z0-9]{0,4}$")
_LETTERS = re.compile(r"[^\W\d_]")


@dataclass(frozen=True)
class ColumnRole:
    """One column's role and why it was given (``by`` is "name", "name and content" or "content")."""

    column: str
    role: str
    by: str


def _share(values: pd.Series, test: Callable[[str], bool]) -> float:
    if values.empty:
        return 0.0
    return float(values.map(test).mean())


def _is_email(value: str) -> bool:
    return bool(_EMAIL.match(value))


def _is_phone(value: str) -> bool:
    digits = _DIGITS.sub("", value)
    return bool(_PHONE_CHARS.match(value)) and 6 <= len(digits) <= 15


def _looks_dialled(value: str) -> bool:
    return value.startswith(("+", "0", "(")) or bool(re.search(r"\d[\s/\-]\d", value))


def _is_date(value: str) -> bool:
    from rapport.customers.linkage.prepare import parse_date

    return parse_date(value) is not None


def _is_wordy(value: str) -> bool:
    return len(_LETTERS.findall(value)) >= max(2, len(value) // 2)


def _is_postcode(value: str) -> bool:
    return bool(_ALNUM_CODE.match(value)) and any(c.isdigit() for c in value)


def _is_small_number(value: str) -> bool:
    return bool(re.fullmatch(r"\d{1,5}\s?[A-Za-z]?", value))


def _is_long_number(value: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z]{0,3}\d{6,}[A-Za-z]?", value.replace(" ", "").replace("-", "")))


# What a column's values must mostly look like for each role (share of non-empty values).
_CONTENT: dict[str, tuple[Callable[[str], bool], float]] = {
    EMAIL: (_is_email, 0.8),
    PHONE: (_is_phone, 0.7),
    BIRTH_DATE: (_is_date, 0.6),
    ID_NUMBER: (_is_long_number, 0.7),
    STREET_NUMBER: (_is_small_number, 0.6),
    POSTCODE: (_is_postcode, 0.7),
    GIVEN_NAME: (_is_wordy, 0.7),
    SURNAME: (_is_wordy, 0.7),
    FULL_NAME: (_is_wordy, 0.7),
    CITY: (_is_wordy, 0.7),
    STATE: (_is_wordy, 0.7),
    ADDRESS: (_is_wordy, 0.6),
    GENDER: (lambda v: len(v) <= 10, 0.9),
}


def _role_from_name(column: str) -> str | None:
    key = re.sub(r"[\s_\-.]+", "", column.lower())
    key = re.sub(r"\d+$", "", key) if not key.startswith("line") else key
    for role, pattern in _NAME_PATTERNS:
        if re.search(pattern, key):
            return role
    return None


def _role_from_content(values: pd.Series) -> str | None:
    """A role only content can tell apart with confidence; None for free text whose meaning needs a name."""
    for role in (EMAIL, BIRTH_DATE, PHONE, ID_NUMBER):
        test, share = _CONTENT[role]
        if role == PHONE and _share(values, _looks_dialled) < 0.5:
            continue  # bare digits could be any number; a phone is written with +, a leading 0 or separators
        if _share(values, test) >= max(share, 0.9):
            if role == ID_NUMBER and values.nunique() < 0.9 * len(values):
                continue  # long numbers that repeat are codes (accounts, orders), not a person's own number
            return role
    return None


def recognise_roles(frame: pd.DataFrame, exclude: tuple[str, ...] = (), sample: int = 2000) -> list[ColumnRole]:
    """The role of every column that holds a usable personal attribute; other columns are left out.

    Args:
        frame: the records, every column as text ("" for missing).
        exclude: columns that are not attributes (the record id, the source).
        sample: how many non-empty values of each column to look at.
    """
    found: list[ColumnRole] = []
    for column in frame.columns:
        if column in exclude:
            continue
        values = frame[column].astype(str).str.strip()
        values = values[values != ""]
        if values.empty:
            continue
        values = values.sample(min(sample, len(values)), random_state=0) if len(values) > sample else values
        by_content = _role_from_content(values)
        by_name = _role_from_name(str(column))
        if by_name is not None:
            test, share = _CONTENT[by_name]
            if _share(values, test) >= share:
                found.append(ColumnRole(str(column), by_name, "name and content"))
                continue
        if by_content is not None:
            found.append(ColumnRole(str(column), by_content, "content"))
    return found


def feature_names(found: list[ColumnRole]) -> dict[str, ColumnRole]:
    """Name each recognised column by its role (``address``, ``address_2`` when a role repeats), in file order."""
    named: dict[str, ColumnRole] = {}
    counts: dict[str, int] = {}
    for column_role in found:
        counts[column_role.role] = counts.get(column_role.role, 0) + 1
        n = counts[column_role.role]
        named[column_role.role if n == 1 else f"{column_role.role}_{n}"] = column_role
    return named


def role_of_feature(name: str) -> str:
    """``address_2`` -> ``address``."""
    return re.sub(r"_\d+$", "", name)
