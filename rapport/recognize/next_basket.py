"""Which items will be in a customer's next order, and when will it come?

Each item a customer has bought is scored from: the probability its replenishment is due by the time of the
next order (the hierarchical interval model in :mod:`rapport.recognize.replenishment`, evaluated at the next order's
predicted time from :mod:`rapport.recognize.order_interval`), the customer's repeat propensity for it (beta-binomial,
shrunk toward the item's repeat rate), frequency, recency and population popularity. A gradient-boosted classifier
combines them; it learns from each customer's last few *known* orders, each predicted from the orders before it,
so it never sees the order it will be asked about. Popular items fill a short list. The days to the next order
are the shrunk personal interval, corrected by a gradient-boosted regressor (absolute loss) learned the same way.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

from rapport.errors import InvalidInput, NotFound
from rapport.recognize.order_interval import TIMING_FEATURES, OrderIntervalModel, timing_features
from rapport.recognize.replenishment import ReplenishmentModel

FEATURES = [
    "count",
    "orders_since",
    "frequency",
    "frequency_since_first",
    "propensity",
    "item_repeat_rate",
    "due",
    "due_z",
    "log_interval",
    "interval_sd",
    "elapsed",
    "days_ahead",
    "orders",
    "own_intervals",
    "gap_ratio",
    "last3",
    "last5",
    "last10",
    "popularity",
    "basket_size",
    "repeat_share",
    "opportunities",
]
_PROPENSITY_PRIOR = 10.0  # pseudo-opportunities pulling a customer's repeat rate toward the item's
_FILL = 50  # popular items kept for filling short lists
_MIN_TIMING_ROWS = 100  # fewer examples than this: keep the shrunk interval uncorrected


def order_lines(
    frame: pd.DataFrame, user_col: str, order_col: str, item_col: str, days_col: str | None = None
) -> pd.DataFrame:
    """Normalise order lines to columns customer, seq (1..n within customer), item, t (days since the customer's
    first order; the order count when there are no days) and gap (days since the prior order, per order)."""
    require_columns(frame, [user_col, order_col, item_col, *([days_col] if days_col else [])])
    if frame.empty:
        raise InvalidInput("The orders file has no rows.")
    if frame[[user_col, order_col, item_col]].isna().any().any():
        bad = [c for c in (user_col, order_col, item_col) if frame[c].isna().any()]
        raise InvalidInput(f"Column(s) {bad} have empty cells; every order line needs a user, an order and an item.")
    order_key = pd.to_numeric(frame[order_col], errors="coerce")
    if order_key.isna().any():  # not numbers: sort as given (ISO dates and zero-padded ids sort correctly)
        order_key = frame[order_col].astype(str)
    lines = pd.DataFrame({"customer": frame[user_col].to_numpy(), "key": order_key.to_numpy(), "item": frame[item_col]})
    lines["seq"] = lines.groupby("customer")["key"].rank(method="dense").astype(int)
    orders = lines.groupby(["customer", "seq"], sort=True).size().rename("lines").reset_index()
    if days_col:
        days = _numeric_days(frame[days_col], days_col)
        per_order = pd.Series(days.to_numpy(), index=pd.MultiIndex.from_frame(lines[["customer", "seq"]]))
        per_order = per_order.groupby(level=[0, 1]).first()
        orders["gap"] = per_order.reindex(pd.MultiIndex.from_frame(orders[["customer", "seq"]])).to_numpy()
        orders.loc[orders["seq"] == 1, "gap"] = np.nan
        later = orders[(orders["seq"] > 1) & orders["gap"].isna()]
        if len(later):
            row = later.iloc[0]
            raise InvalidInput(
                f"Column {days_col!r} is empty on order {row['seq']} of user {row['customer']!r}; only a user's "
                "first order may leave it empty."
            )
        orders["t"] = orders["gap"].fillna(0.0).groupby(orders["customer"]).cumsum()
    else:
        orders["gap"] = np.where(orders["seq"] > 1, 1.0, np.nan)
        orders["t"] = orders["seq"].astype(float)
    lines = lines.merge(orders[["customer", "seq", "t", "gap"]], on=["customer", "seq"], how="left")
    return lines[["customer", "seq", "item", "t", "gap"]].drop_duplicates(["customer", "seq", "item"])


def require_columns(frame: pd.DataFrame, columns: list[str]) -> None:
    """Raise InvalidInput naming the missing columns and the ones the file has."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InvalidInput(f"Missing column(s) {missing}; the file has {list(frame.columns)}.")


