"""Voice's services: record items, refit topics, scan for emerging issues, read a customer's voice.

The API, the CLI, the demo and other parts (conversations) all call these. ``record_voice_items`` is idempotent on
(source, external_id): a retried item is stored once and counted as a duplicate.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import numpy as np

from rapport.config import Settings
from rapport.customers.identifiers import Identifier
from rapport.errors import RapportError
from rapport.recognize.need import Need
from rapport.voice.aspects import aspect_sentiments, negative_aspects
from rapport.voice.emerging import DEFAULT_BURST_RULES, BurstRules, latest_burst
from rapport.voice.items import ScoredItem, VoiceItem, VoiceReport, parse_item
from rapport.voice.ports import VoiceStore
from rapport.voice.sentiment import score_texts
from rapport.voice.topics import TopicModel

SENTIMENT_VERSION = "voice-sentiment@1"


@dataclass(frozen=True)
class VoiceRules:
    issue_days: float = 7.0  # a negative item raises an issue need for this long after it was said
    alert_lookback_days: int = 120  # history a scan judges the newest days against
    examples: int = 3


DEFAULT_VOICE_RULES = VoiceRules()


class VoiceHost(Protocol):
    """A Store: Voice's storage, and the settings (for the default phone region)."""

    settings: Settings

    @property
    def voice(self) -> VoiceStore: ...


def record_voice_items(
    store: VoiceHost, items: Iterable[Any], now: datetime | None = None, rules: VoiceRules = DEFAULT_VOICE_RULES
) -> VoiceReport:
    """Validate, score, link and store ``items`` (dicts or VoiceItems); raise issue needs for linked negative ones.

    An item is linked to a customer only when its identifiers (or its author handle, as identifier ``handle``) match
    one profile in the identity graph; items matching several profiles stay unlinked. Invalid items are rejected
    with the reason and do not stop the others.
    """
    now = now or datetime.now(UTC)
    voice = store.voice
    report = VoiceReport()
    batch: dict[tuple[str, str], VoiceItem] = {}
    for number, data in enumerate(items, start=1):
        report.received += 1
        try:
            item = parse_item(data, store.settings.default_phone_region)
        except RapportError as exc:
            report.rejected.append(f"item {number}: {exc}")
            continue
        if (item.source, item.external_id) in batch:
            report.duplicates += 1
        batch[(item.source, item.external_id)] = item
    existing = voice.existing_keys(list(batch))
    fresh = [item for key, item in batch.items() if key not in existing]
    report.duplicates += len(batch) - len(fresh)
    scored = score_items(voice, fresh)
    report.stored = voice.insert_items(scored, now)
    hurting = {s.customer_id for s in scored if s.customer_id}
    report.linked = sum(1 for s in scored if s.customer_id)
    for customer_id in sorted(hurting):
        report.issue_needs += len(refresh_voice_needs(store, customer_id, now, rules))
    return report


def score_items(voice: VoiceStore, items: list[VoiceItem]) -> list[ScoredItem]:
    """Sentiment, aspects, topic (with a stored TF-IDF topic model) and customer link of each item."""
    if not items:
        return []
    texts = [item.text for item in items]
    sentiments = score_texts(texts)
    aspects = aspect_sentiments(texts)
    topics: list[int | None] = [None] * len(items)
    model = voice.load_topic_model()
    if isinstance(model, TopicModel) and model.method == "tfidf-nmf":  # embeddings stay off the hot path
        topics = [int(t) for t in model.assign(texts)]
    return [
        ScoredItem(item, score, label, aspect, topic, voice.customer_for(_link_identifiers(item)))
        for item, (score, label), aspect, topic in zip(items, sentiments, aspects, topics, strict=True)
    ]


def _link_identifiers(item: VoiceItem) -> tuple[Identifier, ...]:
    return (*item.identifiers, Identifier("handle", item.author)) if item.author else item.identifiers


def refresh_voice_needs(
    store: VoiceHost, customer_id: str, now: datetime, rules: VoiceRules = DEFAULT_VOICE_RULES
) -> list[Need]:
    """Rewrite the customer's Voice issue needs: one per negative item said in the last ``issue_days``."""
    since = now - timedelta(days=rules.issue_days)
    rows = [r for r in store.voice.customer_items(customer_id, since) if r["label"] == "negative" and r["at"] <= now]
    found = [_issue_need(customer_id, row, rules) for row in rows]
    store.voice.replace_voice_needs(customer_id, found)
    return found


