"""`rapport voice sentiment` on CSV, JSONL and Parquet; `rapport voice ingest` of a CSV file, idempotent."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from rapport.cli.main import app
from rapport.store.store import Store
from tests.decide.conftest import customer

ROWS = pd.DataFrame(
    {"id": [1, 2, 3], "body": ["Terrible support, never again.", "Perfect, thank you!", "It is a printer."]}
)


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_sentiment_adds_sentiment_and_label(tmp_path: Path, suffix: str) -> None:
    source, out = tmp_path / f"in{suffix}", tmp_path / f"out{suffix}"
    {".csv": lambda: ROWS.to_csv(source, index=False), ".parquet": lambda: ROWS.to_parquet(source),
     ".jsonl": lambda: ROWS.to_json(source, orient="records", lines=True)}[suffix]()  # fmt: skip
    done = CliRunner().invoke(
        app, ["voice", "sentiment", "--input", str(source), "--text-column", "body", "--output", str(out), "--aspects"]
    )
    assert done.exit_code == 0, done.output
    written = {".csv": pd.read_csv, ".parquet": pd.read_parquet, ".jsonl": lambda p: pd.read_json(p, lines=True)}
    scored = written[suffix](out)
    assert scored["label"].tolist() == ["negative", "positive", "neutral"]
    assert scored["sentiment"].between(-1, 1).all() and "support" in str(scored["negative_aspects"][0])
    missing = CliRunner().invoke(app, ["voice", "sentiment", "--input", str(source), "--text-column", "nope",
                                       "--output", str(out)])  # fmt: skip
    assert missing.exit_code == 2 and "no column 'nope'" in missing.output


def test_ingest_links_and_is_idempotent(store: Store, tmp_path: Path) -> None:
    cid = customer(store, "carla")  # type: ignore[arg-type]
    path = tmp_path / "voice.csv"
    path.write_text(
        "source,external_id,time,text,identifiers.email\n"
        "calls,c-1,2026-03-09T10:00:00Z,The delivery was late and the agent was rude.,carla@example.org\n"
        "calls,c-2,2026-03-09T11:00:00Z,Thanks for the quick fix!,\n"
        "calls,,2026-03-09T11:00:00Z,no id,\n"
    )
    url = store.settings.database_url
    runs = [CliRunner().invoke(app, ["voice", "ingest", str(path), "--json", "--at", "2026-03-10", "--database", url])
            for _ in range(2)]  # fmt: skip
    first, again = (json.loads(r.stdout.strip().splitlines()[-1]) for r in runs)
    assert (first["stored"], first["linked"], first["issue_needs"], len(first["rejected"])) == (2, 1, 1, 1)
    assert (again["stored"], again["duplicates"]) == (0, 2)
    assert [r["external_id"] for r in store.voice.customer_items(cid)] == ["c-1"]
