"""Topics: group voice items into topics labelled by their key phrases, and assign new items as they arrive.

Two ways to group, one way to label. ``tfidf-nmf`` factorises TF-IDF n-grams (fast, no model download);
``minilm-kmeans`` clusters MiniLM sentence embeddings (rapport.voice.embeddings). Either way a topic's label is its
top class-based TF-IDF phrases (BERTopic's c-TF-IDF: a phrase frequent in the topic and rare across topics), so a
person can read what the topic is about. New items are assigned to the nearest existing topic without refitting.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from sklearn.cluster import KMeans
from sklearn.decomposition import NMF
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.metrics import normalized_mutual_info_score

from rapport.errors import InvalidInput

Method = Literal["tfidf-nmf", "minilm-kmeans"]
Embedder = Callable[[Sequence[str]], np.ndarray]
UNASSIGNED = -1
# Redaction marks (CFPB's runs of capital X) and boilerplate carry no topic.
_STOP_EXTRA = ["xx", "xxxx", "xxxxxxxx", "xx xx", "xxxx xxxx"]


@dataclass(frozen=True)
class Topic:
    id: int
    label: str
    terms: tuple[str, ...]
    size: int


@dataclass
class TopicModel:
    """``fit`` on a batch of texts, ``assign`` new ones; ``topics`` names each group."""

    n_topics: int = 12
    method: Method = "tfidf-nmf"
    min_weight: float = 0.0  # an NMF weight at or below this leaves the item unassigned (nothing it shares)
    seed: int = 0
    topics: list[Topic] = field(default_factory=list)
    version: str = ""
    _vectorizer: TfidfVectorizer | None = None
    _nmf: NMF | None = None
    _kmeans: KMeans | None = None

    def fit(self, texts: Sequence[str], embed: Embedder | None = None) -> np.ndarray:
        """Group ``texts``; returns each one's topic id."""
        if len(texts) < self.n_topics * 2:
            raise InvalidInput(
                f"{len(texts)} texts are too few for {self.n_topics} topics; give at least twice as many."
            )
        self._vectorizer = TfidfVectorizer(
            ngram_range=(1, 2), min_df=2, max_df=0.5, max_features=30_000, stop_words=_stop_words(), sublinear_tf=True
        )
        words = self._vectorizer.fit_transform(list(texts))
        if self.method == "tfidf-nmf":
            self._nmf = NMF(n_components=self.n_topics, init="nndsvda", random_state=self.seed, max_iter=300)
            assigned = self._nmf_assign(self._nmf.fit_transform(words))
        else:
            if embed is None:
                raise InvalidInput("minilm-kmeans topics need an embedder (rapport.voice.embeddings.embed).")
            self._kmeans = KMeans(n_clusters=self.n_topics, n_init=4, random_state=self.seed)
            assigned = self._kmeans.fit_predict(embed(texts))
        self.topics = _label_topics(list(texts), assigned, self.n_topics)
        self.version = f"{self.method}-{self.n_topics}@{len(texts)}"
        return assigned

    def assign(self, texts: Sequence[str], embed: Embedder | None = None) -> np.ndarray:
        """The topic of each new text (UNASSIGNED when it shares nothing with any topic)."""
        if self._vectorizer is None:
            raise InvalidInput("The topic model is not fitted; run `rapport voice topics --refit` first.")
        if not texts:
            return np.zeros(0, dtype=int)
        if self._nmf is not None:
            return self._nmf_assign(self._nmf.transform(self._vectorizer.transform(list(texts))))
        if embed is None or self._kmeans is None:
            raise InvalidInput("This topic model groups embeddings: pass rapport.voice.embeddings.embed to assign.")
        return self._kmeans.predict(embed(texts))

    def _nmf_assign(self, weights: np.ndarray) -> np.ndarray:
        assigned = weights.argmax(axis=1)
        assigned[weights.max(axis=1) <= self.min_weight] = UNASSIGNED
        return assigned

    def label(self, topic_id: int) -> str:
        for topic in self.topics:
            if topic.id == topic_id:
                return topic.label
        return "unassigned"

    def dumps(self) -> bytes:
        return pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL)

    @classmethod
    def loads(cls, payload: bytes) -> TopicModel:
        model = pickle.loads(payload)  # our own store's bytes, written by dumps()
        if not isinstance(model, cls):
            raise InvalidInput("The stored voice topic model is not a TopicModel; refit with `rapport voice topics`.")
        return model


def _stop_words() -> list[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return sorted(ENGLISH_STOP_WORDS | set(_STOP_EXTRA))


def _label_topics(texts: list[str], assigned: np.ndarray, n_topics: int, n_terms: int = 4) -> list[Topic]:
    """Each topic's key phrases by class-based TF-IDF; bigrams first when they are as distinctive as words."""
    counter = CountVectorizer(
        ngram_range=(1, 2), min_df=2, stop_words=_stop_words(), token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z]+\b"
    )
    counts = counter.fit_transform(texts)
    terms = counter.get_feature_names_out()
    per_topic = np.vstack(
        [np.asarray(counts[assigned == t].sum(axis=0)).ravel() if (assigned == t).any() else np.zeros(len(terms))
         for t in range(n_topics)]
    )  # fmt: skip
    frequency = per_topic / np.maximum(per_topic.sum(axis=1, keepdims=True), 1)
    rarity = np.log(1 + per_topic.sum() / np.maximum(per_topic.sum(axis=0), 1))
    weight = frequency * rarity
    topics = []
    for t in range(n_topics):
        best = [str(terms[i]) for i in np.argsort(-weight[t])[: n_terms * 3] if weight[t, i] > 0]
        picked = _phrases(best, n_terms)
        label = ", ".join(picked) if picked else f"topic {t}"
        topics.append(Topic(id=t, label=label, terms=tuple(best[: n_terms * 2]), size=int((assigned == t).sum())))
    return topics


def _phrases(ranked: list[str], n: int) -> list[str]:
    """Key phrases without repeats: a word already inside a chosen phrase is not listed again."""
    picked: list[str] = []
    for term in ranked:
        words = set(term.split())
        if any(words <= set(p.split()) or set(p.split()) <= words for p in picked):
            if " " in term:  # a phrase holding an earlier word replaces it
                picked = [p for p in picked if not set(p.split()) <= words]
            else:
                continue
        picked.append(term)
        if len(picked) == n:
            break
    return picked


def purity(truth: Sequence[str], assigned: Sequence[int] | np.ndarray) -> float:
    """Share of items whose topic's majority label is their own label."""
    pairs: dict[int, dict[str, int]] = {}
    for label, topic in zip(truth, assigned, strict=True):
        pairs.setdefault(int(topic), {}).setdefault(label, 0)
        pairs[int(topic)][label] += 1
    return sum(max(c.values()) for c in pairs.values()) / max(len(truth), 1)


def nmi(truth: Sequence[str], assigned: Sequence[int] | np.ndarray) -> float:
    return float(normalized_mutual_info_score(list(truth), list(assigned)))
