"""The connected strategy as data: segments, offerings, the cells each offering and segment occupy, and rivals.

A strategy file (YAML) is parsed into :class:`Strategy` by rapport.strategy.loading, which adds the line of every
mistake. The names of the experiences and architectures are Rapport's own (rapport.decide.decision.EXPERIENCES,
rapport.respond.fulfilment.routing.ARCHITECTURES), so a strategy can only claim what Rapport can be set up to do.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from rapport.decide.decision import EXPERIENCES, Experience

Architecture = Literal["connected_retailer", "connected_producer", "matchmaker", "crowd_organizer", "peer_to_peer"]
__all__ = ["ARCHITECTURES", "EXPERIENCES", "Architecture", "Experience", "Strategy"]
ARCHITECTURES: tuple[Architecture, ...] = (
    "connected_retailer",
    "connected_producer",
    "matchmaker",
    "crowd_organizer",
    "peer_to_peer",
)
# What a segment rule may read about a customer besides their traits (see rapport.strategy.segments).
FACTS = ("orders", "spend", "events", "channels", "categories", "days_since_last_order")
OPERATORS = ("equals", "in", "gte", "lte", "contains", "exists")
UNSEGMENTED = "unsegmented"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Rule(_Strict):
    """One condition on a trait or a fact: exactly one of ``trait``/``fact`` and exactly one operator."""

    trait: str | None = None
    fact: str | None = None
    equals: Any = None
    in_: list[Any] | None = Field(None, alias="in")
    gte: float | None = None
    lte: float | None = None
    contains: Any = None
    exists: bool | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _one_subject_one_operator(self) -> Rule:
        if (self.trait is None) == (self.fact is None):
            raise ValueError("a rule names exactly one of 'trait' or 'fact'")
        if self.fact is not None and self.fact not in FACTS:
            raise ValueError(f"unknown fact {self.fact!r}; the facts are {', '.join(FACTS)}")
        given = [op for op in OPERATORS if getattr(self, "in_" if op == "in" else op) is not None]
        if len(given) != 1:
            raise ValueError(f"a rule takes exactly one operator of {', '.join(OPERATORS)} (got {given or 'none'})")
        return self

    @property
    def subject(self) -> str:
        return f"trait {self.trait}" if self.trait is not None else f"fact {self.fact}"

    @property
    def operator(self) -> tuple[str, Any]:
        for op in OPERATORS:
            value = getattr(self, "in_" if op == "in" else op)
            if value is not None:
                return op, value
        raise AssertionError("validated: one operator")  # pragma: no cover


class Segment(_Strict):
    """Customers for whom every rule holds. Segments are tried in file order; the first that matches wins."""

    description: str = ""
    rules: list[Rule] = Field(default_factory=list)


class Offering(_Strict):
    """What the firm offers: whole categories, single skus, or both."""

    description: str = ""
    categories: list[str] = Field(default_factory=list)
    skus: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _names_something(self) -> Offering:
        if not self.categories and not self.skus:
            raise ValueError("an offering names at least one category or sku")
        return self


class Cell(_Strict):
    """For one offering and one segment: the experiences offered, through one architecture."""

    offering: str
    segment: str
    experiences: list[Experience] = Field(min_length=1)
    architecture: Architecture


class RivalCell(_Strict):
    experience: Experience
    architecture: Architecture


class Rival(_Strict):
    description: str = ""
    cells: list[RivalCell] = Field(min_length=1)


class Strategy(_Strict):
    """The whole connected strategy of one firm."""

    firm: str = ""
    segments: dict[str, Segment] = Field(min_length=1)
    offerings: dict[str, Offering] = Field(min_length=1)
    cells: list[Cell] = Field(min_length=1)
    rivals: dict[str, Rival] = Field(default_factory=dict)

    def named_cells(self, segment: str | None = None) -> set[tuple[str, str]]:
        """The (experience, architecture) pairs the strategy claims, for one segment or all."""
        return {
            (experience, cell.architecture)
            for cell in self.cells
            if segment is None or cell.segment == segment
            for experience in cell.experiences
        }

    def rival_cells(self) -> dict[tuple[str, str], list[str]]:
        """(experience, architecture) -> the rivals that occupy it."""
        found: dict[tuple[str, str], list[str]] = {}
        for name, rival in self.rivals.items():
            for cell in rival.cells:
                found.setdefault((cell.experience, cell.architecture), []).append(name)
        return found
