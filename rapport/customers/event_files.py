"""Reading tracking-spec events from files: JSONL (one event a line), CSV and Parquet (one event a row).

In CSV and Parquet, dotted column names nest (``traits.email`` -> ``{"traits": {"email": …}}``) and the columns
``traits``, ``properties``, ``context`` and ``integrations`` may hold JSON objects. Empty cells are left out.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rapport.errors import InvalidInput

FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv", ".parquet": "parquet"}
_JSON_COLUMNS = ("traits", "properties", "context", "integrations")
_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def file_format(path: Path) -> str:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InvalidInput(f"{path.name}: unknown file type {path.suffix!r}; use .jsonl, .csv or .parquet.")
    if not path.exists():
        raise InvalidInput(f"{path} does not exist.")
    return fmt


def count_rows(path: Path) -> int:
    """Rows in the file, for a progress bar (a quick pass; Parquet reads its footer only)."""
    fmt = file_format(path)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(path).metadata.num_rows)
    with path.open("rb") as handle:
        lines = sum(1 for line in handle if line.strip())
    return max(lines - 1, 0) if fmt == "csv" else lines


def read_events(path: Path) -> Iterator[Any]:
    """Yield one message per row; rows that cannot be read come as strings describing the problem."""
    fmt = file_format(path)
    if fmt == "jsonl":
        yield from _jsonl(path)
    elif fmt == "csv":
        yield from _csv(path)
    else:
        yield from _parquet(path)


def _jsonl(path: Path) -> Iterator[Any]:
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError as exc:
                yield f"line {number}: not JSON ({exc.msg})"


def _csv(path: Path) -> Iterator[Any]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames:
            raise InvalidInput(f"{path.name} is empty: a CSV of events needs a header row (type, messageId, …).")
        for row in reader:
            yield _nest(row)


def _parquet(path: Path) -> Iterator[Any]:
    import pyarrow.parquet as pq

    for batch in pq.ParquetFile(path).iter_batches(batch_size=10_000):
        for row in batch.to_pylist():
            yield _nest(row)


def _nest(row: dict[str, Any]) -> Any:
    message: dict[str, Any] = {}
    for column, value in row.items():
        if value is None or value == "" or column is None:
            continue
        if column in _JSON_COLUMNS and isinstance(value, str):
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                return f"column {column}: not a JSON object ({value[:40]!r})"
        node = message
        *parents, leaf = column.split(".")
        if parents and isinstance(value, str) and _NUMBER.fullmatch(value):
            value = float(value) if "." in value else int(value)  # CSV loses types; nested numbers come back
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                return f"column {column}: {part} is both a value and an object"
        node[leaf] = value
    return message
