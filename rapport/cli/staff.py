"""`rapport staff`: staff accounts (agent, analyst, admin), each with a one-time set-password link."""

from __future__ import annotations

from datetime import UTC, datetime

import typer
from rich.table import Table

from rapport.access.principals import STAFF_ROLES
from rapport.access.staff import create_staff, reset_link_token
from rapport.api.access import AppAccess
from rapport.cli.context import open_store
from rapport.cli.main import app
from rapport.cli.output import cli_errors, console
from rapport.store.store import Store

staff_app = typer.Typer(help="Staff accounts: roles agent, analyst, admin; passwords set through one-time links.")
app.add_typer(staff_app, name="staff")


def set_password_url(store: Store, token: str) -> str:
    return f"{store.settings.public_url.rstrip('/')}/staff/set-password/{token}"


@staff_app.command("create")
def create(
    email: str = typer.Argument(..., help="The staff member's e-mail address (their sign-in name)"),
    role: str = typer.Option(..., "--role", help=f"One of {', '.join(STAFF_ROLES)}"),
    database: str | None = typer.Option(None, help="Database URL"),
) -> None:
    """Create an account; its one-time set-password link (72 hours) is printed alone on the last line."""
    with cli_errors():
        store = open_store(database)
        access = AppAccess.over(store)
        member, token = create_staff(access.accounts, access.secret, email, role, datetime.now(UTC))
    console.print(f"staff {member.email} ({member.role}); send them this link to choose a password (works once):")
    typer.echo(set_password_url(store, token))


@staff_app.command("reset")
def reset(
    email: str = typer.Argument(..., help="The staff member's e-mail address"),
    database: str | None = typer.Option(None, help="Database URL"),
) -> None:
    """A new one-time set-password link for an existing account."""
    with cli_errors():
        store = open_store(database)
        access = AppAccess.over(store)
        token = reset_link_token(access.accounts, access.secret, email, datetime.now(UTC))
    typer.echo(set_password_url(store, token))


@staff_app.command("list")
def list_command(database: str | None = typer.Option(None, help="Database URL")) -> None:
    """Staff accounts with their roles (never their passwords)."""
    with cli_errors():
        rows = AppAccess.over(open_store(database)).accounts.list_staff()
    table = Table("e-mail", "role", "password set", "locked until")
    for row in rows:
        table.add_row(
            row["email"], row["role"], str(row["password_set_at"] or "not yet"), str(row["locked_until"] or "")
        )
    console.print(table)
