"""EASE (Steck 2019): an item-item model with a closed form, B = I - P / diag(P), P = (X'X + lambda I)^-1.

With fewer customers than items (the Instacart sample: 593 x 14,190) the items x items inverse is too big, so the
model is kept in its dual form through the Woodbury identity: P = (I - X' K^-1 X) / lambda with K = XX' + lambda I
(customers x customers), and a history x is scored as x - (x P) / diag(P) without forming P.
"""

from __future__ import annotations

import numpy as np
from scipy import linalg, sparse

from rapport.errors import InvalidInput
from rapport.request.interactions import Interactions


class EASE:
    """Scores s_j = sum over the customer's items i != j of B_ij; ``weights`` holds B in the primal form."""

    def __init__(self, regularization: float = 250.0) -> None:
        if regularization <= 0:
            raise InvalidInput(f"EASE regularization {regularization} must be positive.")
        self.regularization = regularization
        self.weights: np.ndarray | None = None  # B (primal)
        self.train: sparse.csr_matrix | None = None  # X (dual)
        self.solved: np.ndarray | None = None  # K^-1 X (dual)
        self.diagonal: np.ndarray | None = None  # diag(P) (dual)

    def fit(self, data: Interactions) -> EASE:
        x = data.binary().astype(np.float64)
        customers, items = x.shape
        lam = self.regularization
        if items <= customers:
            gram = (x.T @ x).toarray() + lam * np.eye(items)
            p = linalg.inv(gram, overwrite_a=True, check_finite=False)
            b = -p / np.diag(p)[None, :]
            np.fill_diagonal(b, 0.0)
            self.weights = b.astype(np.float32)
            self.train = self.solved = self.diagonal = None
            return self
        kernel = (x @ x.T).toarray() + lam * np.eye(customers)
        solved = linalg.solve(kernel, x.toarray(), assume_a="pos", check_finite=False)
        self.diagonal = (1.0 - np.asarray(x.multiply(solved).sum(axis=0)).ravel()) / lam
        self.train, self.solved, self.weights = x.tocsr(), solved, None
        return self

    def score(self, history: Interactions) -> np.ndarray:
        return self.score_matrix(history.binary())

    def score_matrix(self, rows: sparse.csr_matrix) -> np.ndarray:
        if self.weights is not None:
            return np.asarray(rows @ self.weights)
        if self.train is None or self.solved is None or self.diagonal is None:
            raise InvalidInput("Fit the EASE ranker before scoring.")
        dense = rows.toarray().astype(np.float64)
        xp = (dense - (rows @ self.train.T).toarray() @ self.solved) / self.regularization
        return (dense - xp / self.diagonal[None, :]).astype(np.float32)

    def item_weights(self, sources: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """B[sources, targets]: how much having taken each source adds to each target (explains an offer)."""
        if self.weights is not None:
            return self.weights[np.ix_(sources, targets)]
        if self.train is None or self.solved is None or self.diagonal is None:
            raise InvalidInput("Fit the EASE ranker before explaining.")
        # P[S, T] = (I[S, T] - X[:, S]' (K^-1 X)[:, T]) / lambda, without forming P
        same = (sources[:, None] == targets[None, :]).astype(np.float64)
        inner = np.asarray(self.train[:, sources].T @ self.solved[:, targets])
        p = (same - inner) / self.regularization
        b = -p / self.diagonal[targets][None, :]
        b[same.astype(bool)] = 0.0
        return b.astype(np.float32)
