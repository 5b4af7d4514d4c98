"""Replenishment: shrinkage behaviour on a known population, and the Instacart hold-out against personal baselines."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rapport.datasets.instacart import DAYS, ITEM, ORDER, USER, instacart_path, load_instacart
from rapport.errors import InvalidInput
from rapport.recognize.need import Need
from rapport.recognize.next_basket import NextBasketModel, order_lines
from rapport.recognize.next_basket_evaluation import evaluate_next_basket
from rapport.recognize.order_interval import OrderIntervalModel
from rapport.recognize.replenishment import ReplenishmentModel

START = pd.Timestamp("2024-01-01")


def population(seed: int = 0) -> pd.DataFrame:
    """200 customers buying milk about weekly and coffee about monthly, a loyal 3-day milk buyer, a newcomer."""
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(200):
        for item, median in (("milk", 7.0), ("coffee", 30.0)):
            t = rng.uniform(0, 10)
            theta = np.log1p(median) + rng.normal(0, 0.2)
            for _ in range(rng.integers(2, 8)):
                rows.append((f"c{c}", item, START + pd.Timedelta(days=float(t))))
                t += np.expm1(theta + rng.normal(0, 0.3))
    rows += [("loyal", "milk", START + pd.Timedelta(days=3.0 * k)) for k in range(20)]
    rows += [("new", "milk", START + pd.Timedelta(days=50)), ("new", "coffee", START + pd.Timedelta(days=50))]
    return pd.DataFrame(rows, columns=["customer_id", "item", "at"])


@pytest.fixture(scope="module")
def model() -> ReplenishmentModel:
    return ReplenishmentModel().fit(population(), "customer_id", "item", "at")


def interval_of(model: ReplenishmentModel, customer: str, item: str) -> float:
    table = model.predict()
    row = table[(table["customer"] == customer) & (table["item"] == item)].iloc[0]
    return float(row["median_interval"])


def test_new_customer_gets_the_items_cadence(model: ReplenishmentModel) -> None:
    milk, coffee = interval_of(model, "new", "milk"), interval_of(model, "new", "coffee")
    assert 5.5 < milk < 8.5
    assert 25 < coffee < 36
    post = model.posterior(["new"], ["milk"])
    assert post["weight"].iloc[0] == 0.0


def test_loyal_customer_gets_their_own_cadence(model: ReplenishmentModel) -> None:
    loyal = interval_of(model, "loyal", "milk")
    assert abs(loyal - 3.0) < 0.6  # their own 3 days, not milk's 7
    assert model.posterior(["loyal"], ["milk"])["weight"].iloc[0] > 0.8


def test_unknown_item_gets_the_population_prior_with_a_wider_band(model: ReplenishmentModel) -> None:
    post = model.posterior(["new", "new"], ["tea", "milk"])
    assert post["m"].iloc[0] == pytest.approx(model.hyper["mu"])
    assert post["sd"].iloc[0] > post["sd"].iloc[1]


def test_more_intervals_mean_more_own_weight(model: ReplenishmentModel) -> None:
    table = model.predict()
    milk = table[table["item"] == "milk"]
    by_count = milk.groupby("intervals")["weight"].mean()
    assert by_count.is_monotonic_increasing
    assert (table["next_low"] <= table["next_at"]).all() and (table["next_at"] <= table["next_high"]).all()


def test_needs_have_reasons_and_round_trip(model: ReplenishmentModel) -> None:
    needs = model.needs(datetime(2024, 1, 25, tzinfo=UTC), lead_time_days=3)
    assert needs and all(n.kind == "replenish" and 0 <= n.confidence <= 1 for n in needs)
    assert all("about every" in n.reason for n in needs)
    assert Need.from_dict(needs[0].to_dict()) == needs[0]
    horizon = datetime(2024, 1, 28, tzinfo=UTC)
    assert all(n.due_at <= horizon for n in needs)


def test_save_and_load(model: ReplenishmentModel, tmp_path: Path) -> None:
    model.save(tmp_path / "model.json")
    loaded = ReplenishmentModel.load(tmp_path / "model.json")
    pd.testing.assert_frame_equal(loaded.predict(), model.predict())


def test_bad_purchases_are_refused() -> None:
    with pytest.raises(InvalidInput, match="'at'"):
        ReplenishmentModel().fit(pd.DataFrame({"customer_id": [1], "item": ["a"]}), time_col="at")
    once = pd.DataFrame({"customer_id": [1, 2], "item": ["a", "a"], "t": [0.0, 3.0]})
    with pytest.raises(InvalidInput, match="twice"):
        ReplenishmentModel().fit(once)


def test_order_interval_shrinks_toward_the_population() -> None:
    rows = [("regular", g) for g in [7.0] * 30] + [("newish", 2.0)]
    rows += [(f"p{i}", float(g)) for i, g in enumerate(np.random.default_rng(1).integers(10, 20, 300))]
    model = OrderIntervalModel(half_life=8, concentration=2).fit(pd.DataFrame(rows, columns=["c", "gap"]), "c", "gap")
    table = model.predict(["regular", "newish", "stranger"])
    assert table.loc["regular", "median"] == 7.0
    assert table.loc["newish", "median"] > 2.0  # one short gap is not trusted alone
    assert 10 <= table.loc["stranger", "median"] <= 20


# ---- Instacart: hold out each user's last order --------------------------------------------------------------


@pytest.fixture(scope="module")
def instacart() -> pd.DataFrame:
    return load_instacart()


@pytest.fixture(scope="module")
def result(instacart: pd.DataFrame) -> dict:
    return evaluate_next_basket(instacart, USER, ORDER, ITEM, DAYS, k=10)


def test_instacart_sample_is_as_documented(instacart: pd.DataFrame) -> None:
    assert len(instacart) == 150_000
    assert instacart["order_id"].nunique() == 15_183
    assert instacart[USER].nunique() == 593


def test_instacart_loader_takes_a_path(tmp_path: Path) -> None:
    assert len(load_instacart(instacart_path())) == 150_000
    with pytest.raises(InvalidInput, match="does not exist"):
        load_instacart(tmp_path / "df_sample.csv")
    (tmp_path / "other.csv").write_text("a,b\n1,2\n")
    with pytest.raises(InvalidInput, match="lacks the Instacart columns"):
        load_instacart(tmp_path / "other.csv")


def test_rapport_beats_both_personal_baselines(result: dict) -> None:
    base, ours = result["methods"]["top_frequency"], result["methods"]["rapport"]
    assert ours["recall@10"] > base["recall@10"]
    assert ours["ndcg@10"] > base["ndcg@10"]
    assert result["interval"]["rapport"]["mae"] < result["interval"]["median_interval"]["mae"]


def test_baselines_match_a_plain_recomputation(instacart: pd.DataFrame, result: dict) -> None:
    """The baselines are the honest ones: recomputed here by hand, they give the same figures."""
    last = instacart.groupby(USER)[ORDER].transform("max")
    known_all = instacart[instacart[ORDER] < last]
    buyers = known_all.groupby(ITEM)[USER].nunique()
    popular = sorted(buyers.index, key=lambda i: (-buyers[i], i))[:50]
    recalls, errors = [], []
    for _, user in instacart.groupby(USER):
        final = user[ORDER].max()
        held, known = user[user[ORDER] == final], user[user[ORDER] < final]
        counts = Counter(known[ITEM])
        latest = known.groupby(ITEM)[ORDER].max()
        top = sorted(counts, key=lambda i: (-counts[i], -latest[i], i))
        top = (top + [i for i in popular if i not in counts])[:10]
        truth = set(held[ITEM])
        recalls.append(len(truth & set(top)) / len(truth))
        gaps = known.drop_duplicates(ORDER)[DAYS].dropna()
        errors.append(abs(gaps.median() - held[DAYS].iloc[0]))
    assert result["methods"]["top_frequency"]["recall@10"] == pytest.approx(float(np.mean(recalls)))
    assert result["interval"]["median_interval"]["mae"] == pytest.approx(float(np.mean(errors)))


def test_next_basket_model_recommends_saves_and_times(instacart: pd.DataFrame, tmp_path: Path) -> None:
    first = instacart[instacart[USER].isin(sorted(instacart[USER].unique())[:60])]
    model = NextBasketModel().fit(order_lines(first, USER, ORDER, ITEM, DAYS))
    top = model.recommend(k=5)
    assert (top.groupby("customer").size() == 5).all() and top["customer"].nunique() == 60
    timing = model.days_to_next_order()
    assert ((timing["low"] <= timing["median"]) & (timing["median"] <= timing["high"])).all()
    assert timing["median"].between(0, 30).all()
    model.save(tmp_path / "basket.pkl")
    pd.testing.assert_frame_equal(NextBasketModel.load(tmp_path / "basket.pkl").recommend(k=5), top)
