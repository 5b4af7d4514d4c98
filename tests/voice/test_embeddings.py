"""The offline MiniLM model really embeds (the one test that imports torch)."""

from __future__ import annotations

import numpy as np

from rapport.voice.embeddings import DIMENSIONS, embed


def test_similar_complaints_embed_close_together() -> None:
    vectors = embed(["My parcel never arrived.", "The delivery did not come.", "What a lovely coffee flavour."])
    assert vectors.shape == (3, DIMENSIONS)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2
