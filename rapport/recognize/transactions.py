"""Checking a firm's transaction table before it is forecast: columns, dates, amounts and quantities.

Errors name the column, the row (data rows counted from 1, the header not included) and the offending value.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from rapport.errors import InvalidInput

CUSTOMER = "customer"
DATE = "date"
AMOUNT = "amount"
_COMPACT = re.compile(r"^\d{8}$")


def parse_dates(values: pd.Series, column: str, date_format: str | None = None) -> pd.Series:
    """Dates from text: ``date_format`` (strftime codes) if given, else YYYYMMDD or ISO 8601, detected per column.

    ISO values with a UTC offset are converted to UTC; the time of day is kept (models use the day).
    """
    text = values.astype("string").str.strip()
    _no_blanks(text, column)
    if date_format is None:
        date_format = "%Y%m%d" if text.str.fullmatch(_COMPACT.pattern).all() else "ISO8601"
    parsed = pd.to_datetime(text, format=date_format, errors="coerce", utc=True)
    bad = parsed.isna().to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        shown = "YYYYMMDD or ISO 8601 (YYYY-MM-DD)" if date_format == "ISO8601" else repr(date_format)
        raise InvalidInput(
            f"Column {column!r} row {row + 1}: {text.iloc[row]!r} is not a date in the format {shown}; "
            f"{int(bad.sum())} value(s) fail. Fix them or pass --date-format (e.g. %d/%m/%Y)."
        )
    return parsed.dt.tz_convert(None)


def non_negative_numbers(values: pd.Series, column: str) -> pd.Series:
    """Floats from a numeric column; empty, non-numeric or negative values are errors."""
    numbers = pd.to_numeric(values, errors="coerce")
    bad = numbers.isna().to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InvalidInput(f"Column {column!r} row {row + 1}: {values.iloc[row]!r} is not a number.")
    negative = (numbers < 0).to_numpy()
    if negative.any():
        row = int(np.flatnonzero(negative)[0])
        raise InvalidInput(
            f"Column {column!r} row {row + 1}: {values.iloc[row]!r} is negative ({int(negative.sum())} such rows). "
            "Returns and refunds are not purchases: drop those rows (or net them out) before forecasting."
        )
    return numbers.astype(float)


def prepare_transactions(
    frame: pd.DataFrame,
    customer_col: str,
    date_col: str,
    amount_col: str | None = None,
    quantity_col: str | None = None,
    date_format: str | None = None,
) -> pd.DataFrame:
    """Columns customer, date and amount (NaN without an amount column), one row per valid input row.

    Rows with quantity 0 are not purchases and are dropped; negative amounts or quantities are errors.
    """
    wanted = [c for c in (customer_col, date_col, amount_col, quantity_col) if c is not None]
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        raise InvalidInput(
            f"The transactions lack the column(s) {missing}; they have {list(frame.columns)}. "
            "Name the right ones with --customer-column / --date-column / --amount-column."
        )
    if frame.empty:
        raise InvalidInput("The transactions file has no rows.")
    frame = frame.reset_index(drop=True)
    customers = frame[customer_col]
    _no_blanks(customers.astype("string"), customer_col)
    prepared = pd.DataFrame(
        {
            CUSTOMER: customers.astype(str),
            DATE: parse_dates(frame[date_col], date_col, date_format),
            AMOUNT: non_negative_numbers(frame[amount_col], amount_col) if amount_col else np.nan,
        }
    )
    if quantity_col:
        prepared = prepared[non_negative_numbers(frame[quantity_col], quantity_col).to_numpy() > 0]
    return prepared.reset_index(drop=True)


def _no_blanks(text: pd.Series, column: str) -> None:
    blank = (text.isna() | (text.fillna("").str.strip() == "")).to_numpy()
    if blank.any():
        row = int(np.flatnonzero(blank)[0])
        raise InvalidInput(
            f"Column {column!r} row {row + 1} is empty ({int(blank.sum())} empty rows); fill or drop them."
        )
