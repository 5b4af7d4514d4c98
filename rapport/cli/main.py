"""The `rapport` command. Each command group lives in its own module and registers itself here."""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="rapport",
    help="Rapport: connected customer relationships (recognize, request, respond, repeat).",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
evaluate_app = typer.Typer(
    help="Offline evaluations on a firm's own files or the public data sets.", no_args_is_help=True
)
app.add_typer(evaluate_app, name="evaluate")

# Modules that add commands to `app` (or `evaluate_app`) when imported. One line each.
COMMAND_MODULES = [
    "rapport.cli.ingest",
    "rapport.cli.keys",
    "rapport.cli.customers",
    "rapport.cli.serve",
    "rapport.cli.demo",
    "rapport.cli.next_basket",
    "rapport.cli.forecast",
    "rapport.cli.respond",
    "rapport.cli.recognize",
    "rapport.cli.recommend",
    "rapport.cli.link",
    "rapport.cli.decide",
    "rapport.cli.repeat",
    "rapport.cli.strategy",
    "rapport.cli.staff",
    "rapport.cli.voice",
    "rapport.cli.stream",
    "rapport.cli.check",
    "rapport.cli.simulate",
]

for _module in COMMAND_MODULES:
    importlib.import_module(_module)
