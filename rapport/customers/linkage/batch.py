"""Batch linkage of a firm's own files: deduplicate one, or link several, without labels.

The one entry point the CLI, the bench and the tests share: read → recognise column roles → clean → block → train
(u by sampling, m by EM) → score pairs → choose the threshold from the model's probabilities → cluster.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from rapport.customers.linkage.blocking import BlockingRule
from rapport.customers.linkage.files import PeopleFile, read_people_files
from rapport.customers.linkage.mapping import ColumnMapping, check_columns, mapping_for
from rapport.customers.linkage.model import LinkageModel
from rapport.customers.linkage.ports import LinkageEngine
from rapport.customers.linkage.prepare import prepare_records
from rapport.customers.linkage.roles import ROLES, ColumnRole, feature_names, recognise_roles
from rapport.customers.linkage.thresholds import ThresholdChoice, choose_threshold
from rapport.errors import InvalidInput

STEPS = 6  # progress ticks of one run: prepare, block, u, EM, score, cluster
SCORE_FLOOR = 0.01  # pairs below this probability are not kept at all


@dataclass
class LinkageRun:
    """What a linkage produced: each record's cluster, the scored pairs, and how it was configured."""

    clusters: pd.DataFrame  # source, record_id, cluster_id, match_probability
    pairs: pd.DataFrame  # source_l, record_id_l, source_r, record_id_r, match_probability
    threshold: float
    chosen: ThresholdChoice  # the label-free choice (reported even when --threshold overrode it)
    features: dict[str, dict[str, ColumnRole]]  # source -> feature -> the file's column
    rules: list[BlockingRule]
    model_json: str
    seconds: dict[str, float] = field(default_factory=dict)
    engine: str = "duckdb"  # where Splink ran

    @property
    def records(self) -> int:
        return len(self.clusters)

    def assignment(self) -> dict[tuple[str, str], int]:
        return {
            (s, r): int(c) for s, r, c in self.clusters[["source", "record_id", "cluster_id"]].itertuples(index=False)
        }


def common_features(
    files: list[PeopleFile], id_column: str, columns: Sequence[ColumnMapping] = ()
) -> dict[str, dict[str, ColumnRole]]:
    """Per file, the features it shares with every other file (linking compares like with like); ``columns`` are
    the user's --column mappings, taken before recognition."""
    check_columns(columns, {f.path.name: list(f.frame.columns) for f in files}, id_column)
    per_file = {
        f.source: feature_names(
            recognise_roles(f.frame, exclude=(id_column,), given=mapping_for(columns, list(f.frame.columns)))
        )
        for f in files
    }
    shared = [name for name in next(iter(per_file.values())) if all(name in fs for fs in per_file.values())]
    if len(shared) < 2:
        found = "; ".join(
            f"{s}: {', '.join(f'{n} ({cr.column})' for n, cr in fs.items()) or 'none'}" for s, fs in per_file.items()
        )
        raise InvalidInput(
            "Linkage needs at least two attributes of a person in every file (e.g. name and date of birth, "
            f"address, phone or e-mail); recognised {found}. Say which columns hold them with --column ROLE=COLUMN "
            "(repeatable), e.g. --column given_name=Vorname --column surname=Nachname --column birth_year=by; "
            f"roles: {', '.join(ROLES)}."
        )
    return {source: {name: fs[name] for name in shared} for source, fs in per_file.items()}


def link_files(
    paths: list[Path],
    id_column: str,
    threshold: float | None = None,
    progress: Callable[[int], None] | None = None,
    columns: Sequence[ColumnMapping] = (),
    engine: LinkageEngine | None = None,
) -> LinkageRun:
    """Deduplicate one file or link several (see link_people)."""
    return link_people(read_people_files(paths, id_column), id_column, threshold, progress, columns, engine)


