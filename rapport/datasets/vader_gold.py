"""The VADER gold-standard sentiment sets (Hutto & Gilbert 2014, MIT, from the vaderSentiment sdist).

4,200 tweets and 3,708 Amazon review sentences, each with the mean of at least 20 human ratings on -4..+4. The files
are tab-separated ``id, mean_rating, text`` with unescaped quotes in the text, so they are read with QUOTE_NONE.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

from rapport.datasets import shared_file
from rapport.errors import NotFound

FILES = {"tweets": "tweets_GroundTruth.txt", "amazon": "amazonReviewSnippets_GroundTruth.txt"}


def vader_gold_path(name: str) -> Path:
    if name not in FILES:
        raise NotFound(f"No VADER gold set {name!r}; use one of {', '.join(FILES)}.")
    return shared_file("vader", FILES[name])


def load_vader_gold(name: str, path: str | Path | None = None) -> pd.DataFrame:
    """Columns ``id``, ``rating`` (mean human rating, -4..+4) and ``text``, in file order."""
    source = Path(path) if path is not None else vader_gold_path(name)
    frame = pd.read_csv(
        source, sep="\t", header=None, names=["id", "rating", "text"], quoting=csv.QUOTE_NONE, dtype={"id": str}
    )
    frame["text"] = frame["text"].fillna("").astype(str)
    return frame
