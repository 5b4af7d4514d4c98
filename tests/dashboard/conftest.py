"""Dashboard fixtures: one demo store (the demo firm at a small size, with its strategy's decisions) per run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rapport.config import Settings
from rapport.demo.run import run_demo
from rapport.store.store import Store

DEMO_STRATEGY = Path(__file__).parents[2] / "rapport" / "demo" / "strategy.yaml"


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, dict[str, Any]]]:
    """The demo firm (300 people) ingested into a SQLite store, and the demo's report."""
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    store = Store(Settings(database_url=f"sqlite:///{path}"))
    report = run_demo(store, customers=300)
    yield store, report
    store.close()
