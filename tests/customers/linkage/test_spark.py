"""Linkage on Spark (a local PySpark session) gives what it gives on DuckDB: FEBRL4's clusters, the store's merges.

One Spark session serves the whole module (starting one costs tens of seconds here); four shuffle partitions.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rapport.cli.main import app
from rapport.customers.identifiers import Identifier
from rapport.customers.ingestion import ingest
from rapport.customers.linkage.batch import LinkageRun, link_people
from rapport.customers.linkage.evaluation import score_linkage
from rapport.customers.linkage.files import read_people_files
from rapport.customers.linkage.proposals import link_store
from rapport.datasets.febrl import ID_COLUMN, febrl_paths, person_of
from rapport.engines import linkage_engine
from rapport.engines.spark import SparkEngine
from rapport.store.linkage import linkage_store
from rapport.store.store import Store
from tests.conftest import make_store
from tests.customers.linkage.people_events import call_centre, firm_messages

runner = CliRunner()
SPARK_TIMEOUT = 1800  # seconds: a Spark job costs seconds on two cores shared by six developers' work


@pytest.fixture(scope="module")
def spark() -> Iterator[SparkEngine]:
    engine = linkage_engine("spark", "local[2]")
    assert isinstance(engine, SparkEngine)
    yield engine
    engine.close()


def _f1(run: LinkageRun) -> float:
    truth: dict[str, set[tuple[str, str]]] = {}
    for source, record_id in run.assignment():
        truth.setdefault(person_of(record_id), set()).add((source, record_id))
    return score_linkage(run.assignment(), truth.values()).f1


@pytest.mark.timeout(SPARK_TIMEOUT)
def test_febrl4_gives_the_same_clusters_on_spark_as_on_duckdb(spark: SparkEngine) -> None:
    files = read_people_files(febrl_paths("febrl4"), ID_COLUMN)
    duckdb = link_people(files, ID_COLUMN)
    on_spark = link_people(files, ID_COLUMN, engine=spark)
    assert (duckdb.engine, on_spark.engine) == ("duckdb", "spark")
    assert [r.keys for r in on_spark.rules] == [r.keys for r in duckdb.rules]  # blocking counted on each engine
    assert _f1(duckdb) >= 0.99
    assert abs(_f1(on_spark) - _f1(duckdb)) <= 0.002
    assert on_spark.assignment() == duckdb.assignment()  # the same clusters, numbered the same way


@pytest.fixture
def firm(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Store]:
    store = make_store("sqlite", tmp_path, request)
    messages, _ = firm_messages(people=200, duplicates=6)
    assert not ingest(store, messages, store.settings, source="test").rejected
    yield store
    store.close()


@pytest.mark.timeout(SPARK_TIMEOUT)
def test_store_linkage_on_spark_merges_and_runs_a_model_saved_by_duckdb(firm: Store, spark: SparkEngine) -> None:
    url = str(firm.settings.database_url)
    result = runner.invoke(app, ["link", "--store", "--engine", "spark", "--database", url, "--json"])
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["trained"] and report["merged"] == 6  # every call-centre record joined to its account
    assert firm.counts()["customers"] == 200
    # The saved model now says spark; retrained on DuckDB, then a late record is scored on Spark with it.
    linkage = linkage_store(firm)
    link_store(linkage, retrain=True)
    assert linkage.load_model()["settings"]["sql_dialect"] == "duckdb"
    _, people = firm_messages(people=200, duplicates=6)
    assert ingest(firm, [call_centre(random.Random(5), people[50], 50)], firm.settings, source="test").stored == 1
    late = link_store(linkage, engine=spark)
    assert late.profiles_linked == 1 and late.merged == 1 and not late.trained
    same = firm.customer_by_identifier(Identifier("anonymous_id", "crm-50"))
    assert same == firm.customer_by_identifier(Identifier("user_id", "u50"))
