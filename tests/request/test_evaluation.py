"""Rankers, splits and metrics: EASE's two forms agree, splits never look forward, metrics match hand counts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rapport.datasets.movielens import load_movielens_100k, write_movielens_csv
from rapport.errors import InvalidInput
from rapport.request.comparison import evaluate_recommenders
from rapport.request.ease import EASE
from rapport.request.evaluation import TimeSplit, offline_metrics, top_items
from rapport.request.interactions import Interactions, interaction_table
from rapport.request.rankers import RepeatRanker, TopFrequency

tables = st.lists(st.tuples(st.integers(0, 6), st.integers(0, 9), st.integers(0, 20)), min_size=1, max_size=80).map(
    lambda rows: pd.DataFrame(rows, columns=["customer", "item", "t"]).astype({"t": float})
)


@given(tables, st.sampled_from(["last", "fraction", "global"]), st.floats(0.1, 0.9))
def test_splits_never_look_forward(table: pd.DataFrame, kind: str, fraction: float) -> None:
    try:
        train, test = TimeSplit(kind, fraction).apply(table)  # type: ignore[arg-type]
    except InvalidInput:
        return  # nothing to hold out: a clear error, tested below
    assert len(train) + len(test) <= len(table)
    assert set(test["customer"]) <= set(train["customer"])
    if kind == "global":
        assert test["t"].min() > train["t"].max()
    else:
        latest = train.groupby("customer")["t"].max()
        assert (test["t"].to_numpy() >= latest.reindex(test["customer"]).to_numpy()).all()


def test_split_with_nothing_to_hold_out() -> None:
    single = pd.DataFrame({"customer": [1, 2], "item": [1, 2], "t": [1.0, 1.0]})
    with pytest.raises(InvalidInput, match="two or more times"):
        TimeSplit("last").apply(single)


def _closed_form(x: np.ndarray, lam: float) -> np.ndarray:
    p = np.linalg.inv(x.T @ x + lam * np.eye(x.shape[1]))
    b = -p / np.diag(p)[None, :]
    np.fill_diagonal(b, 0.0)
    return b


@pytest.mark.parametrize(("seed", "customers", "items"), [(0, 12, 30), (1, 30, 12), (2, 8, 40)])
def test_ease_both_forms_match_the_closed_form(seed: int, customers: int, items: int) -> None:
    rng = np.random.default_rng(seed)
    rows = [(c, i, 0.0) for c in range(customers) for i in range(items) if rng.random() < 0.25]
    data = Interactions.build(pd.DataFrame(rows, columns=["customer", "item", "t"]))
    model = EASE(5.0).fit(data)
    assert (model.weights is None) == (len(data.items) > len(data.customers))  # dual form with fewer customers
    x = data.binary().toarray()
    b = _closed_form(x, 5.0)
    np.testing.assert_allclose(model.score(data), x @ b, rtol=1e-4, atol=1e-5)
    sources, targets = np.array([0, 3]), np.array([1, 2, 5])
    np.testing.assert_allclose(model.item_weights(sources, targets), b[np.ix_(sources, targets)], rtol=1e-4, atol=1e-5)


def test_top_frequency_and_recency() -> None:
    table = pd.DataFrame(
        {"customer": ["a"] * 5 + ["b"], "item": ["x", "x", "y", "y", "z", "z"], "t": [1, 2, 3, 4, 5, 1.0]}
    )
    data = Interactions.build(table)
    ranked = top_items(TopFrequency().fit(data).score(data), data, 3, exclude_seen=False)
    a = ranked[ranked["customer"] == "a"]["item"].tolist()
    assert a == ["y", "x", "z"]  # x and y twice each: y more recently; z once
    recent = RepeatRanker(half_life=1.0).score(data)
    assert recent[0, data.items.get_loc("y")] > recent[0, data.items.get_loc("x")]
    assert top_items(TopFrequency().fit(data).score(data), data, 3, exclude_seen=True).query("customer == 'b'")[
        "item"
    ].tolist() == ["x", "y"]  # b's own z is excluded; the rest by popularity


def test_metrics_match_hand_counts() -> None:
    ranked = pd.DataFrame({"customer": ["a"] * 3 + ["b"] * 3, "item": [1, 2, 3, 4, 5, 6], "rank": [1, 2, 3] * 2})
    held = pd.DataFrame({"customer": ["a", "a", "b"], "item": [2, 9, 7]})
    m = offline_metrics(ranked, held, k=3, catalogue_size=12)
    # a: one hit of two at rank 2; b: none
    assert m["recall@3"] == pytest.approx((1 / 2 + 0) / 2)
    assert m["precision@3"] == pytest.approx((1 / 3 + 0) / 2)
    assert m["map@3"] == pytest.approx(((1 / 2) / 2 + 0) / 2)
    assert m["ndcg@3"] == pytest.approx(((1 / np.log2(3)) / (1 + 1 / np.log2(3)) + 0) / 2)
    assert m["coverage@3"] == pytest.approx(6 / 12)


def test_interaction_table_errors_and_dates() -> None:
    with pytest.raises(InvalidInput, match="no rows"):
        interaction_table(pd.DataFrame({"u": [], "i": []}), "u", "i")
    with pytest.raises(InvalidInput, match="Missing column"):
        interaction_table(pd.DataFrame({"u": [1], "i": [2]}), "u", "item")
    with pytest.raises(InvalidInput, match="numbers or dates"):
        interaction_table(pd.DataFrame({"u": [1], "i": [2], "t": ["soon"]}), "u", "i", "t")
    dated = interaction_table(
        pd.DataFrame({"u": [1, 1], "i": [2, 3], "t": ["2025-01-01", "2025-01-08"]}), "u", "i", "t"
    )
    assert dated["t"].diff().iloc[1] == pytest.approx(7.0) and dated.attrs["days"]


def test_movielens_loader(tmp_path) -> None:
    frame = load_movielens_100k()
    assert len(frame) == 100_000 and frame["user_id"].nunique() == 943 and frame["item_id"].nunique() == 1682
    written = pd.read_csv(write_movielens_csv(tmp_path / "ml.csv"))
    assert written.equals(frame)
    raw = tmp_path / "u.data"  # GroupLens' own layout: no header
    frame.head(50).to_csv(raw, sep="\t", header=False, index=False)
    assert load_movielens_100k(raw).equals(frame.head(50))


@pytest.mark.slow
def test_goal_on_movielens() -> None:
    """Rapport at least matches the best single baseline on every ranking metric (time split, tuned on
    validation only)."""
    result = evaluate_recommenders(load_movielens_100k(), "user_id", "item_id", "timestamp", 10)
    methods = result["methods"]
    assert result["split"]["kind"] == "fraction" and result["data"]["exclude_seen"]
    for metric in ("recall@10", "ndcg@10"):
        best = max(methods[m][metric] for m in ("popularity", "als", "ease", "top_frequency"))
        assert methods["rapport"][metric] >= best


@pytest.mark.slow
def test_goal_on_instacart() -> None:
    """Each user's last order held out: Rapport beats every baseline on recall@10 and NDCG@10."""
    from rapport.datasets.instacart import ITEM, ORDER, USER, load_instacart

    result = evaluate_recommenders(load_instacart(), USER, ITEM, ORDER, 10)
    methods = result["methods"]
    assert result["split"]["kind"] == "last" and not result["data"]["exclude_seen"]
    for metric in ("recall@10", "ndcg@10"):
        best = max(methods[m][metric] for m in ("popularity", "als", "ease", "top_frequency"))
        assert methods["rapport"][metric] > best
