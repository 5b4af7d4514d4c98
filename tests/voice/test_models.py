"""Voice's models on the real public sets, at a size that runs in seconds: sentiment against VADER, routing against
TF-IDF + logistic regression, topics, and burst detection (Guardian Covid headlines, a replayed incident)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from rapport.datasets.cfpb import load_cfpb
from rapport.datasets.guardian import load_guardian_headlines
from rapport.datasets.vader_gold import load_vader_gold
from rapport.voice.emerging import latest_burst, online_bursts
from rapport.voice.evaluation import guardian_figures, routing_figures, sentiment_figures, topic_figures
from rapport.voice.sentiment import SentimentModel, label_of, score_texts


def test_sentiment_beats_vader_out_of_fold_on_both_gold_sets() -> None:
    sets = {name: load_vader_gold(name).sample(1500, random_state=1) for name in ("tweets", "amazon")}
    figures = sentiment_figures(sets, folds=3)
    assert figures["tweets"]["rapport_cv_r"] >= figures["tweets"]["vader_r"] - 0.005
    assert figures["amazon"]["rapport_cv_r"] > figures["amazon"]["vader_r"] + 0.05


def test_the_shipped_model_labels_and_round_trips_as_json() -> None:
    scored = score_texts(["I love it, works perfectly!", "Broken on arrival, a waste of money.", "It is a printer."])
    assert [label for _, label in scored] == ["positive", "negative", "neutral"]
    assert all(-1 <= s <= 1 for s, _ in scored) and label_of(-0.5) == "negative"
    gold = load_vader_gold("amazon").head(300)
    model = SentimentModel().fit(gold["text"].tolist(), gold["rating"].to_numpy())
    again = SentimentModel.from_json(model.to_json())
    assert np.allclose(model.predict(gold["text"].tolist()), again.predict(gold["text"].tolist()), atol=1e-4)


def test_routing_and_topics_on_cfpb() -> None:
    train = load_cfpb("train").sample(2500, random_state=0)
    test = load_cfpb("test").sample(600, random_state=0)
    routing = routing_figures(train, test)
    assert routing["rapport_router"]["accuracy"] > 0.65 and routing["tfidf_logreg"]["accuracy"] > 0.5
    assert routing["rapport_router"]["macro_f1"] >= routing["tfidf_logreg"]["macro_f1"]
    topics = topic_figures(test, n_topics=8)
    majority = test["product"].value_counts(normalize=True).iloc[0]
    assert topics["tfidf_nmf"]["purity"] > majority and topics["tfidf_nmf"]["nmi"] > 0.15
    assert all(label and "xx" not in label for label in topics["labels"])


def test_a_flat_stream_stays_quiet_and_a_doubling_is_caught_within_days() -> None:
    rng = np.random.default_rng(3)
    quiet = [online_bursts(rng.poisson(5.0, 90)) for _ in range(10)]
    assert sum(len(q) for q in quiet) <= 1
    series = np.concatenate([rng.poisson(5.0, 70), rng.poisson(15.0, 10)])
    raised = online_bursts(series)
    assert raised and 70 <= raised[0][0] <= 74 and abs(raised[0][1].start - 70) <= 2
    assert latest_burst(series[:40]) is None


def test_covid_is_detected_in_the_guardian_headlines() -> None:
    headlines = load_guardian_headlines()
    assert len(headlines) == 4080 and headlines["at"].min() == pd.Timestamp("2020-01-02", tz="UTC")
    figures = guardian_figures(headlines, n_topics=10)
    assert figures["detections"] >= 1 and 0 <= figures["delay_days"] <= 45
