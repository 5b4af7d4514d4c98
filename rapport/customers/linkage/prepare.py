"""Cleaning a people file for comparison: the same person written two ways should compare equal where it can.

Every value becomes lower-case ASCII text without stray punctuation (Müller and Mueller are one name), dates become
YYYYMMDD (so that a transposition is one edit), phone numbers their last nine digits (national and international
forms agree), and names get a phonetic code beside them. Missing values are None, which Splink treats as unknown.
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


def _date_key(value: str) -> str | None:
    parsed = parse_date(value)
    if parsed is not None:
        return parsed.strftime("%Y%m%d")
    digits = _DIGITS.sub("", value)
    return digits if len(digits) == 8 else None  # a mistyped date still compares by its digits


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


def prepare_records(frame: pd.DataFrame, features: dict[str, ColumnRole], id_column: str, source: str) -> pd.DataFrame:
    """The frame Splink compares: ``unique_id``, ``source_dataset`` and one cleaned column per feature.

    ``features`` maps the feature's name (its role, numbered when a role repeats) to the file's column."""
    out = pd.DataFrame({"unique_id": frame[id_column].astype(str).str.strip(), "source_dataset": source})
    for name, column_role in features.items():
        out[name] = _clean(frame[column_role.column], column_role.role)
        if column_role.role in r.NAME_ROLES:
            out[name + PHONETIC_SUFFIX] = _phonetic(out[name])
    return out.reset_index(drop=True)
