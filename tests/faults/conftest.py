"""A PostgreSQL cluster of the tests' own (never the shared server on 5432), created and dropped per module.

As root (CI, these machines) it is a Debian cluster made with ``pg_createcluster`` and run as the postgres user;
otherwise ``initdb`` + ``pg_ctl`` under a temporary directory. The cluster code is the fault rig's (bench/rig.py),
so the test and bench/faults.py restart PostgreSQL the same way.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from rig import DedicatedPostgres


@pytest.fixture(scope="module")
def dedicated_postgres() -> Iterator[DedicatedPostgres]:
    with DedicatedPostgres() as cluster:
        yield cluster
