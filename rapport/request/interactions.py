"""Interactions: who took which item when, as a table and as the sparse matrices the rankers learn from.

A row of the table is one (customer, item, time). ``step`` numbers a customer's distinct times from the latest
backwards (0 = their latest order or rating), so recency works the same whether time is in days, seconds or order
numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse

from rapport.errors import InvalidInput
from rapport.recognize.next_basket import require_columns

COLUMNS = ["customer", "item", "t"]


def interaction_table(frame: pd.DataFrame, user_col: str, item_col: str, time_col: str | None = None) -> pd.DataFrame:
    """Normalise a firm's file to columns customer, item, t (numbers; the row order when there is no time column).

    Times may be numbers (timestamps, order numbers) or dates; dates become days since the epoch.
    """
    require_columns(frame, [user_col, item_col, *([time_col] if time_col else [])])
    if frame.empty:
        raise InvalidInput("The interactions file has no rows; it needs one row per (user, item[, time]).")
    used = [user_col, item_col, *([time_col] if time_col else [])]
    empty = [c for c in used if frame[c].isna().any()]
    if empty:
        raise InvalidInput(f"Column(s) {empty} have empty cells; every interaction needs a user and an item.")
    if time_col is None:
        t = pd.Series(np.arange(len(frame), dtype=float), index=frame.index)
    else:
        t = _numeric_time(frame[time_col], time_col)
    table = pd.DataFrame({"customer": frame[user_col].to_numpy(), "item": frame[item_col].to_numpy(), "t": t})
    table = table.reset_index(drop=True)
    table.attrs["days"] = bool(t.attrs.get("days", False))  # times are days (the file had dates)
    return table


def _numeric_time(values: pd.Series, column: str) -> pd.Series:
    numbers = pd.to_numeric(values, errors="coerce")
    if not numbers.isna().any():
        return numbers.astype(float)
    dates = pd.to_datetime(values, errors="coerce", utc=True, format="mixed")
    if dates.isna().any():
        bad = values[numbers.isna() & dates.isna()].iloc[0]
        raise InvalidInput(f"Column {column!r} must hold numbers or dates; found {bad!r}.")
    days = (dates - pd.Timestamp("1970-01-01", tz="UTC")) / pd.Timedelta(days=1)
    days.attrs["days"] = True
    return days


def with_steps(table: pd.DataFrame) -> pd.DataFrame:
    """The table with ``step``: 0 for each customer's latest time, 1 for the one before, and so on."""
    out = table.copy()
    out["step"] = (out.groupby("customer")["t"].rank(method="dense", ascending=False) - 1).astype(int)
    return out


@dataclass
class Interactions:
    """A table indexed for the rankers: customers and items as rows and columns of ``counts`` (distinct times)."""

    table: pd.DataFrame  # customer, item, t, step, row, col
    customers: pd.Index
    items: pd.Index
    _counts: sparse.csr_matrix | None = field(default=None, repr=False, compare=False)

    @classmethod
    def build(
        cls, table: pd.DataFrame, items: pd.Index | None = None, customers: pd.Index | None = None
    ) -> Interactions:
        """Index ``table``. ``items`` fixes the columns (other items are dropped, e.g. unseen in training) and
        ``customers`` the rows (a customer without interactions gets an empty row: a new customer)."""
        if table.empty and items is None:
            raise InvalidInput("No interactions to learn from.")
        stepped = with_steps(table[COLUMNS].drop_duplicates(["customer", "item", "t"]))
        rows = customers if customers is not None else pd.Index(stepped["customer"].unique())
        columns = items if items is not None else pd.Index(stepped["item"].unique())
        stepped["row"] = rows.get_indexer(stepped["customer"])
        stepped["col"] = columns.get_indexer(stepped["item"])
        stepped = stepped[(stepped["col"] >= 0) & (stepped["row"] >= 0)].reset_index(drop=True)
        return cls(stepped, rows, columns)

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.customers), len(self.items)

    def matrix(self, weights: np.ndarray | None = None) -> sparse.csr_matrix:
        """Customers x items: the number of distinct times (or the sum of ``weights`` per row of the table)."""
        if weights is None and self._counts is not None:
            return self._counts.copy()
        values = np.ones(len(self.table), dtype=np.float32) if weights is None else weights.astype(np.float32)
        rows, cols = self.table["row"].to_numpy(), self.table["col"].to_numpy()
        built = sparse.csr_matrix((values, (rows, cols)), shape=self.shape, dtype=np.float32)
        if weights is None:
            self._counts = built
            return built.copy()
        return built

    def rows(self, customers: pd.Index | list[object]) -> Interactions:
        """The interactions of these customers only, over the same item columns."""
        subset = self.table[self.table["customer"].isin(customers)]
        return Interactions.build(subset[COLUMNS], items=self.items)

    def binary(self) -> sparse.csr_matrix:
        out = self.matrix()
        out.data[:] = 1.0
        return out

    def repeat_share(self) -> float:
        """Share of (customer, item) pairs taken at two or more distinct times: ~0 for ratings, high for baskets."""
        pairs = self.table.groupby(["row", "col"]).size()
        return float((pairs > 1).mean()) if len(pairs) else 0.0
