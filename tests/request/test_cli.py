"""`rapport recommend`, `rapport evaluate recommend` and `rapport train` as a user runs them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from rapport.cli.main import app
from rapport.config import Settings
from rapport.customers.ingestion import ingest
from rapport.datasets.instacart import ITEM, ORDER, USER, load_instacart
from rapport.store.store import Store
from tests.request.conftest import catalogue_rows, shop_events

runner = CliRunner()
COLUMNS = ["--user-column", USER, "--item-column", ITEM]


@pytest.fixture(scope="module")
def orders() -> pd.DataFrame:
    """The first 60 Instacart users."""
    frame = load_instacart()
    return frame[frame[USER].isin(sorted(frame[USER].unique())[:60])][[USER, ORDER, ITEM]]


def _write(frame: pd.DataFrame, path: Path) -> Path:
    if path.suffix == ".csv":
        frame.to_csv(path, index=False)
    elif path.suffix == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_json(path, orient="records", lines=True)
    return path


def _read(path: Path) -> pd.DataFrame:
    if path.suffix == ".csv":
        return pd.read_csv(path)
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    return pd.read_json(path, lines=True)


@pytest.mark.parametrize(("source", "target"), [(".csv", ".csv"), (".parquet", ".jsonl"), (".jsonl", ".parquet")])
def test_recommend_reads_and_writes_each_format(orders: pd.DataFrame, tmp_path: Path, source: str, target: str) -> None:
    path = _write(orders, tmp_path / f"in{source}")
    out = tmp_path / f"recs{target}"
    result = runner.invoke(
        app,
        ["recommend", "--interactions", str(path), *COLUMNS, "--time-column", ORDER, "--k", "5", "--output", str(out)],
    )
    assert result.exit_code == 0, result.stderr
    recs = _read(out)
    assert list(recs.columns) == [USER, ITEM, "score", "rank", "reason"]
    assert set(recs[USER]) == set(orders[USER])
    assert (recs.groupby(USER).size() == 5).all() and recs["reason"].str.len().gt(0).all()
    # every reason states true evidence: the count of the customer's own orders, or an item they bought
    for user in orders[USER].unique()[:10]:
        counts = orders[orders[USER] == user].groupby(ITEM)[ORDER].nunique()
        for item, reason in recs.loc[recs[USER] == user, [ITEM, "reason"]].itertuples(index=False):
            found = re.match(r"you bought this (\d+) times?", reason)
            named = re.search(r"(?:goes with|people who bought) (\d+)", reason)
            if found:
                assert int(found.group(1)) == counts[item]
            elif named:
                assert int(named.group(1)) in counts.index and int(named.group(1)) != item
            else:
                assert reason.startswith("popular"), reason


def test_recommend_without_time_column(orders: pd.DataFrame, tmp_path: Path) -> None:
    path = _write(orders, tmp_path / "in.csv")
    out = tmp_path / "recs.csv"
    result = runner.invoke(app, ["recommend", "--interactions", str(path), *COLUMNS, "--k", "3", "--output", str(out)])
    assert result.exit_code == 0, result.stderr
    assert len(pd.read_csv(out)) == 3 * orders[USER].nunique()


def test_bad_input_gets_clear_errors(orders: pd.DataFrame, tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    header_only = tmp_path / "header.csv"
    header_only.write_text(f"{USER},{ITEM}\n")
    good = _write(orders, tmp_path / "in.csv")
    out = str(tmp_path / "recs.csv")
    cases = [
        (["--interactions", str(empty), *COLUMNS, "--output", out], "empty"),
        (["--interactions", str(header_only), *COLUMNS, "--output", out], "no rows"),
        (["--interactions", str(good), "--user-column", "who", "--item-column", ITEM, "--output", out], "who"),
        (["--interactions", str(good), *COLUMNS, "--k", "0", "--output", out], "k=0"),
        (["--interactions", str(good), *COLUMNS, "--k", "5000", "--output", out], "k=5000"),
        (["--interactions", str(good), *COLUMNS, "--output", str(tmp_path / "recs.xlsx")], ".xlsx"),
    ]
    for args, needle in cases:
        result = runner.invoke(app, ["recommend", *args])
        assert result.exit_code == 2 and needle in result.stderr, (args, result.stderr)


def test_evaluate_recommend_json_and_table(orders: pd.DataFrame, tmp_path: Path) -> None:
    path = _write(orders, tmp_path / "orders.csv")
    args = ["evaluate", "recommend", "--interactions", str(path), *COLUMNS, "--time-column", ORDER, "--k", "10"]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data["methods"]) == {"popularity", "als", "ease", "top_frequency", "rapport"}
    assert data["split"]["kind"] == "last"  # order numbers with repeats: each user's last order is held out
    for figures in data["methods"].values():
        for metric in ("recall@10", "precision@10", "ndcg@10", "map@10", "coverage@10"):
            assert 0.0 <= figures[metric] <= 1.0
    assert data["methods"]["top_frequency"]["recall@10"] > data["methods"]["popularity"]["recall@10"]
    table = runner.invoke(app, args)
    assert table.exit_code == 0 and "Rapport (blend)" in table.stdout and "recall@10" in table.stdout
    missing = runner.invoke(app, [*args[:-4], "--time-column", "when", "--json"])
    assert missing.exit_code == 2 and "when" in missing.stderr


def test_train_from_the_store(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    store = Store(Settings(database_url=url))
    ingest(store, shop_events(), store.settings)
    items = _write(pd.DataFrame(catalogue_rows()), tmp_path / "items.csv")
    loaded = runner.invoke(app, ["catalogue", "--items", str(items), "--database", url])
    assert loaded.exit_code == 0, loaded.stderr
    assert store.offers.available_skus() == {"POD-A", "POD-B", "POD-D", "TON-A", "TON-B", "MED-A", "PRN-A", "PRN-NEW"}
    no_sku = _write(pd.DataFrame({"name": ["x"]}), tmp_path / "bad.csv")
    bad = runner.invoke(app, ["catalogue", "--items", str(no_sku), "--database", url])
    assert bad.exit_code == 2 and "sku" in bad.stderr
    result = runner.invoke(app, ["train", "--database", url, "--json"])
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["version"] == store.offers.latest_model_version()
    assert summary["customers"] == 41 and summary["items"] == len(catalogue_rows())
    empty = runner.invoke(app, ["train", "--database", f"sqlite:///{tmp_path / 'empty.db'}"])
    assert empty.exit_code == 2 and "No order lines" in empty.stderr
    store.close()


def test_evaluate_recommend_bad_input(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    base = ["evaluate", "recommend", *COLUMNS, "--time-column", ORDER]
    result = runner.invoke(app, [*base, "--interactions", str(empty)])
    assert result.exit_code == 2 and "empty" in result.stderr
    once = _write(pd.DataFrame({USER: [1, 2], ITEM: [5, 6], ORDER: [1, 1]}), tmp_path / "once.csv")
    result = runner.invoke(app, [*base, "--interactions", str(once)])
    assert result.exit_code == 2 and "two or more times" in result.stderr
    result = runner.invoke(app, [*base, "--interactions", str(once), "--split", "sideways"])
    assert result.exit_code == 2 and "sideways" in result.stderr
