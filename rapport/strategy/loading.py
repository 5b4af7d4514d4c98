"""Reading ``strategy.yaml``: every mistake reported with the file, the line and, for a misspelt name, the nearest
valid one (difflib). PyYAML's node marks give the lines; Pydantic's error locations say which node."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from rapport.errors import InvalidInput
from rapport.strategy.model import ARCHITECTURES, EXPERIENCES, FACTS, OPERATORS, Strategy

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class Finding:
    """One thing wrong (error) or worth a look (warning) in a strategy, where it is and what to do."""

    level: str  # error | warning
    message: str
    file: str = ""
    line: int | None = None
    suggestion: str = ""

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file

    def __str__(self) -> str:
        hint = f" ({self.suggestion})" if self.suggestion else ""
        return f"{self.where}: {self.level}: {self.message}{hint}"

    def to_dict(self) -> dict[str, Any]:
        return {"level": self.level, "file": self.file, "line": self.line, "message": self.message,
                "suggestion": self.suggestion}  # fmt: skip


class StrategyInvalid(InvalidInput):
    """The strategy file cannot be used as written; ``findings`` lists every mistake with its line."""

    def __init__(self, findings: list[Finding]):
        self.findings = findings
        super().__init__("; ".join(str(f) for f in findings))


@dataclass(frozen=True)
class LoadedStrategy:
    """A valid strategy with the line of every node, so later checks can point at the file too."""

    strategy: Strategy
    file: str
    lines: dict[Path_, int]

    def line(self, *path: str | int) -> int | None:
        return nearest_line(self.lines, path)

    def finding(self, level: str, message: str, path: Path_, suggestion: str = "") -> Finding:
        return Finding(level, message, self.file, self.line(*path), suggestion)


def suggest(value: Any, choices: Iterable[str]) -> str:
    """'did you mean …?' for a misspelt name, or the valid names when nothing is close."""
    options = sorted(set(choices))
    text = str(value)
    close = difflib.get_close_matches(text, options, n=1, cutoff=0.6)
    close = close or [o for o in options if len(text) >= 4 and (o.startswith(text[:5]) or text in o)][:1]
    if close:
        return f"did you mean {close[0]!r}?"
    return f"use one of {', '.join(options)}" if options else ""


def load_strategy(path: str | Path) -> LoadedStrategy:
    """Parse and validate a strategy file; StrategyInvalid lists every mistake (file, line, suggestion)."""
    file = Path(path)
    try:
        text = file.read_text()
    except FileNotFoundError:
        raise InvalidInput(f"Strategy file {file} does not exist; pass --file or write one (see the demo's).") from None
    return parse_strategy(text, str(file))


def parse_strategy(text: str, file: str = "strategy.yaml") -> LoadedStrategy:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise StrategyInvalid(
            [Finding("error", f"not valid YAML: {getattr(exc, 'problem', exc)}", file, line)]
        ) from None
    if not isinstance(data, dict):
        raise StrategyInvalid([Finding("error", "the file must hold a mapping (segments, offerings, cells)", file, 1)])
    lines: dict[Path_, int] = {}
    _index(node, (), lines)
    try:
        strategy = Strategy.model_validate(data)
    except ValidationError as exc:
        raise StrategyInvalid(sorted((_finding(err, data, file, lines) for err in exc.errors()),
                                     key=lambda f: f.line or 0)) from None  # fmt: skip
    loaded = LoadedStrategy(strategy, file, lines)
    problems = _references(loaded)
    if problems:
        raise StrategyInvalid(problems)
    return loaded


def _references(loaded: LoadedStrategy) -> list[Finding]:
    """Cells must name offerings and segments the file defines."""
    s = loaded.strategy
    found = []
    for i, cell in enumerate(s.cells):
        if cell.offering not in s.offerings:
            found.append(loaded.finding("error", f"cell names unknown offering {cell.offering!r}",
                                        ("cells", i, "offering"), suggest(cell.offering, s.offerings)))  # fmt: skip
        if cell.segment not in s.segments:
            found.append(loaded.finding("error", f"cell names unknown segment {cell.segment!r}",
                                        ("cells", i, "segment"), suggest(cell.segment, s.segments)))  # fmt: skip
    return found


def _index(node: yaml.Node, path: Path_, lines: dict[Path_, int]) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            name = key.value
            lines[(*path, f"{name}:key")] = key.start_mark.line + 1
            _index(value, (*path, name), lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index(item, (*path, i), lines)


def nearest_line(lines: dict[Path_, int], path: Path_) -> int | None:
    for end in range(len(path), -1, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return None


_FIELD_CHOICES: dict[str, tuple[str, ...]] = {
    "": ("firm", "segments", "offerings", "cells", "rivals"),
    "segments": ("description", "rules"),
    "rules": ("trait", "fact", *OPERATORS),
    "offerings": ("description", "categories", "skus"),
    "cells": ("offering", "segment", "experiences", "architecture"),
    "rivals": ("description", "cells", "experience", "architecture"),
}


def _finding(err: Any, data: Any, file: str, lines: dict[Path_, int]) -> Finding:
    loc: Path_ = tuple("in" if part == "in_" else part for part in err["loc"])
    kind, value = err["type"], err.get("input")
    where = ".".join(str(p) for p in loc) or "the file"
    if kind == "extra_forbidden":
        parent = next((str(p) for p in reversed(loc[:-1]) if isinstance(p, str) and p in _FIELD_CHOICES), "")
        if loc[:1] == ("rivals",) and "cells" in loc:
            parent = "rivals"
        line = nearest_line(lines, (*loc[:-1], f"{loc[-1]}:key"))
        return Finding("error", f"unknown field {loc[-1]!r} at {where}", file, line,
                       suggest(loc[-1], _FIELD_CHOICES.get(parent, ())))  # fmt: skip
    line = nearest_line(lines, loc)
    if kind == "literal_error":
        choices = ARCHITECTURES if loc and loc[-1] == "architecture" else EXPERIENCES
        return Finding("error", f"{value!r} at {where} is not one of {', '.join(choices)}", file, line,
                       suggest(value, choices))  # fmt: skip
    message = err["msg"].removeprefix("Value error, ")
    hint = suggest(message.split("'")[1], FACTS) if "unknown fact" in message else ""
    return Finding("error", f"{where}: {message}", file, line, hint)
