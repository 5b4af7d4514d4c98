"""`rapport evaluate next-basket` as a user runs it: CSV, Parquet and JSONL files, the JSON shape, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from rapport.cli.main import app
from rapport.datasets.instacart import DAYS, ITEM, ORDER, USER, load_instacart

runner = CliRunner()
COLUMNS = ["--user-column", USER, "--order-column", ORDER, "--item-column", ITEM]


@pytest.fixture(scope="module")
def orders() -> pd.DataFrame:
    """The first 80 Instacart users: small enough to evaluate in a second."""
    frame = load_instacart()
    return frame[frame[USER].isin(sorted(frame[USER].unique())[:80])]


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["evaluate", "next-basket", *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".jsonl"])
def test_json_shape_for_each_file_type(orders: pd.DataFrame, tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"orders{suffix}"
    if suffix == ".csv":
        orders.to_csv(path, index=False)
    elif suffix == ".parquet":
        orders.to_parquet(path, index=False)
    else:
        orders.to_json(path, orient="records", lines=True)
    code, out, err = run("--orders", str(path), *COLUMNS, "--days-since-prior-column", DAYS, "--json")
    assert code == 0, err
    data = json.loads(out)  # stdout holds the JSON only
    assert set(data) == {"methods", "interval"}
    assert set(data["methods"]) == {"top_frequency", "rapport"}
    for figures in data["methods"].values():
        assert set(figures) == {"recall@10", "ndcg@10"}
        assert 0 < figures["recall@10"] < 1 and 0 < figures["ndcg@10"] < 1
    assert set(data["interval"]) == {"median_interval", "rapport"}
    assert all(set(v) == {"mae"} and v["mae"] > 0 for v in data["interval"].values())


@pytest.fixture(scope="module")
def csv_file(orders: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("orders") / "orders.csv"
    orders.to_csv(path, index=False)
    return path


def test_table_and_no_days_column(csv_file: Path) -> None:
    code, out, _ = run("--orders", str(csv_file), *COLUMNS)
    assert code == 0
    assert "recall@10" in out and "Rapport" in out and "not evaluated" in out
    code, out, _ = run("--orders", str(csv_file), *COLUMNS, "--json")
    assert json.loads(out)["interval"] == {"median_interval": {"mae": None}, "rapport": {"mae": None}}


def test_missing_column(csv_file: Path) -> None:
    code, out, err = run("--orders", str(csv_file), *COLUMNS[:-1], "sku", "--json")
    assert code == 2 and out == ""
    assert "sku" in err and "product_id" in err


def test_empty_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    code, _, err = run("--orders", str(empty), *COLUMNS)
    assert code == 2 and "empty" in err
    header_only = tmp_path / "header.csv"
    header_only.write_text(f"{USER},{ORDER},{ITEM}\n")
    code, _, err = run("--orders", str(header_only), *COLUMNS)
    assert code == 2 and "no rows" in err


def test_non_numeric_days(orders: pd.DataFrame, tmp_path: Path) -> None:
    bad = orders.astype({DAYS: object})
    bad.iloc[5, bad.columns.get_loc(DAYS)] = "a week"
    path = tmp_path / "bad.csv"
    bad.to_csv(path, index=False)
    code, _, err = run("--orders", str(path), *COLUMNS, "--days-since-prior-column", DAYS)
    assert code == 2 and "a week" in err and DAYS in err


def test_unknown_file_type_and_missing_file(tmp_path: Path) -> None:
    code, _, err = run("--orders", str(tmp_path / "orders.xlsx"), *COLUMNS)
    assert code == 2 and ".xlsx" in err
    code, _, err = run("--orders", str(tmp_path / "nowhere.csv"), *COLUMNS)
    assert code == 2 and "does not exist" in err
