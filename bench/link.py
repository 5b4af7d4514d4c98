"""Linkage benchmark: FEBRL accuracy beside the Python Record Linkage Toolkit's documented pipeline (computed in
the same run), and the speed and peak memory of deduplicating seeded synthetic person records with realistic typos.
Each synthetic size runs in its own process, so its peak memory is its own. The spark section deduplicates the
same synthetic records on Splink's Spark backend (a local[2] session, ``--spark-master`` for another) and on DuckDB
in the same run, each in its own process, and reports the time ratio Spark/DuckDB. Progress goes to stderr; the last
stdout line is one JSON object {"febrl": …, "synthetic": {"100000": …}, "scaling": …, "spark": {"1000000": …}}.

    .venv/bin/python bench/link.py [--sizes 100000,1000000] [--sections febrl,synthetic,spark]
                                   [--spark-sizes 1000000] [--spark-master local[2]]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from rapport.customers.linkage.batch import link_people
from rapport.customers.linkage.evaluation import score_linkage
from rapport.customers.linkage.files import PeopleFile, read_people_files
from rapport.datasets.febrl import ID_COLUMN, febrl_paths, person_of, toolkit_baseline
from rapport.demo.people_records import synthetic_people
from rapport.engines import linkage_engine, spark_master

TARGETS = {"febrl4": 0.99, "febrl1": 0.97}


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def febrl(_: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, target in TARGETS.items():
        files = read_people_files(febrl_paths(name), ID_COLUMN)
        started = time.perf_counter()
        run = link_people(files, ID_COLUMN)
        seconds = time.perf_counter() - started
        truth: dict[str, set[tuple[str, str]]] = {}
        for source, record_id in run.assignment():
            truth.setdefault(person_of(record_id), set()).add((source, record_id))
        scores = score_linkage(run.assignment(), truth.values()).as_dict()
        baseline = toolkit_baseline(name)
        out[name] = {
            "rapport": {k: scores[k] for k in ("precision", "recall", "f1", "bcubed_f1", "exact_clusters")},
            "threshold": run.threshold,
            "toolkit_baseline": baseline,
            "f1_ratio_to_baseline": round(scores["f1"] / baseline["f1"], 3),
            "target_f1": target,
            "meets_target": scores["f1"] >= target,
            "seconds": round(seconds, 1),
        }
        say(f"{name}: F1 {scores['f1']:.4f} (toolkit {baseline['f1']:.4f}) in {seconds:.1f} s")
    return out


def one_size(records: int, engine_name: str = "duckdb", master: str | None = None) -> dict[str, Any]:
    """Generate and deduplicate ``records`` synthetic records in this process on the engine named; F1 against the
    generator's truth. The Spark session's start is timed apart (``engine_start_seconds``)."""
    started = time.perf_counter()
    frame = synthetic_people(records, duplicate_share=0.3, seed=11)
    truth_of = dict(zip(frame["id"], frame["person"], strict=True))
    people = PeopleFile("synthetic", Path("synthetic.csv"), frame.drop(columns=["person"]))
    generated = time.perf_counter() - started
    started = time.perf_counter()
    engine = linkage_engine(engine_name, master)
    if engine_name == "spark":
        from rapport.engines.spark import SparkEngine

        assert isinstance(engine, SparkEngine)
        engine.spark.range(1).count()  # start the session (and its JVM) outside the linkage's time
    engine_start = time.perf_counter() - started
    started = time.perf_counter()
    run = link_people([people], "id", engine=engine)
    seconds = time.perf_counter() - started
    engine.close()
    groups: dict[str, set[tuple[str, str]]] = {}
    for source, record_id in run.assignment():
        groups.setdefault(truth_of[record_id], set()).add((source, record_id))
    scores = score_linkage(run.assignment(), groups.values()).as_dict()
    return {
        "records": records,
        "engine": engine_name,
        "engine_start_seconds": round(engine_start, 1),
        "seconds": round(seconds, 1),
        "records_per_s": round(records / seconds),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "generate_seconds": round(generated, 1),
        "phases": run.seconds,
        "blocking_rules": [" + ".join(r.keys) for r in run.rules],
        "pairs_f1": scores["f1"],
        "precision": scores["precision"],
        "recall": scores["recall"],
        "threshold": run.threshold,
    }


def _in_process(size: int, engine: str = "duckdb", master: str | None = None) -> dict[str, Any]:
    command = [sys.executable, __file__, "--one", str(size), "--engine", engine]
    done = subprocess.run(command + (["--spark-master", master] if master else []), capture_output=True, text=True)
    if done.returncode != 0:
        return {"records": size, "engine": engine, "error": done.stderr.strip().splitlines()[-1:]}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    say(
        f"  {engine}: {result['seconds']:,} s, {result['records_per_s']:,} records/s, peak {result['peak_rss_mb']:,} MB"
    )
    return result


def synthetic(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for size in args.sizes:
        say(f"deduplicating {size:,} synthetic records …")
        out[str(size)] = _in_process(size)
    return out


def spark(args: argparse.Namespace) -> dict[str, Any]:
    """Each size on DuckDB then on Spark (the driver's peak memory is reported; Spark's JVM is not in it)."""
    out: dict[str, Any] = {}
    for size in args.spark_sizes:
        say(f"deduplicating {size:,} synthetic records on DuckDB and on Spark ({args.spark_master}) …")
        duckdb, on_spark = _in_process(size), _in_process(size, "spark", args.spark_master)
        row: dict[str, Any] = {"duckdb": duckdb, "spark": on_spark, "spark_master": args.spark_master}
        if "seconds" in duckdb and "seconds" in on_spark:
            row["seconds_ratio_spark_to_duckdb"] = round(on_spark["seconds"] / duckdb["seconds"], 2)
            row["same_f1"] = abs(on_spark["pairs_f1"] - duckdb["pairs_f1"]) <= 0.002
        out[str(size)] = row
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")], default=[100_000, 1_000_000])
    parser.add_argument("--sections", default="febrl,synthetic")
    parser.add_argument("--spark-sizes", type=lambda s: [int(x) for x in s.split(",")], default=[1_000_000])
    parser.add_argument("--spark-master", default=spark_master())
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--engine", default="duckdb", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one_size(args.one, args.engine, args.spark_master)))
        return
    report: dict[str, Any] = {}
    sections = args.sections.split(",")
    if "febrl" in sections:
        report["febrl"] = febrl(args)
    if "synthetic" in sections:
        report["synthetic"] = synthetic(args)
        rates = [v for v in report["synthetic"].values() if "records_per_s" in v]
        if len(rates) >= 2:  # the baseline: the smallest size's speed, measured in this run
            report["scaling"] = {
                "records_per_s_ratio_largest_to_smallest": round(
                    rates[-1]["records_per_s"] / rates[0]["records_per_s"], 3
                )
            }
    if "spark" in sections:
        report["spark"] = spark(args)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