def _numeric_days(values: pd.Series, column: str) -> pd.Series:
    days = pd.to_numeric(values, errors="coerce")
    bad = values[days.isna() & values.notna() & (values.astype(str).str.strip() != "")]
    if len(bad):
        raise InvalidInput(f"Column {column!r} must hold numbers of days; found {bad.iloc[0]!r}.")
    if (days < 0).any():
        raise InvalidInput(f"Column {column!r} has a negative value ({days[days < 0].iloc[0]}); days cannot be.")
    return days.astype(float)


def order_gaps(lines: pd.DataFrame) -> pd.DataFrame:
    """One row per order: customer, seq, gap (days since the prior order)."""
    return lines.drop_duplicates(["customer", "seq"])[["customer", "seq", "gap"]].sort_values(["customer", "seq"])


class NextBasketModel:
    """Score items for each customer's next order; also the days to that order.

    Example:
        >>> lines = order_lines(frame, "user_id", "order_number", "product_id", "days_since_prior_order")
        >>> model = NextBasketModel().fit(lines)
        >>> model.recommend(k=10)        # customer, item, score, rank
        >>> model.days_to_next_order()   # median, low, high per customer
    """

    def __init__(
        self,
        training_orders: int = 3,
        half_life: float | None = 8.0,
        concentration: float = 1.0,
        random_state: int = 0,
    ) -> None:
        if training_orders < 1:
            raise InvalidInput(f"training_orders {training_orders} must be at least 1.")
        self.training_orders = training_orders
        self.half_life = half_life
        self.concentration = concentration
        self.random_state = random_state
        self.classifier: HistGradientBoostingClassifier | None = None
        self.timing: HistGradientBoostingRegressor | None = None
        self.max_gap = 0.0
        self.lines = pd.DataFrame()

    def fit(self, lines: pd.DataFrame) -> NextBasketModel:
        """Learn from each customer's last ``training_orders`` known orders, each predicted from those before it."""
        last = lines.groupby("customer")["seq"].transform("max")
        examples, timings = [], []
        for back in range(self.training_orders):
            target = last - back
            history = lines[lines["seq"] < target]
            if history.empty:
                continue
            intervals = self.interval_model(history)
            features = item_features(history, intervals.predict()["median"])
            basket = lines[(lines["seq"] == target) & (target >= 2)]
            bought = pd.MultiIndex.from_frame(basket[["customer", "item"]])
            features["label"] = pd.MultiIndex.from_frame(features[["customer", "item"]]).isin(bought)
            examples.append(features[features["customer"].isin(basket["customer"])])
            gaps = order_gaps(basket).set_index("customer")["gap"].dropna()
            timing = timing_features(order_gaps(history), intervals, gaps.index)
            timings.append(timing.assign(target=gaps))
        train = pd.concat(examples, ignore_index=True) if examples else pd.DataFrame()
        if train.empty or train["label"].nunique() < 2:
            raise InvalidInput("Too little order history to learn from: customers need at least two orders each.")
        self.classifier = HistGradientBoostingClassifier(
            max_iter=200, learning_rate=0.05, early_stopping=False, random_state=self.random_state
        ).fit(train[FEATURES], train["label"])
        timing_train = pd.concat(timings)
        self.timing = None
        if len(timing_train) >= _MIN_TIMING_ROWS:
            self.timing = HistGradientBoostingRegressor(
                loss="absolute_error",
                max_iter=150,
                learning_rate=0.05,
                max_leaf_nodes=15,
                min_samples_leaf=40,
                early_stopping=False,
                random_state=self.random_state,
            ).fit(timing_train[TIMING_FEATURES], timing_train["target"])
        self.max_gap = float(order_gaps(lines)["gap"].max())
        self.lines = lines
        return self

    def interval_model(self, history: pd.DataFrame) -> OrderIntervalModel:
        return OrderIntervalModel(self.half_life, self.concentration).fit(order_gaps(history), "customer", "gap")

    def features(self, history: pd.DataFrame) -> pd.DataFrame:
        """One row per (customer, item) the customer has bought, with the scoring features."""
        days_ahead = self.interval_model(history).predict()["median"]
        return item_features(history, days_ahead)

    def score(self) -> pd.DataFrame:
        """P(item in the next order) for every item each customer has bought."""
        if self.classifier is None:
            raise InvalidInput("The next-basket model is not fitted yet; call fit(lines) first.")
        features = self.features(self.lines)
        features["score"] = self.classifier.predict_proba(features[FEATURES])[:, 1]
        return features

    def recommend(self, k: int = 10) -> pd.DataFrame:
        """The top ``k`` items per customer (customer, item, score, rank); popular items fill short lists."""
        scored = self.score()[["customer", "item", "score"]]
        popular = popularity(self.lines).index[:_FILL]
        fill = pd.DataFrame(
            {
                "customer": np.repeat(scored["customer"].unique(), len(popular)),
                "item": np.tile(popular, scored["customer"].nunique()),
                "score": np.tile(-1.0 - np.arange(len(popular)) / len(popular), scored["customer"].nunique()),
            }
        )
        ranked = pd.concat([scored, fill]).drop_duplicates(["customer", "item"])
        ranked = ranked.sort_values(["customer", "score"], ascending=[True, False], kind="stable")
        ranked["rank"] = ranked.groupby("customer").cumcount() + 1
        return ranked[ranked["rank"] <= k].reset_index(drop=True)

    def days_to_next_order(self) -> pd.DataFrame:
        """Per customer: ``median`` days to the next order (the shrunk interval, learned correction applied),
        ``shrunk_median`` (before it), the band ``low``/``high`` and the customer's own ``intervals``."""
        if self.classifier is None:
            raise InvalidInput("The next-basket model is not fitted yet; call fit(lines) first.")
        intervals = self.interval_model(self.lines)
        customers = self.lines["customer"].unique()
        table = intervals.predict(customers)
        table["shrunk_median"] = table["median"]
        if self.timing is not None:
            features = timing_features(order_gaps(self.lines), intervals, customers)
            table["median"] = np.clip(self.timing.predict(features[TIMING_FEATURES]), 0.0, self.max_gap)
            table["low"] = np.minimum(table["low"], table["median"])
            table["high"] = np.maximum(table["high"], table["median"])
        return table

    def save(self, path: str | Path) -> None:
        """Pickle the fitted model (scikit-learn's own persistence); load only files you wrote."""
        if self.classifier is None:
            raise InvalidInput("Fit the next-basket model before saving it.")
        Path(path).write_bytes(pickle.dumps(self))

    @classmethod
    def load(cls, path: str | Path) -> NextBasketModel:
        source = Path(path)
        if not source.exists():
            raise NotFound(f"No saved next-basket model at {source}.")
        model = pickle.loads(source.read_bytes())
        if not isinstance(model, cls):
            raise InvalidInput(f"{source} is not a saved next-basket model.")
        return model


