"""Recency-frequency-monetary summaries: a customer's calibration history in the form the BTYD models read.

Purchases on the same day count once (their amounts add up): BTYD models count *purchase occasions*. Times are in
periods of ``period_days`` (weeks by default) measured from the customer's first purchase, so a customer who first
bought on day 0 and again on days 10 and 24, observed to day 40, has frequency 2, recency 24/7 and T 40/7.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rapport.errors import InvalidInput

CUSTOMER = "customer"
DAY = "day"
AMOUNT = "amount"
SUMMARY_COLUMNS = ["frequency", "recency", "T", "monetary_value", "first_day"]


def purchase_days(
    purchases: pd.DataFrame, customer_col: str, date_col: str, amount_col: str | None = None
) -> pd.DataFrame:
    """One row per customer and purchase day (columns customer, day, amount), sorted by customer and day.

    ``date_col`` must already hold datetimes; times of day are dropped. Without an amount column, amount is NaN.
    """
    if not pd.api.types.is_datetime64_any_dtype(purchases[date_col]):
        raise InvalidInput(f"Column {date_col!r} must hold dates; parse it first (see rapport.cli.forecast).")
    amounts = purchases[amount_col].astype(float) if amount_col else pd.Series(np.nan, index=purchases.index)
    frame = pd.DataFrame(
        {CUSTOMER: purchases[customer_col].to_numpy(), DAY: purchases[date_col].dt.normalize(), AMOUNT: amounts}
    )
    daily = frame.groupby([CUSTOMER, DAY], sort=True, as_index=False)[AMOUNT].sum(min_count=1)
    return daily.reset_index(drop=True)


def summarize(days: pd.DataFrame, end: pd.Timestamp, period_days: float = 7.0) -> pd.DataFrame:
    """RFM summary of the purchase days on or before ``end``, indexed by customer.

    Columns: frequency (repeat purchase days), recency (last minus first purchase, in periods), T (end minus first
    purchase), monetary_value (mean amount of the repeat purchase days, 0 without repeats, as Fader & Hardie do)
    and first_day (the date of the first purchase). Customers whose first purchase is after ``end`` are left out.
    """
    seen = days[days[DAY] <= end]
    if seen.empty:
        raise InvalidInput(f"No purchases on or before {end.date()}; choose a later calibration end.")
    grouped = seen.groupby(CUSTOMER, sort=True)
    first = grouped[DAY].min()
    last = grouped[DAY].max()
    count = grouped.size()
    first_amount = grouped[AMOUNT].first()
    total_amount = grouped[AMOUNT].sum(min_count=1)
    frequency = (count - 1).astype(float)
    repeat_amount = (total_amount - first_amount).where(frequency > 0, 0.0)
    summary = pd.DataFrame(
        {
            "frequency": frequency,
            "recency": (last - first).dt.days / period_days,
            "T": (end - first).dt.days / period_days,
            "monetary_value": (repeat_amount / frequency.where(frequency > 0, 1.0)).fillna(0.0),
            "first_day": first,
        }
    )
    summary.index.name = CUSTOMER
    return summary


def count_between(days: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp, customers: pd.Index) -> pd.Series:
    """Purchase days of each of ``customers`` in (start, end], zero for those without any."""
    inside = days[(days[DAY] > start) & (days[DAY] <= end)]
    counts = inside.groupby(CUSTOMER).size()
    return counts.reindex(customers, fill_value=0).astype(float)
