"""Column roles: what each column of a people file holds, recognised from its name and confirmed by its content.

A role names a kind of personal attribute (given name, surname, date of birth, street, postcode, phone, e-mail, a
national id number …). The name proposes a role (in English or German, the usual abbreviations); the content must
agree with it (a "phone" column of e-mail addresses is an e-mail column). Columns whose names say nothing get a role
from their content alone when it is unambiguous (e-mail addresses, dates, phone numbers, long unique numbers).
A birth date split over year, month and day columns becomes one birth date (combine_date_parts). What the user says
with ``--column`` (see mapping.py) comes before all of this.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pandas as pd

from rapport.errors import InvalidInput

GIVEN_NAME = "given_name"
SURNAME = "surname"
FULL_NAME = "full_name"
BIRTH_DATE = "birth_date"
BIRTH_YEAR = "birth_year"
BIRTH_MONTH = "birth_month"
BIRTH_DAY = "birth_day"
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
DATE_PARTS = (BIRTH_YEAR, BIRTH_MONTH, BIRTH_DAY)  # combined into one birth_date feature (see combine_date_parts)
ROLES = (GIVEN_NAME, SURNAME, FULL_NAME, BIRTH_DATE, *DATE_PARTS, STREET_NUMBER, ADDRESS, CITY, POSTCODE, STATE,
         PHONE, EMAIL, ID_NUMBER, GENDER)  # fmt: skip

# Column names as other tools publish them. A name is lower-cased and cut into words (at separators, case changes
# and digits); words that only decorate it are dropped: record prefixes (p_, pat_, cust_ …) and part numbers
# (fname_c1, name2, line_1 keeps its digit). The rest, joined, is matched against every pattern in this order; each
# match is a candidate, and the first candidate the column's content agrees with wins ("birth_day" holding 1-31 is
# a day, holding dates a birth date).
_PREFIXES = r"p|pat|patient|pers|person|cust|customer|client|kunde|kd|member|mitglied|rec|record|src|std"
_PART = r"c?\d+|c|part|teil|comp|component"
_BORN = r"(birth|dob|born|geb|geburts?)"
_NAME_PATTERNS: tuple[tuple[str, str], ...] = (
    (EMAIL, r"e?mail"),
    (PHONE, r"phone|tele?fon|^tel|mobile?|cell|handy|fax"),
    (BIRTH_YEAR, rf"^{_BORN}(year|yr|y|jahr|j)$|^(year|yr|jahr)(of)?{_BORN}$|^(by|yob|gebj|gj)$"),
    (BIRTH_MONTH, rf"^{_BORN}(month|mon|mo|m|monat)$|^(month|monat)(of)?{_BORN}$|^(bm|mob|gebm)$"),
    (BIRTH_DAY, rf"^{_BORN}(day|dy|d|tag|t)$|^(day|tag)(of)?{_BORN}$|^(bd|dobd|gebt)$"),
    (BIRTH_DATE, r"birth|dob|geburt|bday|born|^geb(dat(um)?|d)?$|^gebdat|^(gd|bdate|birthdt)$"),
    (ID_NUMBER, r"ssn|socsec|socialsec|national(id|number|insurance)|passport|taxid|steuerid|licen[cs]e|svnr|nino"),
    (STREET_NUMBER, r"(street|house|haus|building)(number|num|no|nr)|^(number|no|nr|hnr|hsnr|hausnr)$"),
    (POSTCODE, r"post(al)?code|zip|postleitzahl|^plz$|postal|^(pc|pcode)$"),
    (GIVEN_NAME, r"(first|given|fore|vor|christian)name|^(first|given|fname|forename|vorname|prenom|vn|fn|gname)$"),
    (SURNAME, r"(sur|last|family|nach|maiden|fam)name|^(surname|last|lname|nachname|familyname|nn|ln|sname)$"),
    (FULL_NAME, r"^(full)?name$|fullname|customername|personname|contactname|^kunde$"),
    (CITY, r"city|town|suburb|locality|^ort$|^wohnort$|stadt|village|municipality|place|gemeinde"),
    (STATE, r"state|province|county|bundesland|^region$|territory"),
    (ADDRESS, r"addr|adresse|anschrift|street|stra(ss|ß)e|^str$|road|line\d"),
    (GENDER, r"^(sex|gender|geschlecht|sx)$"),
)
# Roles a name still gives after a record prefix is dropped (p_fname, cust_birth_year); "cust_no" is no street number.
_AFTER_PREFIX = {GIVEN_NAME, SURNAME, FULL_NAME, BIRTH_DATE, *DATE_PARTS, EMAIL, PHONE}
# Names whose part number is the role: PERNAME1 and PERNAME2 as the ONS publishes them (forename, then surname).
_NUMBERED_NAMES: dict[tuple[str, str], str] = {("pername", "1"): GIVEN_NAME, ("pername", "2"): SURNAME}

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DIGITS = re.compile(r"\D")
_PHONE_CHARS = re.compile(r"^\+?[\d\s()./\-]{6,24}$")
_ALNUM_CODE = re.compile(r"^[A-Za-z0-9]{2,5}[ -]?[A-Za-z0-9]{0,4}$")
_LETTERS = re.compile(r"[^\W\d_]")


@dataclass(frozen=True)
class ColumnRole:
    """One column's role and why it was given (``by`` is "name", "name and content", "content" or "--column").

    A birth date split over columns has ``parts`` ((birth_year, column), (birth_month, column) …) and ``column``
    naming them all ("by+bm+bd")."""

    column: str
    role: str
    by: str
    parts: tuple[tuple[str, str], ...] = ()


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


def _is_full_date(value: str) -> bool:
    from rapport.customers.linkage.prepare import parse_date

    return parse_date(value) is not None


def _is_date(value: str) -> bool:
    """A full date, or a partial one in a column named as a date (1967, 09/1967)."""
    from rapport.customers.linkage.prepare import date_parts

    return date_parts(value) is not None


def _is_year(value: str) -> bool:
    from rapport.customers.linkage.prepare import year_part

    return year_part(value) is not None


def _is_month(value: str) -> bool:
    from rapport.customers.linkage.prepare import month_part

    return month_part(value) is not None


def _is_day(value: str) -> bool:
    from rapport.customers.linkage.prepare import day_part

    return day_part(value) is not None


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
    BIRTH_YEAR: (_is_year, 0.9),
    BIRTH_MONTH: (_is_month, 0.9),
    BIRTH_DAY: (_is_day, 0.9),
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
# Roles content alone can tell apart with confidence, with the test it must pass (a named date may be partial, an
# unnamed one must be a full date).
_CONTENT_ONLY: tuple[tuple[str, Callable[[str], bool]], ...] = (
    (EMAIL, _is_email),
    (BIRTH_DATE, _is_full_date),
    (PHONE, _is_phone),
    (ID_NUMBER, _is_long_number),
)


def _name_words(column: str) -> tuple[str, str, str | None]:
    """The name's key, the key without a record prefix, and its part number: "P_FName_C2" -> fname, fname, "2"."""
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Za-z])(?=\d)", " ", column.strip())
    words = [w for w in re.split(r"[\s_\-.:/()]+", spaced.lower()) if w]
    number = next((w for w in reversed(words) if w.isdigit()), None)
    if "line" in words[:-1]:
        return "".join(words), "".join(words), None  # address line 1 and 2: the number is the role
    words = [w for w in words if not re.fullmatch(_PART, w)] or words
    key = "".join(words)
    bare = "".join(words[1:]) if len(words) > 1 and re.fullmatch(_PREFIXES, words[0]) else key
    return key, bare, number


