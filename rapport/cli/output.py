"""Shared console helpers for CLI commands: one Rich console, one way to report a RapportError."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import typer
from rich.console import Console

from rapport.errors import InvalidInput, RapportError

console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)


@contextmanager
def cli_errors() -> Iterator[None]:
    """Turn a RapportError into a one-line message on stderr and exit code 2."""
    try:
        yield
    except RapportError as exc:
        err_console.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(code=2) from None


def print_json(data: Any) -> None:
    """Print machine-readable JSON on stdout (no Rich markup, no wrapping)."""
    typer.echo(json.dumps(data, default=str, sort_keys=False))


def progress_callback(total: int, description: str) -> tuple[Any, Callable[[int], None]]:
    """A Rich progress bar and a function that advances it by n."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=False,
    )
    task = progress.add_task(description, total=total)
    return progress, lambda n: progress.advance(task, n)


@contextmanager
def counted_progress(description: str) -> Iterator[tuple[Callable[[int], None], Callable[[int], None]]]:
    """A progress bar whose total is known only once the work has started: yields (advance, set_total)."""
    progress, advance = progress_callback(0, description)
    with progress:
        task = progress.task_ids[0]
        yield advance, lambda total: progress.update(task, total=total)


def parse_moment(text: str, option: str = "--at") -> datetime:
    """An ISO 8601 date or time given on the command line; without a zone it is taken as UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            f"{option} {text!r} is not an ISO 8601 date or time; use e.g. 2026-12-01 or 2026-12-01T08:00Z."
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
