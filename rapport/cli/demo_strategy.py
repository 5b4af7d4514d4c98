"""What `rapport demo` prints of the connected strategy, and the dashboard it serves."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from rapport.cli.output import console


def print_strategy(section: dict[str, Any]) -> None:
    if section.get("skipped"):
        console.print(f"\n[bold]Connected strategy[/]: {section['skipped']}")
        return
    console.print(
        f"\n[bold]Connected strategy[/]: {section['decisions']} decisions over the last {section['days']} days, "
        f"{section['outcomes']} outcomes, {section['orders']} reorders; see `rapport strategy matrix --demo`"
    )


def serve_dashboard(app: FastAPI, host: str, port: int) -> None:
    """The dashboard shows the demo firm's strategy, routes and network; say where it is."""
    from rapport.demo.strategy import demo_setup

    app.state.strategy_setup = demo_setup()
    console.print(f"[bold]Staff dashboard[/]: http://{host}:{port}/ (matrix, customer 360, operations)")
