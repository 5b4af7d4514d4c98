"""Splink comparisons for the features a file has, one per feature, chosen by the feature's role.

Names: exact (with term-frequency adjustment, so a rare surname counts more than a common one), one edit, Jaro-Winkler
similarity, the same sound (metaphone). Dates of birth: exact, the parts both sides know agree (a year alone, a date
without its day), one or two edits on YYYYMMDD (a typo or a transposed day and month). Addresses and towns: exact, then Jaro-Winkler bands. Codes and numbers: exact, then one edit.
"""

from __future__ import annotations

from typing import Any

import splink.comparison_level_library as cll
import splink.comparison_library as cl

from rapport.customers.linkage import roles as r
from rapport.customers.linkage.prepare import PHONETIC_SUFFIX, UNKNOWN_PART

_TF_ROLES = {r.GIVEN_NAME, r.SURNAME, r.FULL_NAME, r.CITY, r.POSTCODE, r.ADDRESS}


def _name(feature: str) -> list[Any]:
    return [
        cll.NullLevel(feature),
        cll.ExactMatchLevel(feature).configure(tf_adjustment_column=feature),
        cll.DamerauLevenshteinLevel(feature, 1),
        cll.JaroWinklerLevel(feature, 0.9),
        cll.ExactMatchLevel(feature + PHONETIC_SUFFIX).configure(label_for_charts="same sound"),
        cll.JaroWinklerLevel(feature, 0.8),
        cll.ElseLevel(),
    ]


def _text(feature: str, tf: bool) -> list[Any]:
    exact = cll.ExactMatchLevel(feature)
    return [
        cll.NullLevel(feature),
        exact.configure(tf_adjustment_column=feature) if tf else exact,
        cll.JaroWinklerLevel(feature, 0.9),
        cll.JaroWinklerLevel(feature, 0.75),
        cll.ElseLevel(),
    ]


def _birth_date(feature: str) -> list[Any]:
    """A partial date (unknown parts as dashes, see prepare.date_key) agrees with another when every part both know
    is equal and they know at least one part in common; it is never taken for an exact match."""
    left, right = f'"{feature}_l"', f'"{feature}_r"'
    spans = ((1, 4), (5, 2), (7, 2))  # year, month, day in YYYYMMDD

    def part(side: str, start: int, length: int) -> str:
        return f"substr({side}, {start}, {length})"

    def unknown(side: str, start: int, length: int) -> str:
        return f"{part(side, start, length)} = '{UNKNOWN_PART * length}'"

    agree = " and ".join(
        f"({part(left, s, n)} = {part(right, s, n)} or {unknown(left, s, n)} or {unknown(right, s, n)})"
        for s, n in spans
    )
    common = " or ".join(f"not ({unknown(left, s, n)} or {unknown(right, s, n)})" for s, n in spans)
    partial = f"({left} like '%-%' or {right} like '%-%') and {agree} and ({common})"
    # The partial level comes first so that two equal partial dates (1967---- and 1967----) never reach the exact
    # level; that one stays a plain equality, which Splink needs to see to correct its prior for blocking on dates.
    return [
        cll.NullLevel(feature),
        cll.CustomLevel(partial, "known parts agree", "duckdb"),
        cll.ExactMatchLevel(feature),
        cll.DamerauLevenshteinLevel(feature, 1),
        cll.DamerauLevenshteinLevel(feature, 2),
        cll.ElseLevel(),
    ]


def _edits(feature: str, tf: bool, distances: tuple[int, ...]) -> list[Any]:
    exact = cll.ExactMatchLevel(feature)
    levels: list[Any] = [cll.NullLevel(feature), exact.configure(tf_adjustment_column=feature) if tf else exact]
    levels += [cll.DamerauLevenshteinLevel(feature, d) for d in distances]
    return [*levels, cll.ElseLevel()]


def comparison_for(feature: str) -> Any:
    """The Splink comparison of one feature (named by its role, see roles.feature_names)."""
    role = r.role_of_feature(feature)
    tf = role in _TF_ROLES
    if role in r.NAME_ROLES:
        levels = _name(feature)
    elif role == r.BIRTH_DATE:
        levels = _birth_date(feature)
    elif role in (r.ADDRESS, r.CITY):
        levels = _text(feature, tf)
    elif role == r.EMAIL:
        return cl.EmailComparison(feature)
    elif role in (r.PHONE, r.ID_NUMBER, r.POSTCODE):
        levels = _edits(feature, tf, (1,))
    elif role == r.STREET_NUMBER:
        levels = _edits(feature, False, (1,))
    else:  # state, gender: equal or not
        levels = _edits(feature, False, ())
    return cl.CustomComparison(levels, output_column_name=feature, comparison_description=f"{role} comparison")


def comparisons_for(features: list[str]) -> list[Any]:
    return [comparison_for(feature) for feature in features]
