"""Evaluations of Voice on the public sets, beside the baselines computed in the same run (bench/voice.py)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import pearsonr
from sklearn.model_selection import KFold

from rapport.voice.emerging import DEFAULT_BURST_RULES, BurstRules, online_bursts
from rapport.voice.routing import ComplaintRouter, baseline_pipeline, routing_scores
from rapport.voice.sentiment import SentimentModel, vader_compound
from rapport.voice.topics import Embedder, TopicModel, nmi, purity

# Covid's onset for the Guardian evaluation: 20 January 2020, when China confirmed human-to-human transmission
# (the WHO's first situation report followed on the 21st). Alerts are judged against it.
COVID_ONSET = pd.Timestamp("2020-01-20", tz="UTC")


def _r(a: Any, b: Any) -> float:
    return round(float(pearsonr(a, b)[0]), 4)


def sentiment_figures(sets: dict[str, pd.DataFrame], folds: int = 5, seed: int = 0) -> dict[str, Any]:
    """Pearson r with the human ratings: VADER alone, Rapport out-of-fold (k-fold within each set) and cross-corpus
    (trained on the other set only). No row is scored by a model that saw it."""
    figures: dict[str, Any] = {}
    for name, frame in sets.items():
        texts, ratings = frame["text"].tolist(), frame["rating"].to_numpy()
        predicted = np.zeros(len(frame))
        for train, test in KFold(folds, shuffle=True, random_state=seed).split(frame):
            model = SentimentModel().fit([texts[i] for i in train], ratings[train])
            predicted[test] = model.predict([texts[i] for i in test])
        figures[name] = {
            "n": len(frame),
            "vader_r": _r(vader_compound(texts), ratings),
            "rapport_cv_r": _r(predicted, ratings),
        }
    names = list(sets)
    pooled = pd.concat([sets[n].assign(corpus=n) for n in names], ignore_index=True)
    predicted = np.zeros(len(pooled))
    for train, test in KFold(folds, shuffle=True, random_state=seed).split(pooled):
        model = SentimentModel().fit(pooled["text"].iloc[train].tolist(), pooled["rating"].to_numpy()[train])
        predicted[test] = model.predict(pooled["text"].iloc[test].tolist())
    for name in names:  # how the shipped model (trained on every set) does, out of fold
        mask = (pooled["corpus"] == name).to_numpy()
        figures[name]["rapport_pooled_cv_r"] = _r(predicted[mask], pooled["rating"].to_numpy()[mask])
    for name in names:
        others = [n for n in names if n != name]
        if not others:
            continue
        train = pd.concat([sets[n] for n in others])
        model = SentimentModel().fit(train["text"].tolist(), train["rating"].to_numpy())
        figures[name]["rapport_cross_corpus_r"] = _r(model.predict(sets[name]["text"].tolist()), sets[name]["rating"])
        figures[name]["cross_corpus_trained_on"] = others
    return figures


def routing_figures(train: pd.DataFrame, test: pd.DataFrame) -> dict[str, Any]:
    """Complaint routing on the test split: Rapport's router and TF-IDF + logistic regression, both fitted on train."""
    router = ComplaintRouter().fit(train["text"].tolist(), train["product"].tolist())
    baseline = baseline_pipeline().fit(train["text"].tolist(), train["product"].tolist())
    return {
        "n_train": len(train),
        "n_test": len(test),
        "rapport_router": routing_scores(test["product"], router.predict(test["text"].tolist())),
        "tfidf_logreg": routing_scores(test["product"], baseline.predict(test["text"].tolist())),
    }


def topic_figures(
    frame: pd.DataFrame, n_topics: int, embed: Embedder | None = None, embed_chars: int = 500
) -> dict[str, Any]:
    """Unsupervised topics against the product labels: purity and NMI, TF-IDF NMF and (with ``embed``) MiniLM."""
    texts, truth = frame["text"].tolist(), frame["product"].tolist()
    figures: dict[str, Any] = {"n": len(frame), "n_topics": n_topics}
    model = TopicModel(n_topics=n_topics)
    assigned = model.fit(texts)
    figures["tfidf_nmf"] = {"purity": round(purity(truth, assigned), 4), "nmi": round(nmi(truth, assigned), 4)}
    figures["labels"] = [t.label for t in model.topics]
    if embed is not None:
        short = [t[:embed_chars] for t in texts]  # MiniLM reads 256 word pieces anyway; shorter is faster
        model = TopicModel(n_topics=n_topics, method="minilm-kmeans")
        assigned = model.fit(short, embed=embed)
        figures["minilm_kmeans"] = {"purity": round(purity(truth, assigned), 4), "nmi": round(nmi(truth, assigned), 4)}
    return figures


