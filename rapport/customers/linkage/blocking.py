"""Blocking: which pairs are compared at all. Rules are equalities on features, chosen so that the work scales.

Candidates come from the roles present: a strong identifier alone (e-mail, phone, id number, date of birth) and
pairs of weaker features (given name and surname, surname and postcode, their sounds …). A candidate that would
produce more pairs than the budget (``pairs_per_record`` times the records) is refined with one more feature, or
dropped. Several rules together recover a pair that a typo hides from one of them.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from splink.blocking_rule_library import CustomRule

from rapport.customers.linkage import roles as r
from rapport.customers.linkage.prepare import PHONETIC_SUFFIX
from rapport.errors import InvalidInput

_STRONG = (r.ID_NUMBER, r.EMAIL, r.PHONE, r.BIRTH_DATE)
_WEAK = (r.SURNAME, r.GIVEN_NAME, r.FULL_NAME, r.POSTCODE, r.STREET_NUMBER, r.CITY, r.ADDRESS, r.STATE)
_MAX_RULES = 10

Query = Callable[[str], list[tuple[Any, ...]]]  # rows of one query in DuckDB's dialect, on the linkage engine


@dataclass(frozen=True)
class BlockingRule:
    """Equality on ``keys`` (feature columns); ``pairs`` is how many comparisons it generates."""

    keys: tuple[str, ...]
    pairs: int

    def sql(self) -> str:
        """The rule in DuckDB's dialect (see ``rule``)."""
        return " and ".join(f'l."{k}" = r."{k}"' for k in self.keys)

    def rule(self) -> CustomRule:
        """The rule for Splink, which translates it to the engine's dialect."""
        return CustomRule(self.sql(), sql_dialect="duckdb")

    def setting(self) -> dict[str, str]:
        """The rule as a settings entry (as Splink saves it)."""
        return {"blocking_rule": self.sql(), "sql_dialect": "duckdb"}


def _candidates(features: list[str]) -> list[tuple[str, ...]]:
    present = set(features)
    strong = [f for f in features if r.role_of_feature(f) in _STRONG]
    weak = [f for f in features if r.role_of_feature(f) in _WEAK]
    weak.sort(key=lambda f: _WEAK.index(r.role_of_feature(f)))
    sounds = [f + PHONETIC_SUFFIX for f in features if r.role_of_feature(f) in r.NAME_ROLES]
    out: list[tuple[str, ...]] = [(f,) for f in strong]
    out += list(itertools.combinations(weak, 2))
    if len(sounds) >= 2:
        out.append(tuple(sounds[:2]))
    out += [(s, f) for s in sounds for f in strong if f in present]
    return out


def count_pairs(query: Query, table: str, keys: tuple[str, ...], link_only: bool) -> int:
    """Pairs a rule on ``keys`` generates (within one file, or across files when ``link_only``)."""
    cols = ", ".join(f'"{k}"' for k in keys)
    not_null = " and ".join(f'"{k}" is not null' for k in keys)
    if link_only:
        sql = f"""select coalesce(sum(n * n - ss) / 2, 0) from (
                    select sum(c) as n, sum(c * c) as ss from (
                      select {cols}, source_dataset, count(*) as c from {table} where {not_null}
                      group by {cols}, source_dataset) group by {cols})"""
    else:
        sql = f"select coalesce(sum(c * (c - 1)) / 2, 0) from (select count(*) as c from {table} where {not_null} group by {cols})"
    rows = query(sql)
    return int(rows[0][0]) if rows and rows[0][0] is not None else 0


def choose_blocking_rules(
    query: Query,
    table: str,
    features: list[str],
    records: int,
    link_only: bool,
    pairs_per_record: float = 20.0,
) -> list[BlockingRule]:
    """Rules under the pair budget, strongest first, refined by one more feature when a rule alone is too wide."""
    budget = max(pairs_per_record * records, 200_000)
    chosen: list[BlockingRule] = []
    for keys in _candidates(features):
        pairs = count_pairs(query, table, keys, link_only)
        if pairs > budget:
            refined = [
                (count_pairs(query, table, (*keys, extra), link_only), (*keys, extra))
                for extra in features
                if extra not in keys and r.role_of_feature(extra) in (r.POSTCODE, r.CITY, r.GIVEN_NAME, r.SURNAME)
            ]
            fitting = sorted(p for p in refined if 0 < p[0] <= budget)
            if not fitting:
                continue
            pairs, keys = fitting[-1]
        if pairs > 0 and all(not set(c.keys) <= set(keys) for c in chosen):
            chosen.append(BlockingRule(tuple(keys), pairs))
        if len(chosen) >= _MAX_RULES:
            break
    if not chosen:
        raise InvalidInput(
            f"No blocking rule fits: the columns recognised ({', '.join(features) or 'none'}) give no pair of records "
            "sharing a name, date of birth, postcode, phone or e-mail. Add such columns, name them with --column "
            "ROLE=COLUMN (e.g. --column surname=Nachname), or check the file."
        )
    return chosen
