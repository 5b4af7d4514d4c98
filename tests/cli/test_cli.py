"""The CLI as a user runs it: ingest files of each format, keys, customer show / merges / erase."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from rapport.cli.main import app
from rapport.customers.service import resolve_customer
from rapport.store.keys import authenticate
from rapport.store.store import Store

runner = CliRunner()

EVENTS = [
    {"type": "identify", "messageId": "e1", "userId": "u-cli", "traits": {"email": "Cli@Example.com", "name": "Cli"}},
    {"type": "track", "messageId": "e2", "userId": "u-cli", "event": "Order Completed", "properties": {"total": 12}},
    {"type": "page", "messageId": "e3", "anonymousId": "anon-cli", "name": "Home"},
    {"type": "track", "messageId": "e4", "userId": "u-cli"},  # no event name: rejected
]


def invoke(store: Store, args: list[str]) -> tuple[int, str, str]:
    result = runner.invoke(app, args, env={"RAPPORT_DATABASE_URL": store.settings.database_url})
    return result.exit_code, result.stdout, result.stderr


def write_jsonl(path: Path) -> Path:
    path.write_text("\n".join(json.dumps(e) for e in EVENTS) + "\nnot json\n")
    return path


def write_csv(path: Path) -> Path:
    columns = [
        "type",
        "messageId",
        "userId",
        "anonymousId",
        "event",
        "name",
        "traits.email",
        "traits.name",
        "properties.total",
    ]
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, columns)
        writer.writeheader()
        for e in EVENTS:
            writer.writerow(
                {
                    "type": e["type"],
                    "messageId": e["messageId"],
                    "userId": e.get("userId", ""),
                    "anonymousId": e.get("anonymousId", ""),
                    "event": e.get("event", ""),
                    "name": e.get("name", ""),
                    "traits.email": e.get("traits", {}).get("email", ""),
                    "traits.name": e.get("traits", {}).get("name", ""),
                    "properties.total": e.get("properties", {}).get("total", ""),
                }
            )
    return path


def write_parquet(path: Path) -> Path:
    rows = [
        {
            "type": e["type"],
            "messageId": e["messageId"],
            "userId": e.get("userId"),
            "anonymousId": e.get("anonymousId"),
            "event": e.get("event"),
            "name": e.get("name"),
            "traits": json.dumps(e["traits"]) if "traits" in e else None,
            "properties": json.dumps(e["properties"]) if "properties" in e else None,
        }
        for e in EVENTS
    ]
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


@pytest.mark.parametrize("writer", [write_jsonl, write_csv, write_parquet], ids=["jsonl", "csv", "parquet"])
def test_ingest_each_format_then_retry(store: Store, tmp_path: Path, writer) -> None:
    path = writer(tmp_path / f"events.{writer.__name__.split('_')[1]}")
    code, out, err = invoke(store, ["ingest", str(path), "--json"])
    assert code == 0, err
    expected_rejected = 2 if path.suffix == ".jsonl" else 1
    assert json.loads(out) == {"stored": 3, "duplicates": 0, "rejected": expected_rejected}
    assert "rejected row 4: event: track needs a non-empty event name" in err
    code, out, _ = invoke(store, ["ingest", str(path), "--json"])
    assert json.loads(out) == {"stored": 0, "duplicates": 3, "rejected": expected_rejected}
    code, out, _ = invoke(store, ["customer", "show", "cli@example.com", "--json"])
    profile = json.loads(out)
    assert {"kind": "email", "value": "cli@example.com"} in profile["identifiers"]
    assert profile["traits"]["name"] == "Cli"
    assert profile["facts"]["spend"] == 12
    assert set(profile) >= {"customer_id", "identifiers", "traits", "events"}


def test_a_file_load_leaves_postgresql_planning_a_customers_events_with_their_index(
    store: Store, tmp_path: Path
) -> None:
    """Without statistics PostgreSQL answered the profile's events by scanning the whole events table."""
    path = tmp_path / "load.jsonl"
    path.write_text(
        "\n".join(
            json.dumps({"type": "track", "messageId": f"m{n}", "userId": f"u{n % 400}", "event": "Viewed"})
            for n in range(20_000)
        )
    )
    with store.engine.connect() as conn:
        began = conn.exec_driver_sql("SELECT now()").scalar() if store.dialect == "postgresql" else None
    code, out, err = invoke(store, ["ingest", str(path), "--json"])
    assert code == 0 and json.loads(out)["stored"] == 20_000, err
    if store.dialect == "sqlite":  # nothing to refresh: the profile read below is checked on both stores elsewhere
        return
    customer_id = resolve_customer(store, "u7")
    with store.engine.connect() as conn:
        analysed = conn.exec_driver_sql(
            "SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'events'"
        ).scalar()
        plan = "\n".join(
            row[0]
            for row in conn.exec_driver_sql(
                "EXPLAIN SELECT message_id FROM events WHERE customer_id IN "
                "(SELECT id FROM customers WHERE canonical_id = %(cid)s) ORDER BY timestamp, id",
                {"cid": customer_id},
            )
        )
    assert analysed is not None and analysed >= began
    assert "Seq Scan on events" not in plan and "ix_events_customer_time" in plan, plan


def test_ingest_bad_files_fail_clearly(store: Store, tmp_path: Path) -> None:
    code, _, err = invoke(store, ["ingest", str(tmp_path / "missing.jsonl")])
    assert code == 2 and "does not exist" in err
    (tmp_path / "events.xml").write_text("<x/>")
    code, _, err = invoke(store, ["ingest", str(tmp_path / "events.xml")])
    assert code == 2 and "unknown file type" in err


def test_keys_create_prints_the_key_alone_on_its_last_line_and_revoke_works(store: Store) -> None:
    code, out, _ = invoke(store, ["keys", "create", "--scope", "write", "--name", "web-collector"])
    assert code == 0
    key = out.strip().splitlines()[-1]
    assert key.startswith("rk_") and " " not in key
    assert authenticate(store.engine, key, "write").name == "web-collector"
    code, _, _ = invoke(store, ["keys", "revoke", key])
    assert code == 0
    with pytest.raises(Exception, match="unknown or revoked"):
        authenticate(store.engine, key, "write")
    code, _, err = invoke(store, ["keys", "create", "--scope", "superuser"])
    assert code == 2 and "choose from write, read, decide, admin" in err


def test_customer_merges_unmerge_and_erase(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    path.write_text(
        "\n".join(
            json.dumps(e)
            for e in [
                {"type": "page", "messageId": "p", "anonymousId": "a-z"},
                {
                    "type": "identify",
                    "messageId": "i",
                    "anonymousId": "a-z",
                    "userId": "u-z",
                    "traits": {"email": "z@z.de"},
                },
            ]
        )
    )
    invoke(store, ["ingest", str(path)])
    code, out, _ = invoke(store, ["customer", "merges", "z@z.de", "--json"])
    merges = json.loads(out)
    assert [m["status"] for m in merges] == ["applied"]
    code, out, _ = invoke(store, ["customer", "unmerge", str(merges[0]["id"])])
    assert code == 0 and "undone" in out
    code, out, _ = invoke(store, ["customer", "erase", "z@z.de", "--yes", "--json"])
    assert code == 0 and json.loads(out)["removed"]["events"] == 1
    code, _, err = invoke(store, ["customer", "show", "z@z.de"])
    assert code == 2 and "No customer" in err
