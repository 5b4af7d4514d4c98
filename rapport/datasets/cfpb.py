"""A sample of the US Consumer Financial Protection Bureau's complaint database (public domain, open data).

10,000 train and 3,000 test complaint narratives (personal details redacted as XX by the CFPB), each with one of
8 product categories. No dates: streams built from it for replays get their times from the replay.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from rapport.datasets import shared_file
from rapport.errors import NotFound

TEXT = "Consumer complaint narrative"
LABEL = "Product"


def load_cfpb(split: str, path: str | Path | None = None) -> pd.DataFrame:
    """Columns ``text`` and ``product`` of the ``train`` or ``test`` split, in file order."""
    if split not in ("train", "test") and path is None:
        raise NotFound(f"No CFPB split {split!r}; use train or test.")
    source = Path(path) if path is not None else shared_file("cfpb-complaints", f"{split}.csv")
    frame = pd.read_csv(source)
    return pd.DataFrame({"text": frame[TEXT].fillna("").astype(str), "product": frame[LABEL].astype(str)})
