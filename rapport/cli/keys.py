"""`rapport keys`: create, list and revoke API keys."""

from __future__ import annotations

import typer
from rich.table import Table

from rapport.cli.context import open_store
from rapport.cli.main import app
from rapport.cli.output import cli_errors, console
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
