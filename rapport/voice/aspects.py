"""Per-aspect sentiment, where it is cheap: the sentences of an item that mention delivery, price or support,
scored with the same sentiment model. An aspect is a *negative mention* when its worst sentence is negative."""

from __future__ import annotations

import re
from collections.abc import Sequence

from rapport.voice.sentiment import NEUTRAL_BAND, SentimentModel, shipped_model

ASPECTS: dict[str, re.Pattern[str]] = {
    "delivery": re.compile(
        r"\b(deliver\w*|shipping|shipped|shipment|parcel|package|courier|arriv\w*|tracking|dispatch\w*|late)\b", re.I
    ),
    "price": re.compile(
        r"\b(price\w*|pric(e|ing)|cost\w*|expensive|overcharg\w*|charg\w*|fee|fees|bill\w*|refund\w*|money)\b", re.I
    ),
    "support": re.compile(
        r"\b(support|service|agent\w*|hotline|call centre|call center|customer care|helpdesk|representative\w*|"
        r"on hold|no one|nobody|respon\w*|answer\w*)\b",
        re.I,
    ),
}
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")


def aspect_sentiments(texts: Sequence[str], model: SentimentModel | None = None) -> list[dict[str, float]]:
    """For each text, {aspect: sentiment of its most negative sentence mentioning the aspect} (mentioned ones only)."""
    model = model or shipped_model()
    wanted: list[tuple[int, str, str]] = []
    for index, text in enumerate(texts):
        for sentence in _SENTENCE.split(text):
            for aspect, pattern in ASPECTS.items():
                if pattern.search(sentence):
                    wanted.append((index, aspect, sentence))
    found: list[dict[str, float]] = [{} for _ in texts]
    if not wanted:
        return found
    scores = model.predict([sentence for _, _, sentence in wanted])
    for (index, aspect, _), score in zip(wanted, scores, strict=True):
        current = found[index].get(aspect)
        found[index][aspect] = round(float(score) if current is None else min(current, float(score)), 4)
    return found


def negative_aspects(aspects: dict[str, float]) -> list[str]:
    """The aspects an item mentions negatively."""
    return sorted(a for a, score in aspects.items() if score <= -NEUTRAL_BAND)
