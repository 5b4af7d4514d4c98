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
    """One Spark session shared by every model run on this engine; ``close`` stops it."""

    name = "spark"
    sql_dialect = "spark"

    def __init__(self, master: str, driver_memory: str = "4g", app_name: str = "rapport-link") -> None:
        logging.getLogger("py4j").setLevel(logging.ERROR)
        self.master = master
        self._checkpoints = tempfile.mkdtemp(prefix="rapport-spark-")
        builder = (
            SparkSession.builder.master(master)
            .appName(app_name)
            .config("spark.jars", similarity_jar_location())  # Splink's Jaro-Winkler, Damerau-Levenshtein … UDFs
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")  # pandas in and out without row pickling
            .config("spark.ui.showConsoleProgress", "false")  # the CLI draws its own progress bar
        )
        if master.startswith("local"):
            builder = (
                builder.config("spark.sql.shuffle.partitions", str(LOCAL_SHUFFLE_PARTITIONS))
                .config("spark.default.parallelism", str(LOCAL_SHUFFLE_PARTITIONS))
                .config("spark.driver.memory", driver_memory)
                .config("spark.ui.enabled", "false")
                .config("spark.sql.adaptive.enabled", "true")
            )
        self.spark = builder.getOrCreate()
        self.spark.sparkContext.setLogLevel("ERROR")
        if self.spark.sparkContext.getCheckpointDir() is None:
            self.spark.sparkContext.setCheckpointDir(self._checkpoints)

    def database_api(self) -> SparkAPI:
        return SparkAPI(spark_session=self.spark)

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
        """Stop the session and remove the temporary checkpoints."""
        self.spark.stop()
        shutil.rmtree(self._checkpoints, ignore_errors=True)
