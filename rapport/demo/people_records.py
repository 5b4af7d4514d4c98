"""Seeded files of person records with realistic typos, for linkage tests and benchmarks (not the demo firm).

Each person gets a name (German and Turkish/Polish names, plus generated surnames and towns so that a million
people are not a few thousand name pairs), a birth date, an address, a phone and often an e-mail. A share of the
records are second records of a person already drawn, as another system wrote them: typos (a letter replaced,
dropped, doubled or two swapped), umlauts spelt out, the street abbreviated, the birth date's day and month swapped
or a digit mistyped, the phone in national form, fields left empty. The ``person`` column is the truth.
"""

from __future__ import annotations

import itertools
import random

import pandas as pd

from rapport.demo.people import CITIES, FIRST_NAMES, LAST_NAMES, STREETS

_SYLLABLES = ("ber", "bau", "dorf", "mann", "hof", "stein", "berg", "feld", "wald", "brun", "kel", "ler", "ner",
              "sch", "wei", "ros", "lin", "han", "kra", "mer", "zel", "tor", "gel", "hau", "ner", "ing", "er",
              "hol", "fri", "win", "kam", "ost", "wes", "lau", "ren", "bach", "horn", "au", "ham", "bur")  # fmt: skip
_GERMAN = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"})
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
COLUMNS = ("id", "first_name", "last_name", "birth_date", "street", "postcode", "city", "phone", "email", "person")


def _coined(rng: random.Random, n: int, parts: tuple[int, int]) -> list[str]:
    """``n`` distinct made-up names of ``parts`` syllables (fewer if the syllables cannot make that many)."""
    syllables = sorted(set(_SYLLABLES))
    possible = sum(len(syllables) ** k for k in range(parts[0], parts[1] + 1))
    wanted = min(n, possible // 2)  # stay well inside the space, or drawing the last ones never ends
    out: set[str] = set()
    while len(out) < wanted:
        out.add("".join(rng.choice(syllables) for _ in range(rng.randint(*parts))).capitalize())
    return sorted(out)


def _typo(rng: random.Random, text: str) -> str:
    if len(text) < 3:
        return text
    i = rng.randrange(1, len(text) - 1)
    kind = rng.random()
    if kind < 0.3:
        return text[:i] + rng.choice(_LETTERS) + text[i + 1 :]
    if kind < 0.55:
        return text[:i] + text[i + 1 :]
    if kind < 0.75:
        return text[:i] + text[i] + text[i:]
    return text[: i - 1] + text[i] + text[i - 1] + text[i + 1 :]


class _Population:
    def __init__(self, rng: random.Random, people: int):
        self.rng = rng
        self.first = list(FIRST_NAMES) + _coined(rng, max(200, people // 400), (2, 3))
        self.last = list(LAST_NAMES) + _coined(rng, max(2000, people // 20), (2, 4))
        towns = [(c, p) for c, p, _ in CITIES] + [(t, rng.randint(1000, 99000)) for t in _coined(rng, 800, (2, 2))]
        self.towns = towns
        # Zipf-like: a few names are common, most are rare (as in a real register).
        self.first_w = list(itertools.accumulate(1 / (i + 1) ** 0.9 for i in range(len(self.first))))
        self.last_w = list(itertools.accumulate(1 / (i + 1) ** 0.7 for i in range(len(self.last))))

    def person(self, index: int) -> dict[str, str]:
        rng = self.rng
        first = rng.choices(self.first, cum_weights=self.first_w)[0]
        last = rng.choices(self.last, cum_weights=self.last_w)[0]
        town, postal = rng.choice(self.towns)
        local = f"{first}.{last}".lower().translate(_GERMAN)
        return {
            "first_name": first,
            "last_name": last,
            "birth_date": f"{rng.randint(1935, 2006)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            "street": f"{rng.choice(STREETS)} {rng.randint(1, 150)}",
            "postcode": f"{postal + rng.randint(0, 60):05d}",
            "city": town,
            "phone": f"+49{rng.choice(('151', '160', '170', '176', '30', '40', '89'))}{rng.randint(1_000_000, 99_999_999)}",
            "email": f"{local}{index}@example.com" if rng.random() < 0.7 else "",
        }


def _second_record(rng: random.Random, original: dict[str, str]) -> dict[str, str]:
    """The same person as another system wrote them down."""
    out = dict(original)
    for field in ("first_name", "last_name", "street", "city"):
        if rng.random() < 0.12:
            out[field] = _typo(rng, out[field])
    if rng.random() < 0.3:
        out["last_name"] = out["last_name"].translate(_GERMAN)
    if rng.random() < 0.4:
        out["street"] = out["street"].replace("straße", "str.")
    year, month, day = out["birth_date"].split("-")
    roll = rng.random()
    if roll < 0.05 and int(day) <= 12:
        out["birth_date"] = f"{year}-{day}-{month}"
    elif roll < 0.12:
        out["birth_date"] = _typo(rng, out["birth_date"])
    elif roll < 0.5:
        out["birth_date"] = f"{day}.{month}.{year}"
    phone = out["phone"]
    out["phone"] = "0" + phone[3:6] + " " + phone[6:] if rng.random() < 0.5 else phone
    for field in ("phone", "email", "birth_date", "street"):
        if rng.random() < 0.1:
            out[field] = ""
    if rng.random() < 0.5:
        out["email"] = ""  # the other system never asked for one
    return out


def synthetic_people(records: int, duplicate_share: float = 0.3, seed: int = 11) -> pd.DataFrame:
    """``records`` rows (COLUMNS): about ``duplicate_share`` of them a second record of an earlier person."""
    rng = random.Random(seed)
    population = _Population(rng, records)
    people = max(1, round(records * (1 - duplicate_share)))
    originals = [{**population.person(i), "person": f"P{i}"} for i in range(people)]
    # Second records pick their person uniformly, so a person has 1 + Poisson(share / (1 - share)) records.
    seconds = [_second_record(rng, rng.choice(originals)) for _ in range(records - people)]
    rows = originals + seconds
    rng.shuffle(rows)
    frame = pd.DataFrame(rows, columns=list(COLUMNS[1:]))
    frame.insert(0, "id", [f"r{i}" for i in range(len(frame))])
    return frame
