"""Reading people files and label files, with errors that say what is wrong and what to do."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from rapport.errors import InvalidInput

_SNIFF_BYTES = 64 * 1024
# How R, pandas, SQL dumps and spreadsheets write a missing value; read as missing in every column but the id.
MISSING_MARKERS = ("NA", "N/A", "n/a", "#N/A", "NaN", "nan", "NULL", "null", "None")


@dataclass(frozen=True)
class PeopleFile:
    """One input file: its source name (the file's stem, made unique), and its rows as text."""

    source: str
    path: Path
    frame: pd.DataFrame


def _delimiter(path: Path, head: bytes) -> str:
    if b"\x00" in head:
        raise InvalidInput(f"{path.name} is not a CSV file (it holds binary data); export the table as CSV.")
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = head.decode("cp1252")
        except UnicodeDecodeError:
            raise InvalidInput(f"{path.name} is not a text CSV file; save it as UTF-8 CSV.") from None
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        raise InvalidInput(f"{path.name} looks like JSON, not CSV; export it as CSV with a header row.")
    if stripped.startswith("<"):
        raise InvalidInput(f"{path.name} looks like HTML or XML, not CSV; export it as CSV with a header row.")
    first_line = stripped.splitlines()[0] if stripped else ""
    try:
        return csv.Sniffer().sniff(first_line, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def read_people_file(path: Path, id_column: str) -> pd.DataFrame:
    """Every row of a CSV file as text (stripped, "" when missing), checked for a usable id column."""
    if not path.exists() or not path.is_file():
        raise InvalidInput(f"{path} does not exist; give the path of a CSV file with a header row.")
    with path.open("rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    if not head.strip():
        raise InvalidInput(f"{path.name} is empty; it needs a header row and one row per person record.")
    delimiter = _delimiter(path, head)
    try:
        frame = pd.read_csv(
            path, sep=delimiter, dtype=str, keep_default_na=False, skipinitialspace=True, encoding_errors="replace"
        )
    except (pd.errors.ParserError, ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{path.name} cannot be read as CSV ({exc}); check its quoting and delimiters.") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    if id_column not in frame.columns:
        shown = ", ".join(frame.columns[:20])
        raise InvalidInput(f"{path.name} has no column {id_column!r}; its columns are: {shown}. Pass --id-column.")
    if frame.empty:
        raise InvalidInput(f"{path.name} has a header but no rows; it needs one row per person record.")
    frame = frame.apply(lambda col: col.str.strip())
    attributes = [c for c in frame.columns if c != id_column]
    frame[attributes] = frame[attributes].replace(list(MISSING_MARKERS), "")
    ids = frame[id_column]
    if (ids == "").any():
        rows = [int(i) + 2 for i in ids.index[ids == ""][:5]]
        raise InvalidInput(f"{path.name}: {int((ids == '').sum())} row(s) have no {id_column} (lines {rows}).")
    duplicated = ids[ids.duplicated()].unique()
    if len(duplicated):
        shown = ", ".join(repr(v) for v in duplicated[:5])
        raise InvalidInput(
            f"{path.name}: {len(duplicated)} {id_column} value(s) occur more than once ({shown}); "
            "each record needs its own id."
        )
    return frame


def read_people_files(paths: list[Path], id_column: str) -> list[PeopleFile]:
    """The input files, each with a unique source name (its file name without extension)."""
    if not paths:
        raise InvalidInput("Give at least one --input file.")
    out: list[PeopleFile] = []
    taken: set[str] = set()
    for path in paths:
        source, n = path.stem, 1
        while source in taken:
            n += 1
            source = f"{path.stem}_{n}"
        taken.add(source)
        out.append(PeopleFile(source, path, read_people_file(path, id_column)))
    return out


Record = tuple[str, str]  # (source, record id)


def read_labels(path: Path, files: list[PeopleFile], id_column: str) -> list[set[Record]]:
    """Known matches as groups of records: pairs (two id columns, optionally with sources) or an entity column.

    Accepted layouts: ``record_id_l, record_id_r`` (any two columns; with ``source_l, source_r`` when ids repeat
    across files), or ``<id column>, <entity column>`` (plus ``source``) giving each record's true person.
    """
    frame = read_people_file_plain(path)
    where: dict[str, list[str]] = {}
    for people in files:
        for record_id in people.frame[id_column]:
            where.setdefault(record_id, []).append(people.source)
    sources = {p.source for p in files}

    def record(record_id: str, source: str | None) -> Record:
        if source:
            if source not in sources:
                raise InvalidInput(
                    f"{path.name}: source {source!r} is none of the inputs ({', '.join(sorted(sources))})."
                )
            return source, record_id
        found = where.get(record_id, [])
        if len(found) != 1:
            problem = "is in no input file" if not found else f"is in several files ({', '.join(found)})"
            raise InvalidInput(f"{path.name}: record {record_id!r} {problem}; add source columns or fix the id.")
        return found[0], record_id

    columns = list(frame.columns)
    if id_column in columns and len([c for c in columns if c not in (id_column, "source")]) == 1:
        entity = next(c for c in columns if c not in (id_column, "source"))
        groups: dict[str, set[Record]] = {}
        for data in frame.to_dict("records"):
            groups.setdefault(data[entity], set()).add(record(data[id_column], data.get("source")))
        return list(groups.values())
    ids = [c for c in columns if not c.startswith("source")]
    if len(ids) != 2:
        raise InvalidInput(
            f"{path.name}: expected two record id columns (a pair per row) or {id_column} and an entity column; "
            f"found {', '.join(columns)}."
        )
    src = [c for c in columns if c.startswith("source")]
    pairs: list[set[Record]] = []
    for data in frame.to_dict("records"):
        left = record(data[ids[0]], data[src[0]] if len(src) == 2 else None)
        right = record(data[ids[1]], data[src[1]] if len(src) == 2 else None)
        pairs.append({left, right})
    return pairs


def read_people_file_plain(path: Path) -> pd.DataFrame:
    """A small CSV (labels) as text, with the same checks on its format."""
    if not path.exists():
        raise InvalidInput(f"{path} does not exist; give the path of a CSV file of known matches.")
    head = path.read_bytes()[:_SNIFF_BYTES]
    if not head.strip():
        raise InvalidInput(f"{path.name} is empty; it needs a header row and one row per known match.")
    frame = pd.read_csv(io.BytesIO(path.read_bytes()), sep=_delimiter(path, head), dtype=str, keep_default_na=False,
                        skipinitialspace=True)  # fmt: skip
    frame.columns = [str(c).strip() for c in frame.columns]
    if frame.empty:
        raise InvalidInput(f"{path.name} has a header but no rows of known matches.")
    return frame.apply(lambda col: col.str.strip())
