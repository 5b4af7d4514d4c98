"""`rapport link` on files that are not FEBRL: other column names, other formats, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from rapport.cli.main import app
from rapport.demo.people_records import synthetic_people

runner = CliRunner()


def _two_systems(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A web shop's customers and a call centre's contacts of the same people, each system with its own names."""
    people = synthetic_people(2400, duplicate_share=0.3, seed=5)
    first = ~people.duplicated("person")
    web = people[first].rename(columns={"first_name": "Vorname", "last_name": "Nachname", "birth_date": "Geburtsdatum",
                                        "street": "Strasse", "postcode": "PLZ", "city": "Ort", "email": "E-Mail"})  # fmt: skip
    web = web.drop(columns=["phone", "person"])
    calls = people[~first].drop_duplicates("person")
    crm = calls.rename(columns={"first_name": "forename", "last_name": "family name", "birth_date": "dob",
                                "street": "address line", "postcode": "zip", "city": "town"})  # fmt: skip
    crm = crm.drop(columns=["email", "person"])
    web.to_csv(tmp_path / "web.csv", index=False)
    crm.to_csv(tmp_path / "crm.csv", sep=";", index=False)  # another delimiter, sniffed
    truth = pd.concat([people[first], calls])[["id", "person"]]
    truth.to_csv(tmp_path / "truth.csv", index=False)
    return tmp_path / "web.csv", tmp_path / "crm.csv", tmp_path / "truth.csv"


def test_links_two_systems_with_their_own_column_names(tmp_path: Path) -> None:
    web, crm, truth = _two_systems(tmp_path)
    out = tmp_path / "clusters.csv"
    args = ["link", "--input", str(web), "--input", str(crm), "--id-column", "id", "--output", str(out)]
    result = runner.invoke(app, [*args, "--labels", str(truth), "--json"])
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["features"]["crm"]["surname"] == "family name"
    assert summary["features"]["web"]["postcode"] == "PLZ"
    assert "email" not in summary["features"]["web"]  # the call centre has none: not compared
    assert summary["scores"]["true_pairs"] > 400
    assert summary["scores"]["f1"] >= 0.95
    clusters = pd.read_csv(out, dtype=str)
    assert set(clusters["source"]) == {"web", "crm"}
    linked = clusters.dropna(subset=["match_probability"])
    assert (linked["match_probability"].astype(float) >= summary["threshold"]).all()
    # A stricter --threshold links fewer or as many pairs, never more.
    strict = runner.invoke(app, [*args, "--threshold", "0.999", "--labels", str(truth), "--json"])
    assert json.loads(strict.stdout)["scores"]["predicted_pairs"] <= summary["scores"]["predicted_pairs"]
    assert json.loads(strict.stdout)["threshold"] == 0.999


def test_the_human_readable_run_prints_the_table(tmp_path: Path) -> None:
    web, crm, truth = _two_systems(tmp_path)
    args = ["link", "--input", str(web), "--input", str(crm), "--id-column", "id"]
    result = runner.invoke(app, [*args, "--output", str(tmp_path / "o.csv"), "--labels", str(truth)])
    assert result.exit_code == 0, result.stderr
    assert "chosen without labels" in result.stdout and "bcubed f1" in result.stdout


def _fail(args: list[str]) -> str:
    result = runner.invoke(app, ["link", *args])
    assert result.exit_code == 2, result.stdout
    return " ".join(result.stderr.split())


@pytest.fixture
def people_csv(tmp_path: Path) -> Path:
    path = tmp_path / "people.csv"
    synthetic_people(200, seed=3).drop(columns=["person"]).to_csv(path, index=False)
    return path


def test_a_missing_id_column_names_the_columns_there_are(people_csv: Path, tmp_path: Path) -> None:
    message = _fail(["--input", str(people_csv), "--id-column", "customer", "--output", str(tmp_path / "o.csv")])
    assert "no column 'customer'" in message and "first_name" in message


def test_duplicate_ids_are_refused(people_csv: Path, tmp_path: Path) -> None:
    frame = pd.read_csv(people_csv, dtype=str)
    frame.loc[5, "id"] = frame.loc[4, "id"]
    frame.to_csv(people_csv, index=False)
    message = _fail(["--input", str(people_csv), "--id-column", "id", "--output", str(tmp_path / "o.csv")])
    assert "occur more than once" in message and "'r4'" in message
    assert not (tmp_path / "o.csv").exists()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "is empty"),
        (b"id,first_name,last_name\n", "no rows"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "not a CSV file"),
        (b'[{"id": 1, "name": "Anna"}]', "looks like JSON"),
        (b"<html><body>export</body></html>", "looks like HTML"),
    ],
)
def test_files_that_are_not_usable_csv_get_a_clear_error(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "people.csv"
    path.write_bytes(content)
    assert expected in _fail(["--input", str(path), "--id-column", "id", "--output", str(tmp_path / "o.csv")])


def test_a_file_with_nothing_to_compare_says_which_columns_it_needs(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("id,amount,sku\n1,9.99,A\n2,5.00,B\n")
    message = _fail(["--input", str(path), "--id-column", "id", "--output", str(tmp_path / "o.csv")])
    assert "at least two attributes" in message and "birth_date" in message


def test_bad_options_are_refused(people_csv: Path, tmp_path: Path) -> None:
    base = ["--input", str(people_csv), "--id-column", "id"]
    assert "--output" in _fail(base)
    assert "strictly between 0 and 1" in _fail([*base, "--output", str(tmp_path / "o.csv"), "--threshold", "1.5"])
    assert "--input" in _fail(["--output", str(tmp_path / "o.csv")])
    assert "does not exist" in _fail(["--input", str(tmp_path / "nope.csv"), "--output", str(tmp_path / "o.csv")])


def test_labels_naming_unknown_records_are_refused(people_csv: Path, tmp_path: Path) -> None:
    labels = tmp_path / "labels.csv"
    labels.write_text("id_l,id_r\nr1,r999999\n")
    args = ["--input", str(people_csv), "--id-column", "id", "--output", str(tmp_path / "o.csv")]
    assert "'r999999' is in no input file" in _fail([*args, "--labels", str(labels)])
