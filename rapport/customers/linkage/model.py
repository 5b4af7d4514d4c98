"""The Fellegi-Sunter model, on Splink (over DuckDB, or Spark): trained without labels, then used to score pairs.

Training follows Splink's recommended order: u probabilities (how often two different people agree by chance) from
a random sample of pairs, then m probabilities (how often the same person's two records agree) by expectation
maximisation over blocked pairs, one session per blocking rule until every comparison has been estimated from pairs
not blocked on it. The prior (the share of pairs that match) comes from the EM sessions, not from labels. The
engine (ports.LinkageEngine) runs the SQL; the model is the same on each.
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Callable
from functools import partial
from typing import Any

import pandas as pd
from splink import Linker, SettingsCreator
from splink.internals.exceptions import SplinkException

from rapport.customers.linkage.blocking import BlockingRule, choose_blocking_rules
from rapport.customers.linkage.comparisons import comparisons_for
from rapport.customers.linkage.ports import LinkageEngine
from rapport.errors import InvalidInput

Progress = Callable[[str], None]


def _quiet() -> None:
    for name in ("splink", "splink.internals"):
        logging.getLogger(name).setLevel(logging.ERROR)


class LinkageModel:
    """Splink's Linker over the prepared frames (one to deduplicate, several to link), on ``engine`` (DuckDB when
    none is given). ``settings`` is a saved model (``model_json``), possibly trained on another engine."""

    def __init__(
        self,
        frames: list[pd.DataFrame],
        features: list[str],
        settings: dict[str, Any] | None = None,
        engine: LinkageEngine | None = None,
    ):
        _quiet()
        self.features = features
        self.link_only = len(frames) > 1
        self.engine = engine or _default_engine()
        self.db_api = self.engine.database_api()
        self.records = sum(len(f) for f in frames)
        # Splink names each input's source itself (s0, s1, …); the caller maps them back to file names.
        self._tables = [
            self.db_api.register(f.drop(columns=["source_dataset"]), dataset_display_name=f"s{i}")
            for i, f in enumerate(frames)
        ]
        if settings is None:
            everyone = self.engine.add_table(self.db_api, pd.concat(frames, ignore_index=True))
            query = partial(self.engine.fetch, self.db_api)
            self.rules = choose_blocking_rules(query, everyone, features, self.records, self.link_only)
            settings = self._settings(self.rules)
        else:
            self.rules = [BlockingRule(tuple(k), 0) for k in settings.get("rapport_rule_keys", [])]
            settings = self._in_engine_dialect(settings)
        self.settings = settings
        self.skipped_sessions: list[str] = []
        self.linker = Linker(self._tables, _without_extras(settings), log_level=None)

    def _settings(self, rules: list[BlockingRule]) -> dict[str, Any]:
        creator = SettingsCreator(
            link_type="link_only" if self.link_only else "dedupe_only",
            comparisons=comparisons_for(self.features),
            blocking_rules_to_generate_predictions=[rule.rule() for rule in rules],
            retain_intermediate_calculation_columns=False,
            retain_matching_columns=True,
            max_iterations=20,
        )
        settings = creator.get_settings(self.engine.sql_dialect).as_dict()
        settings["rapport_rule_keys"] = [list(rule.keys) for rule in rules]
        return settings

    def _in_engine_dialect(self, saved: dict[str, Any]) -> dict[str, Any]:
        """A saved model for this engine: comparisons written anew in its SQL, the trained parameters kept.

        The comparisons' SQL is the engine's own (DuckDB's ``jaro_winkler_similarity`` is Spark's
        ``jaro_winkler``), so a model trained on one engine is rebuilt from the same features for another and its
        m and u probabilities and prior copied level by level; blocking rules carry their dialect and translate."""
        if saved.get("sql_dialect") == self.engine.sql_dialect:
            return saved
        fresh = self._settings(self.rules)
        trained = {c["output_column_name"]: c["comparison_levels"] for c in saved.get("comparisons", [])}
        for comparison in fresh["comparisons"]:
            levels = trained.get(comparison["output_column_name"], [])
            if len(levels) != len(comparison["comparison_levels"]):
                raise InvalidInput(
                    f"The saved linkage model compares {comparison['output_column_name']!r} differently from this "
                    "version of Rapport; train it again (rapport link --store --retrain)."
                )
            for level, old in zip(comparison["comparison_levels"], levels, strict=True):
                level.update({k: old[k] for k in ("m_probability", "u_probability") if k in old})
        fresh["probability_two_random_records_match"] = saved["probability_two_random_records_match"]
        fresh["blocking_rules_to_generate_predictions"] = saved["blocking_rules_to_generate_predictions"]
        return fresh

    def fit(self, progress: Progress | None = None, seed: int = 42, tick: Callable[[int], None] | None = None) -> None:
        """Estimate u by random sampling, then m and the prior by EM on the blocking rules' pairs."""
        say = progress or (lambda _: None)
        advance = tick or (lambda _: None)
        say("sampling non-matches (u)")
        self.linker.training.estimate_u_using_random_sampling(
            max_pairs=min(5e6, max(2e5, self.records * 20)), seed=seed, num_chunks=self.engine.u_sample_chunks
        )
        advance(1)
        estimated: set[str] = set()
        for rule in self.rules:
            left = set(self.features) - estimated - _blocked_features(rule)
            if not left and estimated:
                continue
            say(f"EM on pairs blocked by {' + '.join(rule.keys)}")
            before = copy.deepcopy(self.linker._settings_obj.core_model_settings)
            try:
                self.linker.training.estimate_parameters_using_expectation_maximisation(rule.rule(), max_pairs=2e6)
            except (ValueError, SplinkException) as exc:
                # Too few pairs, or a level no match ever reaches (m underflows): this session teaches nothing;
                # the next rule's pairs may. Levels never estimated keep Splink's default m.
                self.skipped_sessions.append(f"{' + '.join(rule.keys)}: {exc}")
                self.linker._settings_obj.core_model_settings = before  # a failed session leaves it half-updated
                continue
            estimated |= set(self.features) - _blocked_features(rule)
            if estimated >= set(self.features):
                break
        self._set_prior()
        advance(1)

    def _set_prior(self) -> None:
        """The share of all pairs that match, from the EM sessions whose own share is informative.

        A session blocked on a near-unique identifier (a phone) sees almost only matches: its share is 1, whose
        Bayes factor is infinite, so it says nothing about the whole population and is left out. With no
        informative session the prior comes from the first blocking rule's pairs, assumed to find 80% of matches.
        """
        sessions = self.linker._em_training_sessions
        useful = [s for s in sessions if 0 < s.core_model_settings.probability_two_random_records_match < 0.99]
        if useful:
            self.linker._em_training_sessions = useful
            try:
                self.linker._populate_probability_two_random_records_match_from_trained_values()
            finally:
                self.linker._em_training_sessions = sessions
        prior = self.linker._settings_obj._probability_two_random_records_match
        if not useful or not 0 < prior < 1:
            self.linker.training.estimate_probability_two_random_records_match([self.rules[0].rule()], recall=0.8)

    def predict(self, threshold: float = 0.01) -> Any:
        """Scored pairs above ``threshold`` (a Splink frame: unique_id_l/r, match_probability, gamma_* …)."""
        return self.linker.inference.predict(threshold_match_probability=threshold)

    def cluster(self, predictions: Any, threshold: float) -> pd.DataFrame:
        """Connected components of the pairs at or above ``threshold``: every record with its cluster_id."""
        clusters = self.linker.clustering.cluster_pairwise_predictions_at_threshold(
            predictions, threshold_match_probability=threshold
        )
        frame = clusters.as_pandas_dataframe()
        if "source_dataset" not in frame.columns:
            frame["source_dataset"] = "s0"
        return frame[["source_dataset", "unique_id", "cluster_id"]]

    def model_json(self) -> str:
        settings = self.linker.misc.save_model_to_json()
        settings["rapport_rule_keys"] = [list(rule.keys) for rule in self.rules]
        return json.dumps(settings)


def _default_engine() -> LinkageEngine:
    from rapport.engines import linkage_engine

    return linkage_engine("duckdb")


def _blocked_features(rule: BlockingRule) -> set[str]:
    from rapport.customers.linkage.prepare import PHONETIC_SUFFIX

    return {k.removesuffix(PHONETIC_SUFFIX) for k in rule.keys}


def _without_extras(settings: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in settings.items() if not k.startswith("rapport_")}


def level_labels(settings: dict[str, Any]) -> dict[str, dict[int, str]]:
    """Per comparison, the label of each comparison vector value (-1 for null, then highest first)."""
    out: dict[str, dict[int, str]] = {}
    for comparison in settings.get("comparisons", []):
        levels = comparison["comparison_levels"]
        values = [lv for lv in levels if not lv.get("is_null_level")]
        labels = {-1: "missing"}
        for i, level in enumerate(values):
            labels[len(values) - 1 - i] = str(level.get("label_for_charts", ""))
        out[comparison["output_column_name"]] = labels
    return out
