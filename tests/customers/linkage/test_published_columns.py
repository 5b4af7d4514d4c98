"""Column names and split dates as other tools publish them: recognition, partial dates, and `--column`."""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rapport.customers.linkage import roles as r
from rapport.customers.linkage.attributes import attributes_from_traits
from rapport.customers.linkage.comparisons import comparison_for
from rapport.customers.linkage.files import read_people_file
from rapport.customers.linkage.prepare import date_parts, prepare_records
from rapport.customers.linkage.roles import feature_names, name_candidates, recognise_roles
from rapport.datasets.rldata import census_cis_paths, rldata10000_path


@pytest.mark.parametrize(
    ("column", "role"),
    [
        ("fname_c1", r.GIVEN_NAME), ("fname_c2", r.GIVEN_NAME), ("lname_c2", r.SURNAME), ("given_name", r.GIVEN_NAME),
        ("surname", r.SURNAME), ("first", r.GIVEN_NAME), ("last", r.SURNAME), ("Vorname", r.GIVEN_NAME),
        ("Nachname", r.SURNAME), ("vn", r.GIVEN_NAME), ("nn", r.SURNAME), ("P_FName", r.GIVEN_NAME),
        ("PERNAME1", r.GIVEN_NAME), ("PERNAME2", r.SURNAME), ("firstName", r.GIVEN_NAME), ("gebdat", r.BIRTH_DATE),
        ("Geburtsdatum", r.BIRTH_DATE), ("geb_jahr", r.BIRTH_YEAR), ("Geburtsjahr", r.BIRTH_YEAR),
        ("Geburtsmonat", r.BIRTH_MONTH), ("Geburtstag", r.BIRTH_DAY), ("by", r.BIRTH_YEAR), ("bm", r.BIRTH_MONTH),
        ("bd", r.BIRTH_DAY), ("birth_year", r.BIRTH_YEAR), ("birthMonth", r.BIRTH_MONTH), ("DOB_DAY", r.BIRTH_DAY),
        ("year_of_birth", r.BIRTH_YEAR), ("Strasse", r.ADDRESS), ("Straße", r.ADDRESS), ("str", r.ADDRESS),
        ("PLZ", r.POSTCODE), ("zip_code", r.POSTCODE), ("Ort", r.CITY), ("Wohnort", r.CITY), ("Hausnr", r.STREET_NUMBER),
        ("address_line_1", r.ADDRESS), ("E-Mail", r.EMAIL),
    ],
)  # fmt: skip
def test_a_name_proposes_its_role_first(column: str, role: str) -> None:
    assert name_candidates(column)[0] == role


def test_words_that_only_look_like_a_role_after_a_prefix_propose_none() -> None:
    assert name_candidates("cust_no") == [] and name_candidates("rec_id") == []


def test_content_decides_between_a_day_and_a_birthday() -> None:
    frame = pd.DataFrame({"id": ["1", "2"], "Geburtstag": ["03.04.1980", "1975-12-01"], "birth_day": ["3", "31"]})
    found = {cr.column: cr.role for cr in recognise_roles(frame, exclude=("id",))}
    assert found == {"Geburtstag": r.BIRTH_DATE}  # a full date wins over a day column beside it


def test_vorname_and_name_read_name_as_the_surname() -> None:
    frame = pd.DataFrame(
        {"id": ["1", "2", "3"], "Vorname": ["Jörg", "Anna", "Uwe"], "Name": ["Müller", "Weber", "Graf"]}
    )
    assert {cr.column: cr.role for cr in recognise_roles(frame, exclude=("id",))} == {
        "Vorname": r.GIVEN_NAME,
        "Name": r.SURNAME,
    }


def test_rldata10000_columns_are_recognised_without_a_mapping() -> None:
    frame = read_people_file(rldata10000_path(), "id")
    features = feature_names(recognise_roles(frame, exclude=("id",)))
    assert {name: cr.column for name, cr in features.items()} == {
        "given_name": "fname_c1",
        "given_name_2": "fname_c2",
        "surname": "lname_c1",
        "surname_2": "lname_c2",
        "birth_date": "by+bm+bd",
    }  # and true_id, the truth, is no attribute
    cleaned = prepare_records(frame, features, "id", "rldata")
    assert cleaned["given_name_2"].isna().mean() == pytest.approx(0.931, abs=0.001)  # R's NA read as missing
    first = frame.iloc[0]
    assert (first["by"], first["bm"], first["bd"]) == ("1967", "9", "27")
    assert cleaned.loc[0, "birth_date"] == "19670927"