def name_candidates(column: str) -> list[str]:
    """The roles a column's name proposes, most likely first (see _NAME_PATTERNS)."""
    key, bare, number = _name_words(column)
    if number and (key, number) in _NUMBERED_NAMES:
        return [_NUMBERED_NAMES[(key, number)]]
    found = [role for role, pattern in _NAME_PATTERNS if re.search(pattern, key)]
    if bare != key:
        found += [role for role, pattern in _NAME_PATTERNS if role in _AFTER_PREFIX and re.search(pattern, bare)]
    return list(dict.fromkeys(found))


def _role_from_content(values: pd.Series) -> str | None:
    """A role only content can tell apart with confidence; None for free text whose meaning needs a name."""
    for role, test in _CONTENT_ONLY:
        share = _CONTENT[role][1]
        if role == PHONE and _share(values, _looks_dialled) < 0.5:
            continue  # bare digits could be any number; a phone is written with +, a leading 0 or separators
        if _share(values, test) >= max(share, 0.9):
            if role == ID_NUMBER and values.nunique() < 0.9 * len(values):
                continue  # long numbers that repeat are codes (accounts, orders), not a person's own number
            return role
    return None


def _values(frame: pd.DataFrame, column: str, sample: int) -> pd.Series:
    values = frame[column].astype(str).str.strip()
    values = values[values != ""]
    return values.sample(min(sample, len(values)), random_state=0) if len(values) > sample else values


