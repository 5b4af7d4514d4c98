"""Scoring a linkage against known matches: pairs (precision, recall, F1) and clusters (B-cubed, exact clusters)."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import asdict, dataclass

Record = tuple[str, str]  # (source, record id)


@dataclass(frozen=True)
class LinkageScores:
    """How a clustering compares with the truth."""

    true_pairs: int
    predicted_pairs: int
    correct_pairs: int
    precision: float
    recall: float
    f1: float
    bcubed_precision: float
    bcubed_recall: float
    bcubed_f1: float
    true_clusters: int
    predicted_clusters: int
    exact_clusters: float  # share of true clusters of 2+ records reproduced exactly

    def as_dict(self) -> dict[str, float]:
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in asdict(self).items()}


def _f1(p: float, r: float) -> float:
    return 0.0 if p + r == 0 else 2 * p * r / (p + r)


def pairs_of(clusters: Iterable[set[Record]]) -> set[frozenset[Record]]:
    """Every pair of records that share a cluster."""
    return {frozenset(pair) for members in clusters for pair in itertools.combinations(sorted(members), 2)}


def clusters_from_groups(records: Iterable[Record], groups: Iterable[set[Record]]) -> dict[Record, int]:
    """Connected components of the known groups (pairs or entities) over all records; unlabelled records alone."""
    parent: dict[Record, Record] = {r: r for r in records}

    def find(x: Record) -> Record:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for group in groups:
        members = [m for m in group if m in parent]
        for a, b in itertools.pairwise(members):
            ra, rb = find(a), find(b)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    roots: dict[Record, int] = {}
    return {r: roots.setdefault(find(r), len(roots)) for r in parent}


def _members(assignment: dict[Record, int]) -> dict[int, set[Record]]:
    out: dict[int, set[Record]] = {}
    for record, cluster in assignment.items():
        out.setdefault(cluster, set()).add(record)
    return out


def score_linkage(predicted: dict[Record, int], truth_groups: Iterable[set[Record]]) -> LinkageScores:
    """Compare predicted clusters (record -> cluster) with the known matches."""
    truth = clusters_from_groups(predicted, truth_groups)
    true_members, pred_members = _members(truth), _members(predicted)
    true_pairs, pred_pairs = pairs_of(true_members.values()), pairs_of(pred_members.values())
    correct = len(true_pairs & pred_pairs)
    precision = correct / len(pred_pairs) if pred_pairs else 1.0
    recall = correct / len(true_pairs) if true_pairs else 1.0
    b_precision = b_recall = 0.0
    for record in predicted:
        mine, theirs = pred_members[predicted[record]], true_members[truth[record]]
        overlap = len(mine & theirs)
        b_precision += overlap / len(mine)
        b_recall += overlap / len(theirs)
    n = max(len(predicted), 1)
    real = [m for m in true_members.values() if len(m) > 1]
    predicted_sets = {frozenset(m) for m in pred_members.values()}
    exact = sum(1 for m in real if frozenset(m) in predicted_sets) / len(real) if real else 1.0
    return LinkageScores(
        true_pairs=len(true_pairs),
        predicted_pairs=len(pred_pairs),
        correct_pairs=correct,
        precision=precision,
        recall=recall,
        f1=_f1(precision, recall),
        bcubed_precision=b_precision / n,
        bcubed_recall=b_recall / n,
        bcubed_f1=_f1(b_precision / n, b_recall / n),
        true_clusters=len(true_members),
        predicted_clusters=len(pred_members),
        exact_clusters=exact,
    )
