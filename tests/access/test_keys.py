"""`rapport keys rotate`: a successor at once, the old key until the grace period ends, then refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from rapport.cli.main import app
from rapport.errors import NotFound, Unauthorized
from rapport.store.access import authenticate_key, rotate_key
from rapport.store.keys import create_key
from rapport.store.store import Store
from tests.access.conftest import Site

runner = CliRunner()


def test_rotation_with_the_clock(store: Store) -> None:
    old, old_plain = create_key(store.engine, ["read", "decide"], "crm")
    now = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    successor, new_plain, ends = rotate_key(store.engine, old.id, timedelta(hours=24), now)
    assert ends == now + timedelta(hours=24) and successor.scopes == ("read", "decide") and successor.name == "crm"
    assert authenticate_key(store.engine, old_plain, now + timedelta(hours=23, minutes=59)).key_id == old.id
    with pytest.raises(
        Unauthorized, match=f"grace period ended at 2026-03-03 10:00 UTC; use its successor {successor.id}"
    ):
        authenticate_key(store.engine, old_plain, now + timedelta(hours=24))
    assert authenticate_key(store.engine, new_plain, now + timedelta(days=30)).key_id == successor.id
    with pytest.raises(NotFound, match="rotated already"):
        rotate_key(store.engine, old.id, timedelta(hours=1), now)
    with pytest.raises(NotFound, match="No active key"):
        rotate_key(store.engine, "nokey", timedelta(hours=1), now)


def test_keys_rotate_on_the_command_line_and_the_api_refuses_the_old_key_after_the_grace(site: Site) -> None:
    env = {"RAPPORT_DATABASE_URL": site.store.settings.database_url}
    old_plain = site.keys["read"]
    old_id = old_plain.split("_")[1]
    result = runner.invoke(app, ["keys", "rotate", old_id, "--grace", "0"], env=env)
    assert result.exit_code == 0, result.output
    new_plain = result.stdout.strip().splitlines()[-1]
    refused = site.client().get(f"/v1/customers/{site.alice}", auth=(old_plain, ""))
    assert refused.status_code == 401 and "rotated" in refused.json()["message"]
    assert site.client().get(f"/v1/customers/{site.alice}", auth=(new_plain, "")).status_code == 200
    graced = runner.invoke(app, ["keys", "rotate", site.keys["write"].split("_")[1], "--grace", "24h"], env=env)
    assert graced.exit_code == 0 and "works until" in graced.stdout
    assert (
        site.client().post("/v1/track", json={"userId": "u", "event": "E"}, auth=(site.keys["write"], "")).status_code
        == 200
    )
    bad = runner.invoke(app, ["keys", "rotate", old_id, "--grace", "soon"], env=env)
    assert bad.exit_code == 2 and "not a duration" in bad.stderr
