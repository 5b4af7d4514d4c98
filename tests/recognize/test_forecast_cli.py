"""`rapport forecast` as a user runs it on the CDNOW CSV: predictions file, JSON shape, table, date formats, errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from rapport.cli.main import app
from rapport.datasets.cdnow import load_cdnow, write_cdnow_csv

runner = CliRunner()
COLUMNS = ["--customer-column", "customer_id", "--date-column", "date"]
PERIOD = ["--calibration-end", "1997-09-30", "--horizon-end", "1998-06-30"]


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["forecast", *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("forecast")


@pytest.fixture(scope="module")
def cdnow_csv(folder: Path) -> Path:
    return write_cdnow_csv(folder / "cdnow.csv")


@pytest.fixture(scope="module")
def evaluated(cdnow_csv: Path, folder: Path) -> tuple[dict[str, Any], pd.DataFrame]:
    output = folder / "predictions.csv"
    code, out, err = run(
        "--transactions", str(cdnow_csv), *COLUMNS, "--amount-column", "amount", *PERIOD,
        "--output", str(output), "--evaluate", "--json",
    )  # fmt: skip
    assert code == 0, err
    return json.loads(out), pd.read_csv(output)


def test_json_shape_and_paper_figures(evaluated: tuple[dict[str, Any], pd.DataFrame]) -> None:
    data, _ = evaluated
    assert set(data) == {"actual_total", "models"}
    assert data["actual_total"] == 1882
    assert set(data["models"]) == {"bgnbd", "paretonbd", "rapport"}
    for name in ("bgnbd", "paretonbd"):
        assert set(data["models"][name]) == {"params", "loglik", "mae", "rmse", "total"}
    assert set(data["models"]["rapport"]) == {"params", "mae", "rmse", "total"}
    bg = data["models"]["bgnbd"]
    assert bg["params"] == pytest.approx({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}, abs=5e-4)
    assert bg["loglik"] == pytest.approx(-9582.4, abs=0.05)
    assert data["models"]["paretonbd"]["params"]["beta"] == pytest.approx(11.669, rel=1e-3)


def test_errors_agree_with_the_predictions_file(evaluated: tuple[dict[str, Any], pd.DataFrame]) -> None:
    data, table = evaluated
    actual = table["actual_transactions"].to_numpy()
    assert actual.sum() == data["actual_total"]
    for name, column in (("bgnbd", "bgnbd_expected_transactions"), ("rapport", "expected_transactions")):
        diff = table[column].to_numpy() - actual
        assert np.abs(diff).mean() == pytest.approx(data["models"][name]["mae"], rel=1e-4)
        assert np.sqrt((diff**2).mean()) == pytest.approx(data["models"][name]["rmse"], rel=1e-4)


def test_predictions_file(evaluated: tuple[dict[str, Any], pd.DataFrame]) -> None:
    _, table = evaluated
    assert len(table) == 2357 and table["customer_id"].is_unique
    assert {"expected_transactions", "p_alive", "next_purchase_date", "expected_value"} <= set(table.columns)
    assert table["p_alive"].between(0, 1).all()
    dates = pd.to_datetime(table["next_purchase_date"])
    assert (dates.dropna() >= pd.Timestamp("1997-09-30")).all() and dates.notna().mean() > 0.99
    assert (table["expected_value"] >= 0).all()
    # more purchases so far, sooner next purchase (for customers who bought on the same last day)
    active = table[table["p_alive"] > 0.99].sort_values("expected_transactions")
    assert dates[active.index[-1]] <= dates[active.index[0]]


def test_table_side_by_side(cdnow_csv: Path, folder: Path) -> None:
    code, out, err = run(
        "--transactions", str(cdnow_csv), *COLUMNS, *PERIOD, "--output", str(folder / "t.csv"), "--evaluate"
    )
    assert code == 0, err
    for label in ("BG/NBD", "Pareto/NBD", "Rapport", "MAE", "RMSE", "1,882"):
        assert label in out


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    """The first 600 customers of CDNOW: enough to fit, quick to run."""
    frame = load_cdnow()
    return frame[frame["customer_id"].isin(frame["customer_id"].unique()[:600])]


def forecast_json(path: Path, *extra: str) -> dict[str, Any]:
    code, out, err = run(
        "--transactions",
        str(path),
        *COLUMNS,
        "--output",
        str(path.with_suffix(".out.csv")),
        "--evaluate",
        "--json",
        *extra,
    )
    assert code == 0, err
    return json.loads(out)


def test_date_formats_give_the_same_forecast(sample: pd.DataFrame, folder: Path) -> None:
    iso, compact, custom = folder / "iso.csv", folder / "compact.csv", folder / "custom.csv"
    sample.assign(date=sample["date"].dt.strftime("%Y-%m-%d")).to_csv(iso, index=False)
    sample.assign(date=sample["date"].dt.strftime("%Y%m%d")).to_csv(compact, index=False)
    sample.assign(date=sample["date"].dt.strftime("%d/%m/%Y")).to_csv(custom, index=False)
    expected = forecast_json(iso, *PERIOD)
    assert forecast_json(compact, "--calibration-end", "19970930", "--horizon-end", "19980630") == expected
    custom_period = ["--calibration-end", "30/09/1997", "--horizon-end", "30/06/1998"]
    assert forecast_json(custom, "--date-format", "%d/%m/%Y", *custom_period) == expected


def test_parquet_and_quantities(sample: pd.DataFrame, folder: Path) -> None:
    path = folder / "sample.parquet"
    with_zero = pd.concat([sample, sample.head(3).assign(n_cds=0, date=pd.Timestamp("1997-12-01"))])
    with_zero.to_parquet(path, index=False)
    data = forecast_json(path, *PERIOD, "--quantity-column", "n_cds")
    assert data["actual_total"] == forecast_json(path, *PERIOD)["actual_total"] - 1  # zero-quantity lines skipped


def write(folder: Path, name: str, rows: list[str]) -> Path:
    path = folder / name
    path.write_text("\n".join(["cust,day,amt,qty", *rows]) + "\n")
    return path


GOOD = ["a,2024-01-01,5,1", "a,2024-02-10,3,1", "b,2024-01-03,4,2", "b,2024-03-20,2,1", "c,2024-01-05,9,1"]


@pytest.mark.parametrize(
    ("rows", "args", "message"),
    [
        (["a,2024-01-01,5,1", "a,2024-02-30,3,1"], [], "row 2: '2024-02-30' is not a date"),
        (["a,2024-01-01,5,1", "b,,3,1"], [], "'day' row 2 is empty"),
        (["a,2024-01-01,5,1", "a,2024-01-20,-3,1"], ["--amount-column", "amt"], "'amt' row 2: '-3' is negative"),
        (["a,2024-01-01,5,1", "a,2024-01-20,3,-2"], ["--quantity-column", "qty"], "'qty' row 2: '-2' is negative"),
        (["a,2024-01-01,five,1"], ["--amount-column", "amt"], "'five' is not a number"),
        (GOOD, ["--customer-column", "client"], "lack the column(s) ['client']"),
        (GOOD, ["--calibration-end", "2023-06-30"], "Calibration end 2023-06-30 is outside the data"),
        (GOOD, ["--calibration-end", "2024-05-01"], "outside the data, which runs from 2024-01-01 to 2024-03-20"),
        (GOOD, ["--horizon-end", "2024-02-01"], "Horizon end 2024-02-01 is not after the calibration end"),
        (GOOD, ["--calibration-end", "2024-03-20", "--evaluate"], "--evaluate needs purchases after"),
        (GOOD, ["--calibration-end", "15/02/2024"], "--calibration-end '15/02/2024' is not a date"),
    ],
    ids=[
        "bad-date", "empty-date", "negative-amount", "negative-quantity", "text-amount", "missing-column",
        "calibration-before-data", "calibration-after-data", "horizon-before-calibration", "evaluate-without-horizon",
        "bad-calibration-date",
    ],
)  # fmt: skip
def test_bad_input_is_explained(folder: Path, rows: list[str], args: list[str], message: str) -> None:
    path = write(folder, "bad.csv", rows)
    options = {"--customer-column": "cust", "--date-column": "day", "--calibration-end": "2024-02-15"}
    options |= {"--horizon-end": "2024-04-30", "--output": str(folder / "bad.out.csv")}
    flags = [a for a in args if a == "--evaluate"]
    pairs = [a for a in args if a != "--evaluate"]
    options |= dict(zip(pairs[::2], pairs[1::2], strict=True))
    code, out, err = run("--transactions", str(path), *[v for kv in options.items() for v in kv], *flags)
    assert code == 2 and out == ""
    assert message in err.replace("\n", "")


def test_unknown_file_type(folder: Path) -> None:
    path = folder / "tx.xlsx"
    path.write_text("x")
    code, _, err = run("--transactions", str(path), *COLUMNS, *PERIOD, "--output", str(folder / "o.csv"))
    assert code == 2 and "unknown file type '.xlsx'" in err
