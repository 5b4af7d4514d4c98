"""Linkage benchmark: FEBRL accuracy beside the Python Record Linkage Toolkit's documented pipeline (computed in
the same run), and the speed and peak memory of deduplicating seeded synthetic person records with realistic typos.
Each synthetic size runs in its own process, so its peak memory is its own. Progress goes to stderr; the last
stdout line is one JSON object {"febrl": …, "synthetic": {"100000": …, "1000000": …}, "scaling": …}.

    .venv/bin/python bench/link.py [--sizes 100000,1000000] [--sections febrl,synthetic]
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


def one_size(records: int) -> dict[str, Any]:
    """Generate and deduplicate ``records`` synthetic records in this process; F1 against the generator's truth."""
    started = time.perf_counter()
    frame = synthetic_people(records, duplicate_share=0.3, seed=11)
    truth_of = dict(zip(frame["id"], frame["person"], strict=True))
    people = PeopleFile("synthetic", Path("synthetic.csv"), frame.drop(columns=["person"]))
    generated = time.perf_counter() - started
    started = time.perf_counter()
    run = link_people([people], "id")
    seconds = time.perf_counter() - started
    groups: dict[str, set[tuple[str, str]]] = {}
    for source, record_id in run.assignment():
        groups.setdefault(truth_of[record_id], set()).add((source, record_id))
    scores = score_linkage(run.assignment(), groups.values()).as_dict()
    return {
        "records": records,
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


def synthetic(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for size in args.sizes:
        say(f"deduplicating {size:,} synthetic records …")
        done = subprocess.run(
            [sys.executable, __file__, "--one", str(size)], capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            out[str(size)] = {"records": size, "error": done.stderr.strip().splitlines()[-1:]}
            continue
        out[str(size)] = json.loads(done.stdout.strip().splitlines()[-1])
        say(f"  {out[str(size)]['records_per_s']:,} records/s, peak {out[str(size)]['peak_rss_mb']:,} MB")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")], default=[100_000, 1_000_000])
    parser.add_argument("--sections", default="febrl,synthetic")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one_size(args.one)))
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
    print(json.dumps(report))


if __name__ == "__main__":
    main()