def guardian_figures(
    headlines: pd.DataFrame, n_topics: int = 15, rules: BurstRules = DEFAULT_BURST_RULES
) -> dict[str, Any]:
    """Covid in the Guardian's 2020 headlines: topics fitted on the whole period (retrospective discovery), then
    each topic's daily volume replayed day by day. An alert is a detection when most of the headlines of its rise
    match the Covid terms, else a false alarm."""
    model = TopicModel(n_topics=n_topics)
    frame = headlines.assign(topic=model.fit(headlines["text"].tolist()), day=headlines["at"].dt.normalize())
    days = pd.date_range(frame["day"].min(), frame["day"].max(), freq="D")
    alerts: list[dict[str, Any]] = []
    for topic in model.topics:
        mine = frame[frame["topic"] == topic.id]
        counts = mine.groupby("day").size().reindex(days, fill_value=0).to_numpy()
        for raised, burst in online_bursts(counts, rules):
            window = mine[(mine["day"] >= days[burst.start]) & (mine["day"] <= days[raised])]
            covid_share = float(window["covid"].mean()) if len(window) else 0.0
            alerts.append(
                {"topic": topic.label, "raised": str(days[raised].date()), "rise_from": str(days[burst.start].date()),
                 "covid_share": round(covid_share, 2), "detection": covid_share >= 0.5}
            )  # fmt: skip
    detections = sorted((a for a in alerts if a["detection"]), key=lambda a: a["raised"])
    first = detections[0]["raised"] if detections else None
    return {
        "n": len(headlines),
        "onset": str(COVID_ONSET.date()),
        "first_detection": first,
        "delay_days": None if first is None else int((pd.Timestamp(first, tz="UTC") - COVID_ONSET).days),
        "detections": len(detections),
        "false_alarms": len(alerts) - len(detections),
        "topic_days": len(days) * n_topics,
        "alerts": sorted(alerts, key=lambda a: a["raised"]),
    }


def replay_figures(
    test: pd.DataFrame,
    route: Callable[[list[str]], Sequence[str]],
    seeds: int = 10,
    days: int = 120,
    per_day: float = 40.0,
    incident_day: int = 90,
    incident_days: int = 14,
    incident_per_day: float = 10.0,
    rules: BurstRules = DEFAULT_BURST_RULES,
) -> dict[str, Any]:
    """A replayed complaint stream: each day ``per_day`` test-split complaints on average, drawn at random; from
    ``incident_day`` an incident adds ``incident_per_day`` more of one product for ``incident_days`` days. Each
    complaint is routed to a topic by ``route`` (the router, fitted on train), topics' daily volumes replayed online.
    Delay counts days from the incident's first day to the alert; every other alert is a false alarm."""
    texts = test["text"].tolist()
    routed = np.asarray(route(texts))
    products = sorted(test["product"].unique())
    delays, false_alarms, missed, runs = [], 0, 0, []
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        product = products[seed % len(products)]
        pool = np.flatnonzero(test["product"].to_numpy() == product)
        topics_by_day: list[list[str]] = []
        for day in range(days):
            picked = list(rng.integers(0, len(texts), rng.poisson(per_day)))
            if incident_day <= day < incident_day + incident_days:
                picked += list(rng.choice(pool, rng.poisson(incident_per_day)))
            topics_by_day.append([routed[i] for i in picked])
        found = None
        for topic in products:
            counts = [sum(1 for t in today if t == topic) for today in topics_by_day]
            for raised, _ in online_bursts(counts, rules):
                if topic == product and raised >= incident_day and found is None:
                    found = raised - incident_day
                else:
                    false_alarms += 1
        if found is None:
            missed += 1
        else:
            delays.append(found)
        runs.append({"product": product, "delay_days": found})
    return {
        "replays": seeds,
        "days": days,
        "complaints_per_day": per_day,
        "incident": {"first_day": incident_day, "days": incident_days, "extra_per_day": incident_per_day},
        "detected": seeds - missed,
        "mean_delay_days": round(float(np.mean(delays)), 2) if delays else None,
        "max_delay_days": int(max(delays)) if delays else None,
        "false_alarms": false_alarms,
        "false_alarms_per_1000_topic_days": round(1000 * false_alarms / (seeds * days * len(products)), 3),
        "runs": runs,
    }


def stamp() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")
