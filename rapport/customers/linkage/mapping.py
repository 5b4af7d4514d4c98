"""`--column ROLE=COLUMN`: the user's own word on what a column holds, for what recognition misses or gets wrong.

A mapping names a role (given_name, birth_year …, or ``ignore`` to leave a column out) and a column of the input
files. It applies to every file that has the column; a column that no file has, a role that does not exist, or a
column named twice is refused with the roles and columns there are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rapport.customers.linkage import roles as r
from rapport.errors import InvalidInput

OPTION = "--column"
# Other spellings users reach for, each to the role it means.
_ALIASES = {
    "first_name": r.GIVEN_NAME, "forename": r.GIVEN_NAME, "last_name": r.SURNAME, "family_name": r.SURNAME,
    "name": r.FULL_NAME, "dob": r.BIRTH_DATE, "date_of_birth": r.BIRTH_DATE, "street": r.ADDRESS,
    "zip": r.POSTCODE, "town": r.CITY, "house_number": r.STREET_NUMBER,
}  # fmt: skip
TARGETS: dict[str, str] = {**{role: role for role in r.ROLES}, **_ALIASES, r.IGNORE: r.IGNORE}

ColumnMapping = tuple[str, str]  # (role, column)


def _targets() -> str:
    return ", ".join((*r.ROLES, r.IGNORE))


def parse_columns(options: Sequence[str]) -> list[ColumnMapping]:
    """``["given_name=Vorname", "birth_year=by"]`` -> ``[("given_name", "Vorname"), ("birth_year", "by")]``."""
    out: list[ColumnMapping] = []
    for option in options:
        target, sep, column = option.partition("=")
        target, column = target.strip(), column.strip()
        if not sep or not target or not column:
            raise InvalidInput(
                f"{OPTION} {option!r} must be ROLE=COLUMN, e.g. {OPTION} given_name=Vorname; roles: {_targets()}."
            )
        role = TARGETS.get(target.lower())
        if role is None:
            raise InvalidInput(f"{OPTION} {option!r}: {target!r} is no role; use one of: {_targets()}.")
        out.append((role, column))
    return out


def check_columns(mapping: Sequence[ColumnMapping], columns: Mapping[str, Sequence[str]], id_column: str) -> None:
    """Every mapped column exists in at least one file (``columns``: file name -> its columns), none is the id
    column, and none is given two roles."""
    roles: dict[str, str] = {}
    for role, column in mapping:
        where = f"{OPTION} {role}={column}"
        if column == id_column:
            raise InvalidInput(f"{where}: {column!r} is the id column (--id-column); map another column.")
        if column in roles and roles[column] != role:
            raise InvalidInput(f"{where}: {column!r} is already mapped to {roles[column]}; give each column one role.")
        roles[column] = role
        if not any(column in cols for cols in columns.values()):
            shown = "; ".join(f"{name}: {', '.join(cols[:30])}" for name, cols in columns.items())
            raise InvalidInput(f"{where}: no input file has a column {column!r}. The files' columns are {shown}.")


def mapping_for(mapping: Sequence[ColumnMapping], columns: Sequence[str]) -> list[ColumnMapping]:
    """The mappings that apply to a file with these columns."""
    present = set(columns)
    return [(role, column) for role, column in mapping if column in present]
