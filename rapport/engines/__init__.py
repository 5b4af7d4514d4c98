"""The engines linkage runs on (rapport.customers.linkage.ports.LinkageEngine): DuckDB in this process, or Spark.

DuckDB is the default and needs nothing more. Spark (``rapport[spark]``: PySpark and a Java 17 runtime) runs the
same Splink model on a Spark session, local (``local[2]``) or a cluster (``spark://host:7077``); PySpark is imported
only when Spark is chosen.
"""

from __future__ import annotations

import os

from rapport.customers.linkage.ports import LinkageEngine
from rapport.errors import InvalidInput

ENGINES = ("duckdb", "spark")
DEFAULT_SPARK_MASTER = "local[2]"


def spark_master(option: str | None = None, configured: str = "") -> str:
    """The Spark master to use: the option, else ``SPARK_MASTER``, else the configured one, else ``local[2]``."""
    return option or os.environ.get("SPARK_MASTER") or configured or DEFAULT_SPARK_MASTER


def linkage_engine(name: str = "duckdb", master: str | None = None) -> LinkageEngine:
    """The engine called ``name``; ``master`` is the Spark master (see spark_master) when ``name`` is spark."""
    if name == "duckdb":
        from rapport.engines.duckdb import DuckDBEngine

        return DuckDBEngine()
    if name == "spark":
        try:
            from rapport.engines.spark import SparkEngine
        except ImportError as exc:
            raise InvalidInput(
                f"--engine spark needs PySpark ({exc}): install it with pip install 'rapport[spark]', and a Java 17 "
                "runtime (Debian: apt-get install openjdk-17-jre-headless)."
            ) from exc
        return SparkEngine(master or spark_master())
    raise InvalidInput(f"Unknown linkage engine {name!r}; use one of {', '.join(ENGINES)}.")
