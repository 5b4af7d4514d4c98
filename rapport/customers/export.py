"""Data portability: everything Rapport keeps about one person, as JSON or as a ZIP of CSV files, streamed.

The export walks the store table by table and row by row (a generator over the store's rows), so a long history
never sits in memory whole: the response starts with the first rows and ends with the last. Which tables hold a
person is the store's knowledge (every table with a customer id), so a new table is exported without a change here.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any, Protocol

import orjson

CHUNK_ROWS = 500  # rows between two chunks handed to the response
_JSON = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY


class ExportSource(Protocol):
    """Where the person's rows come from (rapport.store.export.SqlExportSource implements it)."""

    def export_tables(self) -> list[str]: ...

    def export_columns(self, table: str) -> list[str]: ...

    def export_rows(self, table: str, customer_id: str) -> Iterator[dict[str, Any]]: ...


def export_json(source: ExportSource, customer_id: str, now: datetime) -> Iterator[bytes]:
    """``{"customer_id", "exported_at", "tables": {name: [rows…]}}``, in chunks of bytes."""
    head = {"customer_id": customer_id, "exported_at": now.isoformat(), "format": "rapport-export/1"}
    yield orjson.dumps(head, option=_JSON)[:-1] + b', "tables": {'
    for n, table in enumerate(source.export_tables()):
        yield (b", " if n else b"") + orjson.dumps(table) + b": ["
        buffer: list[bytes] = []
        first = True
        for row in source.export_rows(table, customer_id):
            buffer.append((b"" if first else b", ") + orjson.dumps(row, option=_JSON))
            first = False
            if len(buffer) >= CHUNK_ROWS:
                yield b"".join(buffer)
                buffer.clear()
        yield b"".join(buffer) + b"]"
    yield b"}}"


def export_zip(source: ExportSource, customer_id: str, now: datetime) -> Iterator[bytes]:
    """A ZIP archive with one CSV file per table (JSON values as JSON text), written and handed out as it grows."""
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        readme = f"Everything Rapport keeps about customer {customer_id}, exported {now.isoformat()}.\n"
        archive.writestr("README.txt", readme + "One CSV file per table; JSON values are written as JSON text.\n")
        for table in source.export_tables():
            columns = source.export_columns(table)
            with archive.open(f"{table}.csv", "w", force_zip64=True) as raw:
                text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
                writer = csv.writer(text)
                writer.writerow(columns)
                for n, row in enumerate(source.export_rows(table, customer_id), start=1):
                    writer.writerow([_cell(row.get(c)) for c in columns])
                    if n % CHUNK_ROWS == 0:
                        text.flush()
                        yield sink.take()
                text.flush()
                text.detach()
            yield sink.take()
    yield sink.take()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict | list):
        return orjson.dumps(value, option=_JSON).decode()
    return str(value)


class _Sink(io.RawIOBase):
    """A write-only, unseekable stream: zipfile then writes data descriptors and never seeks back."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: Iterable[int] | bytes) -> int:  # type: ignore[override]
        chunk = bytes(data)
        self._parts.append(chunk)
        return len(chunk)

    def take(self) -> bytes:
        found = b"".join(self._parts)
        self._parts.clear()
        return found
