"""Linkage on Spark: Splink's Spark backend on one Spark session, local (``local[2]``) or a cluster's master.

Importing this module imports PySpark (``rapport[spark]``); rapport.engines imports it only when Spark is chosen.
On a local master the session is sized for one machine (few shuffle partitions, no web UI); on a cluster, Spark's
own configuration (``spark-defaults.conf``, ``--conf`` via ``PYSPARK_SUBMIT_ARGS``) decides. Splink breaks lineage
by writing intermediate tables as parquet under the session's checkpoint directory, a temporary one unless the
session already has one.
"""

from __future__ import annotations

import itertools
import logging
import shutil
import tempfile
from typing import Any

import pandas as pd
import sqlglot
from pyspark.sql import SparkSession
from splink.backends.spark import SparkAPI, similarity_jar_location

_names = itertools.count()
LOCAL_SHUFFLE_PARTITIONS = 4  # Spark's default of 200 is for clusters; on two cores each partition costs a task


class SparkEngine:
    """One Spark session shared by every model run on this engine, started on first use (or the session already
    running in this process); ``close`` stops a session it started."""

    name = "spark"
    sql_dialect = "spark"
    u_sample_chunks = 1  # each piece is a Spark job per comparison, whose start costs more than its work

    def __init__(
        self,
        master: str,
        driver_memory: str = "4g",
        shuffle_partitions: int = LOCAL_SHUFFLE_PARTITIONS,
        break_lineage: str = "parquet",
        app_name: str = "rapport-link",
    ) -> None:
        self.master = master
        # Parquet files, Splink's default for Spark ("persist" in memory was slower here: lineage grows).
        self.break_lineage = break_lineage
        self._local = {
            "spark.sql.shuffle.partitions": str(shuffle_partitions),
            "spark.default.parallelism": str(shuffle_partitions),
            "spark.driver.memory": driver_memory,
            "spark.ui.enabled": "false",
        }
        self._app_name = app_name
        self._session: SparkSession | None = None
        self._owned = False  # a session that was running before (a notebook's, a test's) is not ours to stop
        self._checkpoints: str | None = None

    @property
    def spark(self) -> SparkSession:
        """The session (started now if it is not yet)."""
        if self._session is None:
            self._session = self._start()
        return self._session

    def _start(self) -> SparkSession:
        logging.getLogger("py4j").setLevel(logging.ERROR)
        running = SparkSession.getActiveSession()
        if running is not None:
            return running
        self._owned = True
        builder = (
            SparkSession.builder.master(self.master)
            .appName(self._app_name)
            .config("spark.jars", similarity_jar_location())  # Splink's Jaro-Winkler, Damerau-Levenshtein … UDFs
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")  # pandas in and out without row pickling
            .config("spark.ui.showConsoleProgress", "false")  # the CLI draws its own progress bar
        )
        if self.master.startswith("local"):
            for key, value in self._local.items():
                builder = builder.config(key, value)
        session = builder.getOrCreate()
        session.sparkContext.setLogLevel("ERROR")
        if session.sparkContext.getCheckpointDir() is None:
            self._checkpoints = tempfile.mkdtemp(prefix="rapport-spark-")
            session.sparkContext.setCheckpointDir(self._checkpoints)
        return session

    def database_api(self) -> SparkAPI:
        # Splink registers each model's inputs as temporary views s0, s1 …: a shared session keeps the last model's.
        for table in self.spark.catalog.listTables():
            if table.isTemporary and table.name[:1] == "s" and table.name[1:].isdigit():
                self.spark.catalog.dropTempView(table.name)
        return SparkAPI(spark_session=self.spark, break_lineage_method=self.break_lineage)

    def add_table(self, api: Any, frame: pd.DataFrame) -> str:
        name = f"_rapport_all_{next(_names)}"
        # Text throughout, with an explicit schema: a column with no value at all has no type to infer.
        text = frame.astype(object).where(frame.notna(), None).map(lambda v: None if v is None else str(v))
        schema = ", ".join(f"`{column}` string" for column in frame.columns)
        self.spark.createDataFrame(text, schema=schema).cache().createOrReplaceTempView(name)
        return name

    def fetch(self, api: Any, sql: str) -> list[tuple[Any, ...]]:
        spark_sql = sqlglot.transpile(sql, read="duckdb", write="spark")[0]
        return [tuple(row) for row in self.spark.sql(spark_sql).collect()]

    def close(self) -> None:
        """Stop the session (if it started) and remove the temporary checkpoints."""
        if self._session is not None and self._owned:
            self._session.stop()
        self._session = None
        if self._checkpoints is not None:
            shutil.rmtree(self._checkpoints, ignore_errors=True)
            self._checkpoints = None
