"""Off-policy evaluation benchmark: Bernoulli TS's click rate on the Open Bandit Dataset sample estimated from the
random policy's logs (IPS, self-normalised IPS, doubly robust, and the direct method), against the click rate
logged under Bernoulli TS. The baseline measured in the same run is the naive estimate "the new policy will do what
the old one did" (the random policy's own click rate); each estimator's relative error is also given as a ratio to
the baseline's. Progress goes to stderr; the last stdout line is one JSON object.

    .venv/bin/python bench/ope.py [--rows N] [--bootstrap 1000] [--seed 0] [--random PATH] [--bts PATH]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from rapport.datasets.open_bandit import open_bandit_path
from rapport.repeat.validation import validate_open_bandit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=None, help="Only the first N rows of each log")
    parser.add_argument("--bootstrap", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--random", type=Path, default=None)
    parser.add_argument("--bts", type=Path, default=None)
    args = parser.parse_args()
    started = time.perf_counter()
    print("validating the estimators on the Open Bandit Dataset sample ...", file=sys.stderr, flush=True)
    result = validate_open_bandit(
        args.random or open_bandit_path("random"),
        args.bts or open_bandit_path("bts"),
        rows=args.rows,
        n_boot=args.bootstrap,
        seed=args.seed,
    )
    naive = result["naive_relative_error"]
    for estimators in result["targets"].values():
        for row in estimators.values():
            row["error_vs_naive"] = row["relative_error"] / naive if naive else None
    result["seconds"] = round(time.perf_counter() - started, 2)
    result["loadavg"] = Path("/proc/loadavg").read_text().split()[:3]
    truth = result["on_policy"]
    print(f"on-policy BTS click rate {truth['value']:.4f} [{truth['low']:.4f}, {truth['high']:.4f}]", file=sys.stderr)
    for target, estimators in result["targets"].items():
        for name, row in estimators.items():
            print(
                f"{target:10} {name:5} {row['value']:.4f} [{row['low']:.4f}, {row['high']:.4f}] "
                f"relative error {row['relative_error']:.1%} "
                f"[{row['relative_error_low']:.1%}, {row['relative_error_high']:.1%}]",
                file=sys.stderr,
            )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
