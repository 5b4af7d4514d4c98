"""The CDNOW 1/10 sample shipped in the `lifetimes` wheel (read it from the package, never commit it).

6,919 transactions of 2,357 customers who first bought in the first quarter of 1997, followed to 1998-06-30. The
file has no header: master_id, sample_id, YYYYMMDD, number of CDs, dollar amount. Fader, Hardie & Lee (2005)
calibrate on weeks 1-39 (to 1997-09-30) and hold out weeks 40-78 (to 1998-06-30).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from rapport.datasets import package_file
from rapport.errors import InvalidInput

CUSTOMER = "customer_id"
DATE = "date"
QUANTITY = "n_cds"
AMOUNT = "amount"
CALIBRATION_END = pd.Timestamp("1997-09-30")
HORIZON_END = pd.Timestamp("1998-06-30")


def cdnow_path() -> Path:
    """Where the installed `lifetimes` package keeps the CDNOW 1/10 sample."""
    return package_file("lifetimes", "datasets", "CDNOW_sample.txt")


def load_cdnow(path: str | Path | None = None) -> pd.DataFrame:
    """Transactions (customer_id, date, n_cds, amount), one row per line of the file, in file order."""
    source = Path(path).expanduser() if path is not None else cdnow_path()
    if not source.exists():
        raise InvalidInput(f"{source} does not exist; pass the path of CDNOW_sample.txt.")
    frame = pd.read_csv(
        source,
        sep=r"\s+",
        header=None,
        names=[CUSTOMER, "sample_id", DATE, QUANTITY, AMOUNT],
        dtype={CUSTOMER: "int64", "sample_id": "int64", DATE: "string", QUANTITY: "int64", AMOUNT: "float64"},
    )
    if frame.empty:
        raise InvalidInput(f"{source.name} has no rows; is it the CDNOW sample?")
    try:
        frame[DATE] = pd.to_datetime(frame[DATE], format="%Y%m%d")
    except ValueError as exc:
        raise InvalidInput(f"{source.name} has a date that is not YYYYMMDD: {exc}") from None
    return frame[[CUSTOMER, DATE, QUANTITY, AMOUNT]]


def write_cdnow_csv(destination: str | Path, path: str | Path | None = None) -> Path:
    """Write the sample as a CSV with a header and ISO dates, the shape `rapport forecast` reads; returns its path.

    Example: ``rapport forecast --transactions cdnow.csv --customer-column customer_id --date-column date
    --amount-column amount --calibration-end 1997-09-30 --horizon-end 1998-06-30 --output predictions.csv``.
    """
    target = Path(destination).expanduser()
    frame = load_cdnow(path)
    frame[DATE] = frame[DATE].dt.strftime("%Y-%m-%d")
    frame.to_csv(target, index=False)
    return target


if __name__ == "__main__":  # python -m rapport.datasets.cdnow cdnow.csv
    import sys

    print(write_cdnow_csv(sys.argv[1] if len(sys.argv) > 1 else "cdnow.csv"))