def _issue_need(customer_id: str, row: dict[str, Any], rules: VoiceRules) -> Need:
    aspects = negative_aspects(row["aspects"] or {})
    about = f" about {', '.join(aspects)}" if aspects else ""
    excerpt = row["text"] if len(row["text"]) <= 120 else row["text"][:117] + "..."
    reason = (
        f"Negative {row['source']} item{about} on {row['at']:%Y-%m-%d} (sentiment {row['sentiment']:.2f}): {excerpt}"
    )
    return Need(
        customer_id=customer_id,
        item=None,
        category=None,
        kind="issue",
        due_at=row["at"],
        confidence=round(min(1.0, 0.5 + abs(float(row["sentiment"])) / 2), 4),
        evidence={
            "reason": reason,
            "item": f"{row['source']}:{row['external_id']}",
            "source": row["source"],
            "sentiment": float(row["sentiment"]),
            "aspects": aspects,
            "expires_at": (row["at"] + timedelta(days=rules.issue_days)).isoformat(),
            "model": SENTIMENT_VERSION,
        },
    )


def refit_topics(store: VoiceHost, n_topics: int = 12, now: datetime | None = None, limit: int = 50_000) -> TopicModel:
    """Fit the topic model on the newest stored items, label every one of them, and keep the model."""
    rows = store.voice.all_texts(limit)
    model = TopicModel(n_topics=min(n_topics, max(2, len(rows) // 4)))
    assigned = model.fit([text for _, text in rows])
    store.voice.set_topics({item_id: int(t) for (item_id, _), t in zip(rows, assigned, strict=True)})
    store.voice.save_topics(model, now or datetime.now(UTC))
    return model


def scan_alerts(
    store: VoiceHost,
    now: datetime | None = None,
    rules: VoiceRules = DEFAULT_VOICE_RULES,
    burst_rules: BurstRules = DEFAULT_BURST_RULES,
) -> list[dict[str, Any]]:
    """Judge each topic's daily volume and negative volume up to ``now``; store and return the new alerts.

    Days are the 24-hour periods ending at ``now`` (the newest is the last full day, never a partial one)."""
    now = now or datetime.now(UTC)
    periods = rules.alert_lookback_days
    start = now - timedelta(days=periods)
    rows = [r for r in store.voice.items_between(start, now) if r["topic_id"] is not None]
    labels = {t["id"]: t["label"] for t in store.voice.topics()}
    # History starts with the first item in the window: days before anyone said anything are not quiet days.
    first = min((_period(r["at"], start) for r in rows), default=0)
    found = []
    for topic_id in sorted({r["topic_id"] for r in rows}):
        mine = [r for r in rows if r["topic_id"] == topic_id]
        for signal, wanted in (("volume", mine), ("negativity", [r for r in mine if r["label"] == "negative"])):
            counts = np.zeros(periods)
            for row in wanted:
                counts[min(_period(row["at"], start), periods - 1)] += 1
            burst = latest_burst(counts[first:], burst_rules)
            if burst is None:
                continue
            since = start + timedelta(days=first + burst.start)
            examples = [
                {"id": r["id"], "at": r["at"].isoformat(), "text": r["text"][:280], "label": r["label"]}
                for r in wanted
                if r["at"] >= since
            ][: rules.examples]
            found.append(
                {
                    "topic_id": int(topic_id),
                    "signal": signal,
                    "period_start": since,
                    "raised_at": now,
                    "observed": burst.observed,
                    "baseline": burst.baseline,
                    "examples": {"topic": labels.get(topic_id, f"topic {topic_id}"), "items": examples},
                }
            )
    store.voice.add_alerts(found)
    return found


def _period(at: datetime, start: datetime) -> int:
    return int((at - start).total_seconds() // 86_400)


def customer_voice(store: VoiceHost, customer_id: str) -> list[dict[str, Any]]:
    """The items a customer said, newest first, JSON-ready."""
    return [
        {
            "source": r["source"],
            "external_id": r["external_id"],
            "at": r["at"].isoformat(),
            "text": r["text"],
            "sentiment": r["sentiment"],
            "label": r["label"],
            "aspects": r["aspects"],
            "topic_id": r["topic_id"],
        }
        for r in store.voice.customer_items(customer_id)
    ]
