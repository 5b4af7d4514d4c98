"""Shared console helpers for CLI commands: one Rich console, one way to report a RapportError."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import typer
from rich.console import Console

from rapport.errors import RapportError

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
