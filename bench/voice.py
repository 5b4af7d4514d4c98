"""Voice on the public sets, beside its baselines computed in the same run; throughput on this machine.

    .venv/bin/python bench/voice.py [--folds 5] [--train N] [--test N] [--topic-items 3000] [--embed-items 600]
                                    [--guardian-topics 15] [--replays 10] [--throughput-items 3000]

- sentiment: Pearson r with the human ratings of the VADER gold sets (tweets, Amazon review sentences): VADER alone,
  Rapport out-of-fold (k-fold within each set; pooled k-fold over both, as the shipped model is trained), and
  cross-corpus (trained on the other set only).
- routing: CFPB complaints to 8 products, fitted on the train split, scored on the test split: Rapport's router and
  TF-IDF + logistic regression.
- topics: unsupervised topics of test-split complaints against the product labels (purity, NMI): TF-IDF NMF, and
  MiniLM embeddings + k-means on the first ``--embed-items`` of them.
- emerging: Covid in the Guardian's 2020 headlines (delay from the 20 Jan 2020 onset, false alarms), and replays of
  a complaint stream with an injected incident (delay, false alarms).
- throughput: items/s for sentiment (Rapport, VADER alone, aspects) and for embedding.
The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rapport.datasets.cfpb import load_cfpb
from rapport.datasets.guardian import load_guardian_headlines
from rapport.datasets.vader_gold import load_vader_gold
from rapport.voice.aspects import aspect_sentiments
from rapport.voice.evaluation import (
    guardian_figures,
    replay_figures,
    routing_figures,
    sentiment_figures,
    topic_figures,
)
from rapport.voice.routing import ComplaintRouter
from rapport.voice.sentiment import shipped_model, vader_compound


def _rate(count: int, seconds: float) -> float:
    return round(count / max(seconds, 1e-9), 1)


def throughput(texts: list[str], embed_items: int) -> dict[str, Any]:
    found: dict[str, Any] = {"items": len(texts)}
    model = shipped_model()
    model.predict(texts[:10])
    for name, run in (
        ("rapport_sentiment", lambda: model.predict(texts)),
        ("vader_sentiment", lambda: vader_compound(texts)),
        ("aspects", lambda: aspect_sentiments(texts)),
    ):
        start = time.perf_counter()
        run()
        found[f"{name}_items_per_s"] = _rate(len(texts), time.perf_counter() - start)
    if embed_items:
        from rapport.voice.embeddings import embed

        start = time.perf_counter()
        embed(texts[:2])
        found["embedding_load_s"] = round(time.perf_counter() - start, 2)
        start = time.perf_counter()
        embed(texts[:embed_items])
        found["embedding_items_per_s"] = _rate(min(embed_items, len(texts)), time.perf_counter() - start)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--sentiment-items", type=int, default=0, help="rows per gold set (0: all)")
    parser.add_argument("--train", type=int, default=0, help="CFPB train rows (0: all 10,000)")
    parser.add_argument("--test", type=int, default=0, help="CFPB test rows (0: all 3,000)")
    parser.add_argument("--topic-items", type=int, default=3000)
    parser.add_argument("--embed-items", type=int, default=600, help="complaints embedded for MiniLM topics (0: none)")
    parser.add_argument("--guardian-topics", type=int, default=15)
    parser.add_argument("--guardian-items", type=int, default=0, help="headlines (0: all)")
    parser.add_argument("--replays", type=int, default=10)
    parser.add_argument("--replay-days", type=int, default=120)
    parser.add_argument("--throughput-items", type=int, default=3000)
    args = parser.parse_args()
    load = Path("/proc/loadavg").read_text().split()[:3]
    result: dict[str, Any] = {"load_average_at_start": [float(x) for x in load]}

    def timed(name: str, run: Any) -> None:
        start = time.perf_counter()
        result[name] = run()
        result[name]["seconds"] = round(time.perf_counter() - start, 1)
        print(f"{name}: {json.dumps(result[name])[:400]}", file=sys.stderr, flush=True)

    sets = {name: load_vader_gold(name) for name in ("tweets", "amazon")}
    if args.sentiment_items:
        sets = {n: f.sample(min(args.sentiment_items, len(f)), random_state=0) for n, f in sets.items()}
    timed("sentiment", lambda: sentiment_figures(sets, folds=args.folds))

    train, test = load_cfpb("train"), load_cfpb("test")
    if args.train:
        train = train.sample(args.train, random_state=0)
    if args.test:
        test = test.sample(args.test, random_state=0)
    timed("routing", lambda: routing_figures(train, test))

    def topics() -> dict[str, Any]:
        sample = test.sample(min(args.topic_items, len(test)), random_state=0)
        found = topic_figures(sample, n_topics=8)
        if args.embed_items:
            from rapport.voice.embeddings import embed

            small = sample.head(args.embed_items)
            found["same_items_as_minilm"] = topic_figures(small, n_topics=8, embed=embed)
        return found

    timed("topics", topics)
    headlines = load_guardian_headlines()
    if args.guardian_items:
        headlines = headlines.iloc[:: max(1, len(headlines) // args.guardian_items)].reset_index(drop=True)
    timed("guardian", lambda: guardian_figures(headlines, n_topics=args.guardian_topics))
    router = ComplaintRouter().fit(train["text"].tolist(), train["product"].tolist())
    timed(
        "replay",
        lambda: replay_figures(test, router.predict, seeds=args.replays, days=args.replay_days,
                               incident_day=max(20, args.replay_days * 3 // 4)),
    )  # fmt: skip
    texts = sets["amazon"]["text"].tolist() + sets["tweets"]["text"].tolist()
    timed("throughput", lambda: throughput(texts[: args.throughput_items], args.embed_items))
    result["load_average_at_end"] = [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
