"""The strategy services the CLI, the dashboard and the demo share: check the strategy, compute the matrix."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from rapport.errors import InvalidInput
from rapport.respond.fulfilment.routing import Fulfiller
from rapport.strategy.check import Capabilities, check_strategy
from rapport.strategy.loading import Finding, LoadedStrategy, StrategyInvalid, load_strategy, suggest
from rapport.strategy.matrix import Matrix, MatrixSource, compute_matrix


class StrategySource(MatrixSource, Protocol):
    def active_mandate_scopes(self) -> dict[tuple[str, str], int]: ...

    def consenting_customers(self, purpose: str) -> int: ...


@dataclass(frozen=True)
class StrategySetup:
    """Where the strategy file is and how the firm is set up to respond (routes, network, control levels)."""

    file: str
    fulfiller: Fulfiller
    default_control_levels: Mapping[str, str]

    @classmethod
    def from_settings(cls, settings: Any, file: str | None = None) -> StrategySetup:
        return cls(file or settings.strategy_file, Fulfiller.from_settings(settings),
                   dict(settings.default_control_levels))  # fmt: skip

    def load(self) -> LoadedStrategy:
        return load_strategy(self.file)

    def load_if_valid(self) -> tuple[LoadedStrategy | None, list[Finding]]:
        """The strategy, or None with the findings that make it unusable (a missing file is no strategy yet)."""
        if not Path(self.file).exists():
            return None, [Finding("warning", "no strategy file: the matrix shows what Rapport serves", self.file)]
        try:
            return self.load(), []
        except StrategyInvalid as exc:
            return None, exc.findings


def capabilities(setup: StrategySetup, source: StrategySource, now: datetime) -> Capabilities:
    served = compute_matrix(source, None, setup.fulfiller.architecture_for, now)
    return Capabilities(
        fulfiller=setup.fulfiller,
        default_control_levels=setup.default_control_levels,
        sku_categories=source.sku_categories(),
        mandate_scopes=source.active_mandate_scopes(),
        automatic_consents=source.consenting_customers("automatic_execution"),
        served=frozenset(key for key, figures in served.cells.items() if figures.active),
    )


def check(setup: StrategySetup, source: StrategySource, now: datetime) -> list[Finding]:
    """Every mistake of the strategy file (parsing first; then against what Rapport is set up to do)."""
    loaded = setup.load()  # StrategyInvalid carries the parsing findings
    return check_strategy(loaded, capabilities(setup, source, now))


def matrix(
    setup: StrategySetup,
    source: MatrixSource,
    now: datetime,
    since: datetime | None = None,
    until: datetime | None = None,
    segment: str | None = None,
) -> tuple[Matrix, LoadedStrategy | None]:
    """The live matrix, with the strategy's claims and rivals when a valid strategy file is there."""
    loaded, _ = setup.load_if_valid()
    strategy = loaded.strategy if loaded else None
    if segment is not None and strategy is not None and segment not in strategy.segments:
        raise InvalidInput(f"Segment {segment!r} is not in {setup.file}; {suggest(segment, strategy.segments)}.")
    return compute_matrix(source, strategy, setup.fulfiller.architecture_for, now, since, until, segment), loaded
