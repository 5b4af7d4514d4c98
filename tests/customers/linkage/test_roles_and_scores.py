"""Column roles from names and content, cleaning invariants, the label-free threshold, and the scores."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from rapport.customers.linkage import roles as r
from rapport.customers.linkage.evaluation import score_linkage
from rapport.customers.linkage.prepare import parse_date, plain_text, prepare_records
from rapport.customers.linkage.roles import feature_names, recognise_roles
from rapport.customers.linkage.thresholds import choose_threshold


def _roles(frame: pd.DataFrame) -> dict[str, str]:
    return {cr.column: cr.role for cr in recognise_roles(frame, exclude=("id",))}


def test_roles_come_from_names_in_english_and_german() -> None:
    frame = pd.DataFrame(
        {
            "id": ["1", "2"],
            "Vorname": ["Jörg", "Anna"],
            "Nachname": ["Müller", "Weber"],
            "Geburtsdatum": ["03.04.1980", "1975-12-01"],
            "Straße": ["Hauptstr. 5", "Am Markt 1"],
            "PLZ": ["10115", "80331"],
            "Ort": ["Berlin", "München"],
            "Telefon": ["030 1234567", "+49 89 7654321"],
            "E-Mail": ["j.mueller@example.com", "anna@example.org"],
        }
    )
    assert _roles(frame) == {"Vorname": r.GIVEN_NAME, "Nachname": r.SURNAME, "Geburtsdatum": r.BIRTH_DATE,
                             "Straße": r.ADDRESS, "PLZ": r.POSTCODE, "Ort": r.CITY, "Telefon": r.PHONE,
                             "E-Mail": r.EMAIL}  # fmt: skip


def test_content_confirms_or_overrides_a_name_and_names_unnamed_columns() -> None:
    frame = pd.DataFrame(
        {
            "id": [str(i) for i in range(20)],
            "phone": [f"user{i}@example.com" for i in range(20)],  # named phone, holds e-mails
            "col3": [f"19{50 + i}0{1 + i % 9}1{i % 9}" for i in range(20)],  # unnamed dates YYYYMMDD
            "col4": [f"0{30 + i} {1000000 + i * 7919}" for i in range(20)],  # unnamed phone numbers
            "notes": ["called back"] * 20,  # free text: no role
            "first_name": [str(i) for i in range(20)],  # named a name, holds numbers: no role
        }
    )
    assert _roles(frame) == {"phone": r.EMAIL, "col3": r.BIRTH_DATE, "col4": r.PHONE}


def test_repeated_roles_are_numbered() -> None:
    frame = pd.DataFrame({"id": ["1"], "address_1": ["1 high street"], "address_2": ["flat 2 the mews"]})
    assert list(feature_names(recognise_roles(frame, exclude=("id",)))) == ["address", "address_2"]


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2030, 12, 31)))
def test_every_date_format_reads_to_the_same_day(day: date) -> None:
    for text in (day.strftime("%Y%m%d"), day.isoformat(), day.strftime("%d.%m.%Y"), day.strftime("%Y/%m/%d")):
        assert parse_date(text) == day


@given(st.text(max_size=30))
def test_plain_text_is_idempotent_lower_ascii(text: str) -> None:
    once = plain_text(text)
    assert plain_text(once) == once
    assert once == once.lower() and once.isascii()


def test_the_same_person_written_two_ways_cleans_to_equal_values() -> None:
    frame = pd.DataFrame(
        {
            "id": ["a", "b"],
            "last_name": ["Müller", "MUELLER"],
            "street": ["Hauptstraße 5", "Hauptstr. 5"],
            "birthday": ["1980-04-03", "03.04.1980"],
            "phone": ["+49 30 1234567", "030/1234567"],
        }
    )
    features = feature_names(recognise_roles(frame, exclude=("id",)))
    cleaned = prepare_records(frame, features, "id", "test")
    for feature in ("surname", "address", "birth_date", "phone"):
        assert cleaned.loc[0, feature] == cleaned.loc[1, feature], feature


def test_the_threshold_without_labels_separates_a_bimodal_model() -> None:
    rng = np.random.default_rng(0)
    matches, others = rng.uniform(0.97, 1.0, 500), rng.uniform(0.0, 0.05, 5000)
    choice = choose_threshold(np.concatenate([matches, others]))
    assert 0.45 <= choice.threshold <= 0.55
    assert choice.expected_precision > 0.97 and choice.expected_recall > 0.95
    assert choose_threshold(np.array([])).threshold == 0.5  # no pairs: the neutral cut


@given(st.lists(st.integers(0, 6), min_size=1, max_size=40))
def test_a_clustering_scored_against_itself_is_perfect(labels: list[int]) -> None:
    assignment = {("s", str(i)): c for i, c in enumerate(labels)}
    groups: dict[int, set[tuple[str, str]]] = {}
    for record, cluster in assignment.items():
        groups.setdefault(cluster, set()).add(record)
    scores = score_linkage(assignment, groups.values())
    assert scores.f1 == 1.0 and scores.bcubed_f1 == 1.0 and scores.exact_clusters == 1.0


def test_singletons_have_full_precision_and_no_recall() -> None:
    assignment = {("s", str(i)): i for i in range(4)}
    scores = score_linkage(assignment, [{("s", "0"), ("s", "1")}, {("s", "2"), ("s", "3")}])
    assert scores.precision == 1.0 and scores.recall == 0.0 and scores.f1 == 0.0
    assert scores.bcubed_precision == 1.0 and scores.bcubed_recall == 0.5