def popularity(lines: pd.DataFrame) -> pd.Series:
    """Share of customers who bought each item, most popular first."""
    customers = max(lines["customer"].nunique(), 1)
    return (lines.groupby("item")["customer"].nunique() / customers).sort_values(ascending=False, kind="stable")


def item_features(history: pd.DataFrame, days_ahead: pd.Series) -> pd.DataFrame:
    """Features of each (customer, item) in ``history``, given the predicted days until each customer's next order."""
    orders = history.groupby("customer")["seq"].max()
    now = history.groupby("customer")["t"].max()
    ordered = history.sort_values(["customer", "item", "seq"], kind="stable")
    gap_orders = ordered.groupby(["customer", "item"], sort=False)["seq"].diff()
    grouped = ordered.assign(gap_orders=gap_orders).groupby(["customer", "item"], sort=False)
    f = pd.DataFrame(
        {
            "count": grouped.size(),
            "first": grouped["seq"].min(),
            "last_seq": grouped["seq"].max(),
            "last_t": grouped["t"].max(),
            "mean_gap_orders": grouped["gap_orders"].mean(),
        }
    ).reset_index()
    f["orders"] = f["customer"].map(orders)
    f["days_ahead"] = f["customer"].map(days_ahead).fillna(float(days_ahead.median()))
    f["elapsed"] = f["customer"].map(now) - f["last_t"]
    post = ReplenishmentModel().fit(history, "customer", "item", "t").posterior(f["customer"], f["item"])
    f["due"] = ReplenishmentModel.due_probability(post, f["elapsed"], f["days_ahead"])
    f["log_interval"], f["interval_sd"], f["own_intervals"] = post["m"].values, post["sd"].values, post["n"].values
    f["due_z"] = (np.log1p(f["elapsed"] + f["days_ahead"]) - f["log_interval"]) / f["interval_sd"]
    f["orders_since"] = f["orders"] - f["last_seq"]
    f["frequency"] = f["count"] / f["orders"]
    f["frequency_since_first"] = f["count"] / (f["orders"] - f["first"] + 1)
    f["opportunities"] = f["orders"] - f["first"]
    repeats = f["count"] - 1
    totals = pd.DataFrame({"r": repeats, "o": f["opportunities"], "item": f["item"]}).groupby("item").sum()
    overall = repeats.sum() / max(f["opportunities"].sum(), 1)
    item_rate = (totals["r"] + _PROPENSITY_PRIOR * overall) / (totals["o"] + _PROPENSITY_PRIOR)
    f["item_repeat_rate"] = f["item"].map(item_rate)
    f["propensity"] = (repeats + _PROPENSITY_PRIOR * f["item_repeat_rate"]) / (f["opportunities"] + _PROPENSITY_PRIOR)
    f["gap_ratio"] = (f["orders_since"] + 1) / f["mean_gap_orders"].fillna(f["opportunities"] + 1)
    for window in (3, 5, 10):
        recent = history[history["seq"] > history["customer"].map(orders) - window]
        counts = recent.groupby(["customer", "item"]).size()
        f[f"last{window}"] = counts.reindex(pd.MultiIndex.from_frame(f[["customer", "item"]])).fillna(0).to_numpy()
    f["popularity"] = f["item"].map(popularity(history))
    lines_per_customer = f.groupby("customer")["count"].sum()
    f["basket_size"] = f["customer"].map(lines_per_customer) / f["orders"]
    f["repeat_share"] = f["customer"].map(repeats.groupby(f["customer"]).sum() / lines_per_customer)
    return f


def top_frequency(lines: pd.DataFrame, k: int = 10) -> pd.DataFrame:
    """The personal baseline: each customer's most often bought items (ties: the more recently bought first, then
    by item key), filled with the most popular items."""
    grouped = lines.groupby(["customer", "item"])
    own = pd.DataFrame({"count": grouped.size(), "last_seq": grouped["seq"].max()}).reset_index()
    own = own.sort_values(["customer", "count", "last_seq"], ascending=[True, False, False], kind="stable")
    popular = popularity(lines).index[:_FILL]
    customers = own["customer"].unique()
    fill = pd.DataFrame({"customer": np.repeat(customers, len(popular)), "item": np.tile(popular, len(customers))})
    ranked = pd.concat([own[["customer", "item"]], fill]).drop_duplicates(["customer", "item"])
    ranked["rank"] = ranked.groupby("customer").cumcount() + 1
    return ranked[ranked["rank"] <= k].reset_index(drop=True)
