"""Customers' names as search keys: the words of the name traits, case-folded and without accents.

The store keeps one key per word of every name a customer record was given (``first_name``, ``last_name``,
``name``, in ``traits`` or Segment's ``context.traits``), so a search by name is an index look-up: each word of the
query is a prefix of one of the keys ("ann smi" finds Anna Smith, "zoe" finds Zoë).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

NAME_TRAITS = ("first_name", "last_name", "name", "firstName", "lastName")
MAX_KEY = 64  # characters of one key; longer words are cut (a prefix search still finds them)
MAX_KEYS = 12  # keys per event: a name is a few words, not a text
_WORD = re.compile(r"\w+")


def normalise(text: str) -> list[str]:
    """The words of ``text``: compatibility-decomposed, combining marks dropped, case-folded."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    return [word[:MAX_KEY] for word in _WORD.findall(plain)]


def name_keys(*trait_sets: Mapping[str, Any] | None) -> set[str]:
    """The search keys of the name traits in ``trait_sets`` (e.g. an event's traits and its context.traits)."""
    keys: set[str] = set()
    for traits in trait_sets:
        if not isinstance(traits, Mapping):
            continue
        for trait in NAME_TRAITS:
            value = traits.get(trait)
            if isinstance(value, str) and value:
                keys.update(normalise(value))
    return set(sorted(keys)[:MAX_KEYS]) if len(keys) > MAX_KEYS else keys


def event_name_keys(traits: Mapping[str, Any] | None, context: Mapping[str, Any] | None) -> set[str]:
    """The search keys one stored event gives its customer record."""
    inner = context.get("traits") if isinstance(context, Mapping) else None
    return name_keys(inner if isinstance(inner, Mapping) else None, traits)


def query_words(text: str) -> list[str]:
    """The distinct words of a search by name, in order, as prefixes of the keys."""
    return list(dict.fromkeys(normalise(text)))


def key_range(prefix: str) -> tuple[str, str | None]:
    """The keys that start with ``prefix`` are those in ``[low, high)`` in code-point order (None: no bound)."""
    following = ord(prefix[-1]) + 1
    if following > 0x10FFFF:
        return prefix, None
    if 0xD800 <= following <= 0xDFFF:  # surrogates are no characters: the next one is U+E000
        following = 0xE000
    return prefix, prefix[:-1] + chr(following)