def link_people(
    files: list[PeopleFile],
    id_column: str,
    threshold: float | None = None,
    progress: Callable[[int], None] | None = None,
    columns: Sequence[ColumnMapping] = (),
    engine: LinkageEngine | None = None,
) -> LinkageRun:
    """Link the files' records; ``threshold`` overrides the label-free default, ``columns`` (role, column) pairs
    say what columns hold where recognition cannot tell (``--column``); ``engine`` runs Splink (DuckDB when none
    is given)."""
    tick = progress or (lambda _: None)
    if threshold is not None and not 0.0 < threshold < 1.0:
        raise InvalidInput(f"--threshold {threshold} must be a probability strictly between 0 and 1.")
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    features = common_features(files, id_column, columns)
    frames = [prepare_records(f.frame, features[f.source], id_column, f.source) for f in files]
    model = LinkageModel(frames, list(features[files[0].source]), engine=engine)
    tick(2)
    seconds["prepare_and_block"] = time.perf_counter() - started
    model.fit(progress=lambda _: None, tick=tick)
    seconds["train"] = time.perf_counter() - started - seconds["prepare_and_block"]
    mark = time.perf_counter()
    predictions = model.predict(SCORE_FLOOR)
    pairs = predictions.as_pandas_dataframe()
    tick(1)
    chosen = choose_threshold(pairs["match_probability"].to_numpy())
    used = threshold if threshold is not None else chosen.threshold
    clusters = model.cluster(predictions, used)
    tick(1)
    seconds["score_and_cluster"] = time.perf_counter() - mark
    names = {f"s{i}": f.source for i, f in enumerate(files)}
    return LinkageRun(
        clusters=_records_out(clusters, pairs, used, names),
        pairs=_pairs_out(pairs, names),
        threshold=used,
        chosen=chosen,
        features=features,
        rules=model.rules,
        model_json=model.model_json(),
        seconds={k: round(v, 2) for k, v in seconds.items()},
        engine=model.engine.name,
    )


def _pairs_out(pairs: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            "source_l": pairs["source_dataset_l"].map(names) if "source_dataset_l" in pairs else names["s0"],
            "record_id_l": pairs["unique_id_l"].astype(str),
            "source_r": pairs["source_dataset_r"].map(names) if "source_dataset_r" in pairs else names["s0"],
            "record_id_r": pairs["unique_id_r"].astype(str),
            "match_probability": pairs["match_probability"].astype(float),
        }
    )
    return out.reset_index(drop=True)


def _records_out(clusters: pd.DataFrame, pairs: pd.DataFrame, threshold: float, names: dict[str, str]) -> pd.DataFrame:
    """One row per record, by source then id: clusters numbered 1… in that order; probability = its best link kept (blank alone)."""
    out = pd.DataFrame(
        {
            "source": clusters["source_dataset"].map(names),
            "record_id": clusters["unique_id"].astype(str),
            "splink_cluster": clusters["cluster_id"].astype(str),
        }
    )
    order = {s: i for i, s in enumerate(names.values())}
    out = out.sort_values(by=["source", "record_id"], key=lambda col: col.map(order) if col.name == "source" else col)
    codes = {c: i + 1 for i, c in enumerate(pd.unique(out["splink_cluster"]))}
    out["cluster_id"] = out["splink_cluster"].map(codes)
    out["match_probability"] = _best_link(out, _pairs_out(pairs, names), threshold)
    return out[["source", "record_id", "cluster_id", "match_probability"]].reset_index(drop=True)


def _best_link(records: pd.DataFrame, pairs: pd.DataFrame, threshold: float) -> pd.Series:
    kept = pairs[pairs["match_probability"] >= threshold]
    sides = pd.concat(
        [
            kept[["source_l", "record_id_l", "match_probability"]].set_axis(["source", "record_id", "p"], axis=1),
            kept[["source_r", "record_id_r", "match_probability"]].set_axis(["source", "record_id", "p"], axis=1),
        ]
    )
    best: dict[Any, float] = sides.groupby(["source", "record_id"])["p"].max().to_dict()
    keys = zip(records["source"], records["record_id"], strict=True)
    return pd.Series([round(best[k], 6) if k in best else None for k in keys], index=records.index, dtype="object")