def test_census_dates_with_missing_parts_stay_partial() -> None:
    census = read_people_file(census_cis_paths()[0], "CENSUS_ID")
    features = feature_names(recognise_roles(census, exclude=("CENSUS_ID", "PERSON_ID")))
    assert features["birth_date"].parts == (
        (r.BIRTH_YEAR, "DOB_YEAR"),
        (r.BIRTH_MONTH, "DOB_MON"),
        (r.BIRTH_DAY, "DOB_DAY"),
    )
    assert features["given_name"].column == "PERNAME1" and features["surname"].column == "PERNAME2"
    keys = prepare_records(census, features, "CENSUS_ID", "census")["birth_date"]
    no_year, no_day = census["DOB_YEAR"] == "", census["DOB_DAY"] == ""
    assert no_year.sum() > 300 and no_day.sum() > 300  # the file as published lacks parts
    assert keys[no_year.to_numpy()].dropna().str.startswith("----").all()
    assert keys[no_day.to_numpy()].dropna().str.endswith("--").all()
    assert keys[(~no_year & ~no_day).to_numpy()].str.fullmatch(r"\d{8}").all()  # nothing invented, nothing lost


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2030, 12, 31)))
def test_a_date_in_parts_cleans_to_the_same_key_as_written_whole(day: date) -> None:
    frame = pd.DataFrame(
        {
            "id": ["a", "b"],
            "dob": [day.isoformat(), ""],
            "by": ["", str(day.year)],
            "bm": ["", str(day.month)],
            "bd": ["", str(day.day)],
        }
    )
    whole = feature_names(recognise_roles(frame.iloc[:1][["id", "dob"]], exclude=("id",)))
    split = {"birth_date": r.ColumnRole("by+bm+bd", r.BIRTH_DATE, "test", (("birth_year", "by"),
             ("birth_month", "bm"), ("birth_day", "bd")))}  # fmt: skip
    assert (
        prepare_records(frame.iloc[:1], whole, "id", "s").loc[0, "birth_date"]
        == prepare_records(frame.iloc[1:], split, "id", "s").loc[0, "birth_date"]
    )


def test_partial_dates_written_in_one_column_parse_as_partial() -> None:
    assert date_parts("1967") == (1967, None, None)
    assert date_parts("09/1967") == (1967, 9, None) and date_parts("1967-09") == (1967, 9, None)
    assert date_parts("27.09.1967") == (1967, 9, 27) and date_parts("hello") is None
    assert attributes_from_traits({"birthYear": 1967, "birthMonth": "9"})["birth_date"] == "1967-09"


def _level(left: str | None, right: str | None) -> str:
    """The label of the birth date comparison level a pair of keys reaches, evaluated by DuckDB as Splink would."""
    levels = comparison_for("birth_date").get_comparison("duckdb").comparison_levels
    cases = " ".join(
        f"when {lv.sql_condition} then '{lv.label_for_charts}'"
        for lv in levels
        if not lv.is_null_level and lv.sql_condition != "ELSE"
    )
    sql = f"select case when birth_date_l is null or birth_date_r is null then 'null' {cases} else 'other' end from t"
    con = duckdb.connect()
    con.execute('create table t ("birth_date_l" varchar, "birth_date_r" varchar)')
    con.execute("insert into t values (?, ?)", [left, right])
    return str(con.execute(sql).fetchone()[0])


def test_partial_dates_compare_on_what_both_sides_know() -> None:
    assert _level("19670927", "19670927").startswith("Exact match")
    assert _level("1967----", "1967----") == "known parts agree"  # equal, but not the evidence of a full date
    assert _level("1967----", "19670927") == "known parts agree"
    assert _level("----0927", "19670927") == "known parts agree"
    assert _level("196709--", "19670927") == "known parts agree"
    assert _level("1967----", "----0927") == "other"  # nothing known on both sides
    assert _level("1968----", "19670927") == "other"
    assert _level("19670927", "19670972").startswith("Damerau")  # a transposed day is still a typo
    assert _level(None, "19670927") == "null"
