"""Cleaning a people file for comparison: the same person written two ways should compare equal where it can.

Every value becomes lower-case ASCII text without stray punctuation (Müller and Mueller are one name), dates become
YYYYMMDD (so that a transposition is one edit; an unknown part is dashes, see date_key, and a date split over year,
month and day columns is put together), phone numbers their last nine digits (national and international forms
agree), and names get a phonetic code beside them. Missing values are None, which Splink treats as unknown.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

import jellyfish
import pandas as pd

from rapport.customers.linkage import roles as r
from rapport.customers.linkage.roles import ColumnRole

_GERMAN = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "ae", "Ö": "oe", "Ü": "ue"})
_NOT_WORD = re.compile(r"[^a-z0-9 ]+")
_SPACES = re.compile(r"\s+")
_DIGITS = re.compile(r"\D")
_ABBREVIATIONS = {"str": "strasse", "st": "street", "rd": "road", "ave": "avenue", "av": "avenue", "pl": "place",
                  "dr": "drive", "ln": "lane", "ct": "court", "cres": "crescent", "hwy": "highway"}  # fmt: skip
_DATE_FORMATS = (
    (re.compile(r"^(\d{4})(\d{2})(\d{2})$"), (1, 2, 3)),
    (re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T ].*)?$"), (1, 2, 3)),
    (re.compile(r"^(\d{1,2})[./-](\d{1,2})[./-](\d{4})$"), (3, 2, 1)),  # day first, as in Europe
)
PHONETIC_SUFFIX = "__sound"


def plain_text(value: str) -> str:
    """Lower-case ASCII words: umlauts spelt out, other accents dropped, punctuation removed."""
    text = unicodedata.normalize("NFKD", value.translate(_GERMAN).lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return _SPACES.sub(" ", _NOT_WORD.sub(" ", text)).strip()


def parse_date(value: str) -> date | None:
    """A calendar date from YYYYMMDD, YYYY-MM-DD (or with / .) or DD.MM.YYYY, between 1850 and 2100."""
    text = value.strip()
    for pattern, (y, m, d) in _DATE_FORMATS:
        found = pattern.match(text)
        if found:
            try:
                parsed = date(int(found.group(y)), int(found.group(m)), int(found.group(d)))
            except ValueError:
                return None
            return parsed if 1850 <= parsed.year <= 2100 else None
    return None


DateParts = tuple[int | None, int | None, int | None]  # year, month, day; None where unknown
UNKNOWN_PART = "-"  # stands for each digit of an unknown part in a date key: 1967---- is a year alone
_PARTIAL_FORMATS = (
    (re.compile(r"^(\d{4})$"), (1, None)),
    (re.compile(r"^(\d{4})[-/.](\d{1,2})$"), (1, 2)),
    (re.compile(r"^(\d{1,2})[-/.](\d{4})$"), (2, 1)),
)
_MONTHS = {name: n for n, names in enumerate(
    ("jan january januar jaenner", "feb february februar", "mar march maerz", "apr april", "may mai",
     "jun june juni", "jul july juli", "aug august", "sep sept september", "oct october okt oktober",
     "nov november", "dec december dez dezember"), start=1) for name in names.split()}  # fmt: skip


def _number(value: str) -> int | None:
    text = value.strip()
    text = text[:-2] if text.endswith(".0") else text  # a spreadsheet wrote 1967 as 1967.0
    return int(text) if text.isdigit() else None


def year_part(value: str) -> int | None:
    """A birth year from 1850 to 2100 (four digits; two-digit years are ambiguous and left unknown)."""
    year = _number(value)
    return year if year is not None and 1850 <= year <= 2100 else None


def month_part(value: str) -> int | None:
    """A month from 1-12 or its English or German name (Sep, März)."""
    month = _number(value)
    if month is None:
        month = _MONTHS.get(plain_text(value).rstrip("."))
    return month if month is not None and 1 <= month <= 12 else None


def day_part(value: str) -> int | None:
    day = _number(value)
    return day if day is not None and 1 <= day <= 31 else None


def date_parts(value: str) -> DateParts | None:
    """A full date's parts, or a partial date's (a year alone, a year and month); None when it is no date."""
    parsed = parse_date(value)
    if parsed is not None:
        return parsed.year, parsed.month, parsed.day
    text = value.strip()
    for pattern, (y, m) in _PARTIAL_FORMATS:
        found = pattern.match(text)
        if found:
            year = year_part(found.group(y))
            month = month_part(found.group(m)) if m else None
            if year is not None and (m is None or month is not None):
                return year, month, None
    return None


def date_key(parts: DateParts) -> str | None:
    """YYYYMMDD, each unknown part written as dashes (1967----, ----0927): known parts still compare, and a
    missing part never reads as a guessed one."""
    year, month, day = parts
    if year is None and month is None and day is None:
        return None
    return "".join(
        f"{v:0{width}d}" if v is not None else UNKNOWN_PART * width for v, width in ((year, 4), (month, 2), (day, 2))
    )


def _date_key(value: str) -> str | None:
    parts = date_parts(value)
    if parts is not None:
        return date_key(parts)
    digits = _DIGITS.sub("", value)
    return digits if len(digits) == 8 else None  # a mistyped date still compares by its digits


def _parts_key(year: str, month: str, day: str) -> str | None:
    return date_key((year_part(year), month_part(month), day_part(day)))


def _phone_key(value: str) -> str | None:
    digits = _DIGITS.sub("", value)
    return digits[-9:] if len(digits) >= 6 else None


def _address_key(value: str) -> str | None:
    words = plain_text(value).split(" ")
    text = " ".join(_ABBREVIATIONS.get(w, w) for w in words)
    text = re.sub(r"(\w)str\b", r"\1strasse", text)  # Hauptstr. -> hauptstrasse
    return text or None


def _code_key(value: str) -> str | None:
    text = re.sub(r"[\s\-]", "", value.upper())
    return text or None


def _text_key(value: str) -> str | None:
    return plain_text(value) or None


def _email_key(value: str) -> str | None:
    return value.strip().lower() or None


_CLEANERS = {
    r.BIRTH_DATE: _date_key,
    r.PHONE: _phone_key,
    r.ADDRESS: _address_key,
    r.POSTCODE: _code_key,
    r.ID_NUMBER: _code_key,
    r.STREET_NUMBER: _code_key,
    r.EMAIL: _email_key,
}


def _clean(series: pd.Series, role: str) -> pd.Series:
    cleaner = _CLEANERS.get(role, _text_key)
    text = series.fillna("").astype(str).str.strip()
    uniques = pd.unique(text)  # clean each distinct value once: names and towns repeat a lot
    mapping = {value: (cleaner(value) if value else None) for value in uniques}
    return text.map(mapping)


def _phonetic(series: pd.Series) -> pd.Series:
    uniques = series.dropna().unique()
    mapping = {value: jellyfish.metaphone(value) or None for value in uniques}
    return series.map(mapping)


def _date_from_parts(frame: pd.DataFrame, parts: tuple[tuple[str, str], ...]) -> pd.Series:
    """One date key per row from a date split over columns (year, month, day; any may be absent)."""
    columns = dict(parts)
    empty = pd.Series("", index=frame.index)
    texts = [frame[columns[p]].fillna("").astype(str) if p in columns else empty for p in r.DATE_PARTS]
    combined = pd.DataFrame({"y": texts[0], "m": texts[1], "d": texts[2]})
    uniques = combined.drop_duplicates()
    keys = {(y, m, d): _parts_key(y, m, d) for y, m, d in uniques.itertuples(index=False)}
    return pd.Series([keys[t] for t in combined.itertuples(index=False, name=None)], index=frame.index)


def prepare_records(frame: pd.DataFrame, features: dict[str, ColumnRole], id_column: str, source: str) -> pd.DataFrame:
    """The frame Splink compares: ``unique_id``, ``source_dataset`` and one cleaned column per feature.

    ``features`` maps the feature's name (its role, numbered when a role repeats) to the file's column (or, for a
    birth date split over columns, to its parts)."""
    out = pd.DataFrame({"unique_id": frame[id_column].astype(str).str.strip(), "source_dataset": source})
    for name, column_role in features.items():
        if column_role.parts:
            out[name] = _date_from_parts(frame, column_role.parts).to_numpy()
        else:
            out[name] = _clean(frame[column_role.column], column_role.role)
        if column_role.role in r.NAME_ROLES:
            out[name + PHONETIC_SUFFIX] = _phonetic(out[name])
    return out.reset_index(drop=True)
