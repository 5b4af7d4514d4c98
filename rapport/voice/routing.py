"""Routing complaints to the team for their product: a supervised text classifier, and the plain baseline.

The router is a linear SVM on word uni- and bigram TF-IDF with balanced class weights (small categories matter as
much as big ones for routing); the baseline is scikit-learn's default TF-IDF + logistic regression.
"""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.svm import LinearSVC

from rapport.errors import InvalidInput


def router_pipeline() -> Pipeline:
    return make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True), LinearSVC(C=0.5, class_weight="balanced")
    )


def baseline_pipeline() -> Pipeline:
    return make_pipeline(TfidfVectorizer(), LogisticRegression(max_iter=1000))


@dataclass
class ComplaintRouter:
    """``fit`` on labelled complaints, ``predict`` the category of new ones."""

    pipeline: Pipeline = field(default_factory=router_pipeline)
    labels: tuple[str, ...] = ()

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> ComplaintRouter:
        if len(set(labels)) < 2:
            raise InvalidInput(f"Routing needs at least two categories; got {sorted(set(labels))}.")
        self.pipeline.fit(list(texts), list(labels))
        self.labels = tuple(sorted(set(labels)))
        return self

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        if not self.labels:
            raise InvalidInput("The complaint router is not fitted.")
        return np.asarray(self.pipeline.predict(list(texts)))

    def dumps(self) -> bytes:
        return pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL)


def routing_scores(truth: Any, predicted: Any) -> dict[str, float]:
    return {
        "accuracy": round(float(accuracy_score(truth, predicted)), 4),
        "macro_f1": round(float(f1_score(truth, predicted, average="macro")), 4),
    }