def _role_of(column: str, values: pd.Series, skip: set[str]) -> ColumnRole | None:
    for role in name_candidates(column):
        test, share = _CONTENT[role]
        if _share(values, test) >= share:
            return None if role in skip else ColumnRole(column, role, "name and content")
    by_content = _role_from_content(values)
    return ColumnRole(column, by_content, "content") if by_content and by_content not in skip else None


IGNORE = "ignore"
# Naming a role with --column stops recognition of these roles (a named date replaces recognised parts, and back).
_REPLACES: dict[str, set[str]] = {
    BIRTH_DATE: {BIRTH_DATE, *DATE_PARTS},
    BIRTH_YEAR: {BIRTH_YEAR, BIRTH_DATE},
    BIRTH_MONTH: {BIRTH_MONTH, BIRTH_DATE},
    BIRTH_DAY: {BIRTH_DAY, BIRTH_DATE},
}


def _check_given(column: str, role: str, values: pd.Series) -> None:
    """A --column mapping is taken as said unless the column's values can hardly be read as its role at all."""
    test, _ = _CONTENT[role]
    if not values.empty and _share(values, test) < 0.5:
        shown = ", ".join(repr(v) for v in values.head(3))
        raise InvalidInput(
            f"--column {role}={column}: most of its values ({shown} …) cannot be read as a {role.replace('_', ' ')}; "
            "map another column, or ignore=COLUMN to leave it out."
        )


def _single_words(values: pd.Series) -> bool:
    return _share(values, lambda v: " " not in v.strip()) >= 0.9


def recognise_roles(
    frame: pd.DataFrame,
    exclude: tuple[str, ...] = (),
    sample: int = 2000,
    given: Sequence[tuple[str, str]] = (),
) -> list[ColumnRole]:
    """The role of every column that holds a usable personal attribute; other columns are left out.

    Args:
        frame: the records, every column as text ("" for missing).
        exclude: columns that are not attributes (the record id, the source).
        sample: how many non-empty values of each column to look at.
        given: (role, column) pairs the user named (``--column``) that apply to this frame; they are taken as said,
            their columns are not looked at again, and their roles are not looked for elsewhere (``ignore``
            drops a column).
    """
    named = {column: role for role, column in given}
    skip = {replaced for role in named.values() for replaced in _REPLACES.get(role, {role})}
    found: list[ColumnRole] = []
    for column in map(str, frame.columns):
        if column in named:
            if named[column] != IGNORE:
                _check_given(column, named[column], _values(frame, column, sample))
                found.append(ColumnRole(column, named[column], "--column"))
            continue
        if column in exclude:
            continue
        values = _values(frame, column, sample)
        if not values.empty and (role := _role_of(column, values, skip)) is not None:
            found.append(role)
    roles = {cr.role for cr in found}
    if FULL_NAME in roles and GIVEN_NAME in roles and SURNAME not in roles:
        # Vorname + Name: beside a given name, a "name" column of single words is the surname.
        found = [
            ColumnRole(cr.column, SURNAME, cr.by)
            if cr.role == FULL_NAME and cr.by != "--column" and _single_words(_values(frame, cr.column, sample))
            else cr
            for cr in found
        ]
    return combine_date_parts(found)


def combine_date_parts(found: list[ColumnRole]) -> list[ColumnRole]:
    """Year, month and day columns become one birth date (partial when a part is missing), where the first part
    stood; a file's own full date column wins over recognised parts."""
    parts = [cr for cr in found if cr.role in DATE_PARTS]
    if not parts:
        return found
    if any(cr.role == BIRTH_DATE for cr in found):
        return [cr for cr in found if cr.role not in DATE_PARTS]
    first = {part: next((cr for cr in parts if cr.role == part), None) for part in DATE_PARTS}
    used = tuple((part, cr.column) for part, cr in first.items() if cr is not None)
    by = "--column" if any(cr.by == "--column" for cr in parts) else parts[0].by
    date = ColumnRole("+".join(column for _, column in used), BIRTH_DATE, by, used)
    out: list[ColumnRole] = []
    for cr in found:
        if cr is parts[0]:
            out.append(date)
        elif cr.role not in DATE_PARTS:
            out.append(cr)
    return out


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
