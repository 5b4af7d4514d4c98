"""`rapport keys`: create, list and revoke API keys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import typer
from rich.table import Table

from rapport.cli.context import open_store
from rapport.cli.main import app
from rapport.cli.output import cli_errors, console
from rapport.errors import InvalidInput
from rapport.store.access import rotate_key
from rapport.store.keys import SCOPES, create_key, list_keys, revoke_key

keys_app = typer.Typer(
    help="API keys: scoped (write, read, decide, admin), stored hashed, revocable.", no_args_is_help=True
)
app.add_typer(keys_app, name="keys")


@keys_app.command("create")
def create(
    scope: list[str] = typer.Option(..., "--scope", help=f"One of {', '.join(SCOPES)}; repeat for several"),
    name: str = typer.Option("", help="A label, e.g. the collector that will use the key"),
    database: str | None = typer.Option(None, help="Database URL"),
) -> None:
    """Create a key. The key itself is printed once, alone on the last line."""
    with cli_errors():
        record, plaintext = create_key(open_store(database).engine, scope, name)
    console.print(f"key {record.id} ({record.name}) with scopes {', '.join(record.scopes)}; it is not shown again:")
    typer.echo(plaintext)


@keys_app.command("revoke")
def revoke(
    key: str = typer.Argument(..., help="The key, or its id (the part after rk_)"),
    database: str | None = typer.Option(None, help="Database URL"),
) -> None:
    """Revoke a key at once."""
    with cli_errors():
        record = revoke_key(open_store(database).engine, key)
    console.print(f"revoked key {record.id} ({record.name})")


@keys_app.command("rotate")
def rotate(
    key_id: str = typer.Argument(..., help="The key's id (the part after rk_)"),
    grace: str = typer.Option("24h", help="How long the old key keeps working: 30m, 24h, 7d, or 0 to stop it now"),
    database: str | None = typer.Option(None, help="Database URL"),
) -> None:
    """Issue a successor with the same scopes; the old key works until the grace period ends, then is refused."""
    with cli_errors():
        successor, plaintext, ends = rotate_key(
            open_store(database).engine, key_id, parse_grace(grace), datetime.now(UTC)
        )
    console.print(
        f"key {successor.id} succeeds {key_id} (scopes {', '.join(successor.scopes)}); {key_id} works until "
        f"{ends:%Y-%m-%d %H:%M} UTC. The new key is not shown again:"
    )
    typer.echo(plaintext)


def parse_grace(text: str) -> timedelta:
    """'30m', '24h', '7d' or '0' as a duration."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    number, unit = (text[:-1], text[-1]) if text and text[-1] in units else (text, "s")
    if not number.isdigit() or int(number) > 366 * 86400:
        raise InvalidInput(f"The grace {text!r} is not a duration; write 30m, 24h, 7d or 0.")
    return timedelta(seconds=int(number) * units[unit])


@keys_app.command("list")
def list_command(database: str | None = typer.Option(None, help="Database URL")) -> None:
    """Keys with their scopes and state (never their secrets)."""
    with cli_errors():
        records = list_keys(open_store(database).engine)
    table = Table("id", "name", "scopes", "created", "revoked")
    for r in records:
        table.add_row(
            r.id, r.name, ",".join(r.scopes), r.created_at.isoformat(timespec="seconds"), str(r.revoked_at or "")
        )
    console.print(table)
