"""The Open Bandit Dataset sample (ZOZOTOWN, CC BY 4.0; shipped with PyPI `obp`, copied to ../shared/data/).

Two logs of the "all" campaign, 10,000 impressions each, one under a uniform-random policy (``random/all.csv``) and
one under Bernoulli Thompson sampling (``bts/all.csv``): 80 items, 3 positions. Columns: timestamp, item_id
(0..79), position (1..3), click (0/1), propensity_score (the logging policy's probability of that item at that
position: 1/80 under random), user_feature_0..3 (hashed categories), user-item_affinity_0..79.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from rapport.datasets import shared_file
from rapport.errors import InvalidInput

N_ITEMS = 80
N_POSITIONS = 3
USER_FEATURES = [f"user_feature_{k}" for k in range(4)]
AFFINITIES = [f"user-item_affinity_{k}" for k in range(N_ITEMS)]
REQUIRED = ["item_id", "position", "click", "propensity_score", *USER_FEATURES]


def open_bandit_path(policy: str) -> Path:
    """``../shared/data/open-bandit-sample/<policy>/all.csv`` (policy: random or bts)."""
    return shared_file("open-bandit-sample", policy, "all.csv")


def load_open_bandit(path: str | Path) -> pd.DataFrame:
    """One log, in file order; ``path`` is the all.csv file or the folder holding it. Positions become 0..2."""
    source = Path(path).expanduser()
    if source.is_dir():
        source = source / "all.csv"
    if not source.exists():
        raise InvalidInput(f"{source} does not exist; pass an Open Bandit log (a folder with all.csv, or the file).")
    frame = pd.read_csv(source, index_col=0)
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise InvalidInput(f"{source} lacks the Open Bandit columns {', '.join(missing)}.")
    frame["position"] = frame["position"].astype(int) - 1
    if frame["position"].min() < 0 or frame["position"].max() >= N_POSITIONS:
        raise InvalidInput(f"{source}: positions must be 1..{N_POSITIONS}.")
    if not frame["item_id"].between(0, N_ITEMS - 1).all():
        raise InvalidInput(f"{source}: item_id must be 0..{N_ITEMS - 1}.")
    return frame.reset_index(drop=True)
