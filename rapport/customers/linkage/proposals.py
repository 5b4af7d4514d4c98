"""Linkage over the stored profiles: propose merges of profiles that share no identifier but are the same person.

Each run compares only the profiles that are new or changed since they were last linked (``linkage_state`` keeps
a fingerprint of what was compared) against every stored profile, with the model trained once on the whole store
(trained again with ``retrain`` or when the store has more than doubled). A pair at or above the high threshold is
merged (reason ``linkage``, undoable, the evidence names the fields and the probability) unless the merged profile
would break a kind limit (two accounts); pairs between the thresholds, and those, wait for a person in the review
queue. A rejected review, or an undone linkage merge, is never proposed again.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from rapport.customers.linkage.attributes import COLUMNS, fingerprint, linkable, profile_attributes
from rapport.customers.linkage.blocking import BlockingRule
from rapport.customers.linkage.model import LinkageModel, level_labels
from rapport.customers.linkage.ports import LinkageEngine, LinkageStore, LinkageTransaction, Review
from rapport.customers.linkage.prepare import prepare_records
from rapport.customers.linkage.roles import ColumnRole, feature_names, recognise_roles
from rapport.customers.linkage.thresholds import choose_threshold
from rapport.customers.merge_listeners import notify_merged
from rapport.customers.ports import MergeRecord
from rapport.errors import Conflict, InvalidInput, NotFound

AUTO_MERGE = 0.99  # default: merge without asking at or above this match probability
MIN_REVIEW, MAX_REVIEW = 0.2, 0.9  # the label-free review threshold stays in this band
MIN_PROFILES = 50  # fewer linkable profiles cannot train the model (too few pairs to learn from)
_FLOOR = 0.05
STORE_STEPS = 4


@dataclass
class StoreLinkageReport:
    """What one run over the store did."""

    profiles: int
    linkable: int
    profiles_linked: int
    pairs_scored: int = 0
    merged: int = 0
    queued: int = 0
    skipped_rejected: int = 0
    auto_threshold: float = AUTO_MERGE
    review_threshold: float = 0.5
    trained: bool = False
    merges: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class _Pair:
    left: str
    right: str
    probability: float
    fields: dict[str, dict[str, Any]]  # feature -> level label and both values


def link_store(
    store: LinkageStore,
    auto_threshold: float | None = None,
    review_threshold: float | None = None,
    retrain: bool = False,
    now: datetime | None = None,
    progress: Callable[[int], None] | None = None,
    engine: LinkageEngine | None = None,
) -> StoreLinkageReport:
    """Link new and changed profiles against the store; merge sure pairs, queue likely ones (idempotent). The
    model trains and scores on ``engine`` (DuckDB when none is given); a model saved by one engine runs on another.

    ``progress`` is advanced STORE_STEPS times: profiles read, model ready, pairs scored, proposals written."""
    tick = progress or (lambda _: None)
    started = time.perf_counter()
    now = now or datetime.now(UTC)
    auto = AUTO_MERGE if auto_threshold is None else _probability(auto_threshold, "--threshold")
    attributes = profile_attributes(store.profile_traits(), store.profile_identifiers())
    usable = {cid: a for cid, a in attributes.items() if linkable(a)}
    prints = {cid: fingerprint(a) for cid, a in usable.items()}
    seen = store.linked_fingerprints()
    new = {cid for cid, fp in prints.items() if seen.get(cid) != fp}
    report = StoreLinkageReport(len(attributes), len(usable), len(new), auto_threshold=auto)
    tick(1)
    if not new:
        tick(STORE_STEPS - 1)
        report.seconds = round(time.perf_counter() - started, 2)
        return report
    if len(usable) < MIN_PROFILES:
        raise InvalidInput(
            f"Only {len(usable)} stored profile(s) carry a full name and a birth date or street; linkage needs at "
            f"least {MIN_PROFILES} to learn from. Ingest more identify calls with these traits first."
        )
    frame = pd.DataFrame([{"unique_id": cid, **{c: a.get(c, "") for c in COLUMNS}} for cid, a in usable.items()])
    model_doc, report.trained = _model(store, frame, retrain, now, engine)
    tick(1)
    pairs = _score(frame, model_doc, new, engine)
    tick(1)
    report.pairs_scored = len(pairs)
    chosen = choose_threshold(pd.Series([p.probability for p in pairs], dtype=float).to_numpy(), floor=_FLOOR)
    review = review_threshold if review_threshold is not None else min(max(chosen.threshold, MIN_REVIEW), MAX_REVIEW)
    report.review_threshold = min(_probability(review, "--review-threshold"), auto)
    with store.transaction() as tx:
        _propose(tx, store.settings.kind_limits, pairs, report, now)
        tx.mark_linked({cid: prints[cid] for cid in new}, now)
    tick(1)
    for merge in report.merges:
        notify_merged(merge["survivor_id"], merge["merged_id"])
    report.seconds = round(time.perf_counter() - started, 2)
    return report


def _probability(value: float, option: str) -> float:
    if not 0.0 < value <= 1.0:
        raise InvalidInput(f"{option} {value} must be a probability in (0, 1]; 1 queues every proposal for review.")
    return value


def _model(
    store: LinkageStore, frame: pd.DataFrame, retrain: bool, now: datetime, engine: LinkageEngine | None
) -> tuple[dict[str, Any], bool]:
    """The saved model, or one trained now on every linkable profile (and saved)."""
    saved = None if retrain else store.load_model()
    if saved is not None and len(frame) <= 2 * int(saved["profiles"]):
        return saved, False
    features = feature_names(recognise_roles(frame, exclude=("unique_id",)))
    prepared = prepare_records(frame, features, "unique_id", "store")
    model = LinkageModel([prepared], list(features), engine=engine)
    model.fit()
    doc = {
        "settings": json.loads(model.model_json()),
        "features": {name: [cr.column, cr.role, cr.by] for name, cr in features.items()},
        "profiles": len(frame),
        "trained_at": now.isoformat(),
    }
    store.save_model(doc)
    return doc, True


def _score(frame: pd.DataFrame, model_doc: dict[str, Any], new: set[str], engine: LinkageEngine | None) -> list[_Pair]:
    """Pairs with at least one new profile, from the saved model with its blocking rules restricted to them."""
    features = {name: ColumnRole(column, role, by) for name, (column, role, by) in model_doc["features"].items()}
    prepared = prepare_records(frame, features, "unique_id", "store")
    prepared["is_new"] = prepared["unique_id"].isin(new).astype(int)
    settings = dict(model_doc["settings"])
    settings["blocking_rules_to_generate_predictions"] = [
        {
            "blocking_rule": BlockingRule(tuple(keys), 0).sql() + " and (l.is_new = 1 or r.is_new = 1)",
            "sql_dialect": "duckdb",
        }
        for keys in settings.get("rapport_rule_keys", [])
    ]
    model = LinkageModel([prepared], list(features), settings=settings, engine=engine)
    predictions = model.predict(_FLOOR).as_pandas_dataframe()
    labels = level_labels(settings)
    out: list[_Pair] = []
    for row in predictions.to_dict("records"):
        fields = {
            f: {
                "level": labels[f].get(int(row[f"gamma_{f}"]), ""),
                "left": _value(row.get(f"{f}_l")),
                "right": _value(row.get(f"{f}_r")),
            }
            for f in features
        }
        out.append(_Pair(str(row["unique_id_l"]), str(row["unique_id_r"]), float(row["match_probability"]), fields))
    return sorted(out, key=lambda p: -p.probability)


def _value(value: Any) -> str | None:
    """A compared value as stored evidence: text, or None when missing (never NaN, which JSON cannot hold)."""
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


def _propose(
    tx: LinkageTransaction, limits: dict[str, int], pairs: list[_Pair], report: StoreLinkageReport, now: datetime
) -> None:
    ids = {i for p in pairs for i in (p.left, p.right)}
    refused, reviewed = tx.refused_pairs(), tx.reviewed_pairs()
    ids |= {i for pair in [*refused, *reviewed] for i in pair}
    canon = tx.canonical_of(ids)

    def current(customer_id: str) -> str:
        seen = customer_id
        while canon.get(seen, seen) != seen:
            seen = canon[seen]
        return seen

    no_again = {frozenset(map(current, pair)) for pair in refused}
    queued = {frozenset(map(current, pair)) for pair in reviewed}
    for pair in pairs:
        if pair.probability < report.review_threshold:
            break
        a, b = current(pair.left), current(pair.right)
        key = frozenset((a, b))
        if a == b or key in queued:
            continue
        if key in no_again:
            report.skipped_rejected += 1
            continue
        conflict = _breaks_kind_limit(tx, limits, a, b)
        if pair.probability >= report.auto_threshold and report.auto_threshold < 1.0 and conflict is None:
            survivor, merged = min(a, b), max(a, b)
            evidence = _evidence(pair, survivor)
            merge_id = tx.record_merge(MergeRecord(survivor, merged, "applied", "linkage", evidence, now))
            canon[merged] = survivor
            report.merged += 1
            report.merges.append({"merge_id": merge_id, "survivor_id": survivor, "merged_id": merged,
                                  "match_probability": round(pair.probability, 6)})  # fmt: skip
        else:
            tx.add_review(_review(pair, a, b, conflict, now))
            queued.add(key)
            report.queued += 1


def _breaks_kind_limit(tx: LinkageTransaction, limits: dict[str, int], a: str, b: str) -> str | None:
    """Why merging a and b would give one customer too many values of a kind (two accounts), or None."""
    found = tx.unique_identifiers([a, b], tuple(limits))
    joined = found.get(a, set()) | found.get(b, set())
    for kind, limit in limits.items():
        count = sum(1 for identifier in joined if identifier.kind == kind)
        if count > limit:
            return f"merging would give one customer {count} {kind} values (the limit is {limit})"
    return None


def _evidence(pair: _Pair, survivor: str) -> dict[str, Any]:
    left_is_survivor = pair.left == survivor
    return {
        "match_probability": round(pair.probability, 6),
        "method": "Fellegi-Sunter (Splink), trained by EM without labels",
        "fields": {
            f: {
                "level": v["level"],
                "survivor_value": v["left"] if left_is_survivor else v["right"],
                "merged_value": v["right"] if left_is_survivor else v["left"],
            }
            for f, v in pair.fields.items()
        },
    }


def _review(pair: _Pair, a: str, b: str, note: str | None, now: datetime) -> Review:
    left, right = (a, b) if a == pair.left else (b, a)
    return Review(
        id=0,
        customer_id=left,
        other_id=right,
        match_probability=pair.probability,
        fields={f: v["level"] for f, v in pair.fields.items()},
        status="pending",
        created_at=now,
        note=note,
        attributes={
            left: {f: v["left"] for f, v in pair.fields.items() if v["left"] is not None},
            right: {f: v["right"] for f, v in pair.fields.items() if v["right"] is not None},
        },
    )


def list_reviews(store: LinkageStore, status: str | None = "pending", limit: int = 100) -> list[Review]:
    """Reviews (pending by default), most likely first."""
    if status is not None and status not in ("pending", "confirmed", "rejected"):
        raise InvalidInput(f"status {status!r} is not one of pending, confirmed, rejected.")
    return store.reviews(status, limit)


def decide_review(
    store: LinkageStore, review_id: int, decision: str, note: str | None = None, now: datetime | None = None
) -> Review:
    """Confirm (merge the two profiles) or reject (never propose them again) a review; repeating it is a no-op."""
    if decision not in ("confirm", "reject"):
        raise InvalidInput(f"decision {decision!r} must be 'confirm' or 'reject'.")
    now = now or datetime.now(UTC)
    target = "confirmed" if decision == "confirm" else "rejected"
    merged: tuple[str, str] | None = None
    with store.transaction() as tx:
        review = tx.review(review_id)
        if review.status == target:
            return review
        if review.status != "pending":
            raise Conflict(f"Review {review_id} was already {review.status}; it cannot be {target} now.")
        merge_id = None
        if target == "confirmed":
            canon = tx.canonical_of([review.customer_id, review.other_id])
            if len(canon) < 2:
                raise NotFound(f"A profile of review {review_id} no longer exists (erased); reject it instead.")
            a, b = canon[review.customer_id], canon[review.other_id]
            if a != b:
                evidence = {"review_id": review_id, "match_probability": review.match_probability,
                            "fields": review.fields, "decided_by": "review", "note": note}  # fmt: skip
                merge_id = tx.record_merge(MergeRecord(min(a, b), max(a, b), "applied", "linkage", evidence, now))
                merged = (min(a, b), max(a, b))
        tx.decide_review(review_id, target, now, merge_id, note)
        decided = tx.review(review_id)
    if merged is not None:
        notify_merged(*merged)
    return decided
