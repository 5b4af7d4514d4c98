"""Sentiment of a voice item in -1..1: VADER's lexicon scores, corrected by a ridge model on TF-IDF n-grams.

VADER (Hutto & Gilbert 2014) is a strong start on short social text but weak on product reviews (r ≈ 0.59 with the
human ratings of its Amazon gold set). The correction learns, from rated sentences, which words and phrases VADER's
lexicon misses or misjudges; VADER's own scores stay features, so text with no known n-gram falls back to VADER.
The shipped model (``models/sentiment.json``) is trained on the VADER gold sets (tweets and Amazon sentences, MIT),
and is plain JSON: a vocabulary, IDF weights and coefficients.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import Ridge

from rapport.errors import InvalidInput

Label = Literal["negative", "neutral", "positive"]
SHIPPED_MODEL = Path(__file__).with_name("models") / "sentiment.json"
RATING_SCALE = 4.0  # the gold sets rate on -4..+4; Rapport's sentiment is that divided by 4, clipped to -1..1
NEUTRAL_BAND = 0.1  # |sentiment| below this is neutral (VADER's own convention is ±0.05 on its compound score)
_VADER_WEIGHT = 3.0  # VADER's features are scaled up so the ridge penalty shrinks them less than the n-grams


@lru_cache(maxsize=1)
def _analyzer() -> Any:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def vader_features(texts: Sequence[str]) -> np.ndarray:
    """VADER's compound, positive, negative and neutral scores, one row per text."""
    analyzer = _analyzer()
    rows = []
    for text in texts:
        scores = analyzer.polarity_scores(text)
        rows.append((scores["compound"], scores["pos"], scores["neg"], scores["neu"]))
    return np.asarray(rows, dtype=float).reshape(len(rows), 4)


def vader_compound(texts: Sequence[str]) -> np.ndarray:
    """VADER alone: its compound score in -1..1 (the baseline Rapport is measured against)."""
    return vader_features(texts)[:, 0]


def label_of(sentiment: float) -> Label:
    if sentiment <= -NEUTRAL_BAND:
        return "negative"
    if sentiment >= NEUTRAL_BAND:
        return "positive"
    return "neutral"


@dataclass
class SentimentModel:
    """VADER plus a learned n-gram correction; ``fit`` on rated texts, ``predict`` scores in -1..1."""

    alpha: float = 1.0
    min_df: int = 2
    vectorizer: TfidfVectorizer | None = None
    ridge: Ridge | None = None
    trained_on: str = ""

    def fit(self, texts: Sequence[str], ratings: Sequence[float], trained_on: str = "") -> SentimentModel:
        """Learn from ``texts`` rated on the gold sets' -4..+4 scale."""
        if len(texts) != len(ratings) or len(texts) < 10:
            raise InvalidInput(f"Sentiment training needs at least 10 rated texts; got {len(texts)} texts.")
        self.vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=self.min_df, sublinear_tf=True)
        words = self.vectorizer.fit_transform(list(texts))
        self.ridge = Ridge(alpha=self.alpha).fit(self._features(words, texts), np.asarray(ratings, dtype=float))
        self.trained_on = trained_on
        return self

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        """Sentiment in -1..1 for each text."""
        if self.vectorizer is None or self.ridge is None:
            raise InvalidInput("This sentiment model is not fitted; call fit() or SentimentModel.load().")
        words = self.vectorizer.transform(list(texts))
        raw = self.ridge.predict(self._features(words, texts)) / RATING_SCALE
        return np.clip(raw, -1.0, 1.0)

    def _features(self, words: csr_matrix, texts: Sequence[str]) -> csr_matrix:
        return hstack([words, csr_matrix(vader_features(texts) * _VADER_WEIGHT)]).tocsr()

    # ----- plain-JSON persistence ------------------------------------------------------------------------
    def to_json(self) -> str:
        if self.vectorizer is None or self.ridge is None:
            raise InvalidInput("Only a fitted sentiment model can be saved.")
        vocabulary = {term: int(index) for term, index in self.vectorizer.vocabulary_.items()}
        return json.dumps(
            {
                "kind": "vader+tfidf-ridge",
                "trained_on": self.trained_on,
                "alpha": self.alpha,
                "min_df": self.min_df,
                "vocabulary": vocabulary,
                "idf": [round(float(v), 6) for v in self.vectorizer.idf_],
                "coef": [round(float(v), 6) for v in self.ridge.coef_],
                "intercept": float(self.ridge.intercept_),
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> SentimentModel:
        data = json.loads(text)
        if data.get("kind") != "vader+tfidf-ridge":
            raise InvalidInput(f"Not a Rapport sentiment model (kind {data.get('kind')!r}).")
        model = cls(alpha=float(data["alpha"]), min_df=int(data["min_df"]), trained_on=str(data["trained_on"]))
        vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, vocabulary=data["vocabulary"])
        vectorizer.idf_ = np.asarray(data["idf"], dtype=float)
        ridge = Ridge(alpha=model.alpha)
        ridge.coef_ = np.asarray(data["coef"], dtype=float)
        ridge.intercept_ = float(data["intercept"])
        ridge.n_features_in_ = len(ridge.coef_)
        model.vectorizer, model.ridge = vectorizer, ridge
        return model

    def save(self, path: Path) -> None:
        path.write_text(self.to_json(), encoding="utf-8")

    @classmethod
    def load(cls, path: Path = SHIPPED_MODEL) -> SentimentModel:
        if not path.exists():
            raise InvalidInput(f"No sentiment model at {path}; train one with `rapport voice train-sentiment`.")
        return cls.from_json(path.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def shipped_model() -> SentimentModel:
    """The model shipped with Rapport (trained on both VADER gold sets), loaded once."""
    return SentimentModel.load(SHIPPED_MODEL)


def score_texts(texts: Sequence[str]) -> list[tuple[float, Label]]:
    """(sentiment, label) of each text with the shipped model."""
    scores = shipped_model().predict(texts) if texts else np.zeros(0)
    return [(round(float(s), 4), label_of(float(s))) for s in scores]
