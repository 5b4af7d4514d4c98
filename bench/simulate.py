"""The simulator over a grid of hidden-trait parameters, and its speed: does the learned policy win everywhere?

    .venv/bin/python bench/simulate.py [--customers 1000] [--days 365] [--shares 0.1,0.3,0.6]
        [--tolerances low,medium,high] [--seeds 1,2] [--workers 2] [--policies learned]
        [--fixed-from earlier.json]

Every grid point runs the four policies over the same synthetic customers (``rapport.repeat.simulator``) and
reports, per policy, needs met on time, unwanted contacts per customer-year, the auto-cancel rate, complaints and
churn, and whether the learned policy met the goal there (more needs on time than every fixed policy, at most half
of always-coach's unwanted contacts, a lead that grows over the year). Speed: decisions per second of Rapport's
decision path in the run, against a baseline measured in the same run (the same path's cheapest decision: an
inbound visit with no recognised need), and the extrapolated time of 100,000 customers x 365 days. One line per
point, then the JSON on the last line.

The fixed policies never learn, so the same point and seed give them identical figures in every run:
``--policies learned --fixed-from earlier.json`` runs only the learned policy and takes the fixed ones' figures
(monthly included) from an earlier run's last line (a file holding that line), to judge a change to learning cheaply.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, datetime

from rapport.decide.engine import decide
from rapport.decide.situations import Situation
from rapport.repeat.simulator.memory_store import MemoryStore
from rapport.repeat.simulator.report import advantage
from rapport.repeat.simulator.simulation import POLICIES, SimulationConfig, simulate

KEPT = ("needs_met_on_time", "needs_met_on_time_share", "unwanted_contacts_per_customer_year", "auto_cancel_rate")
KEPT += ("complaints", "churn", "revenue", "decisions", "control_level_accuracy", "monthly")


FIXED = tuple(n for n in POLICIES if n != "learned")


def baseline_decisions_per_second(n: int = 3000) -> float:
    """The cheapest decision on the same path: a visit of a customer with no recognised need (nothing now)."""
    store = MemoryStore()
    store.add_customer("c0", "UTC")
    now = datetime(2026, 1, 1, tzinfo=UTC)
    began = time.perf_counter()
    for _ in range(n):
        decide(store, "c0", Situation("app_open"), now)
    return n / (time.perf_counter() - began)


def _earlier(path: str | None) -> dict[tuple[float, str, int], dict]:
    """The per-policy figures of an earlier run's points, by (share, tolerance, seed)."""
    if path is None:
        return {}
    with open(path) as f:
        last = [line for line in f if line.startswith("{")][-1]
    found = json.loads(last)
    return {(p["automation_share"], p["contact_tolerance"], p["seed"]): p["policies"] for p in found["points"]}


def _load() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--shares", default="0.1,0.3,0.6")
    parser.add_argument("--tolerances", default="low,medium,high")
    parser.add_argument("--seeds", default="1,2")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--policies", default=",".join(POLICIES), help="comma-separated, e.g. learned")
    parser.add_argument("--fixed-from", default=None, help="an earlier run's output: the policies not run here")
    args = parser.parse_args()
    run = tuple(args.policies.split(","))
    earlier = _earlier(args.fixed_from)
    baseline = baseline_decisions_per_second()
    points, seconds, decisions = [], 0.0, 0
    for share in (float(s) for s in args.shares.split(",")):
        for tolerance in args.tolerances.split(","):
            for seed in (int(s) for s in args.seeds.split(",")):
                config = SimulationConfig(
                    customers=args.customers,
                    days=args.days,
                    automation_share=share,
                    contact_tolerance=tolerance,  # type: ignore[arg-type]
                    seed=seed,
                    policies=run,
                    workers=args.workers,
                )
                result = simulate(config)
                figures = {n: {k: result["policies"][n][k] for k in KEPT} for n in run}
                taken = earlier.get((share, tolerance, seed), {})
                figures.update({n: taken[n] for n in POLICIES if n not in figures and n in taken})
                lead = advantage(figures) if len(figures) == len(POLICIES) else {}
                point = {
                    "automation_share": share,
                    "contact_tolerance": tolerance,
                    "seed": seed,
                    "policies": {n: figures[n] for n in POLICIES if n in figures},
                    "learned_meets_more_needs": lead.get("meets_more_needs_than_every_fixed"),
                    "unwanted_vs_coach": lead.get("unwanted_vs_coach"),
                    "lead_slope_pp_per_month": lead.get("lead_slope_pp_per_month"),
                    "goal_met": bool(lead)
                    and lead["meets_more_needs_than_every_fixed"]
                    and lead["at_least_50pct_fewer_unwanted_than_coach"]
                    and lead["grows"],
                    "seconds": result["seconds"]["total"],
                }
                seconds += result["seconds"]["total"]
                decisions += sum(figures[n]["decisions"] for n in run)
                points.append(point)
                line = {k: v for k, v in point.items() if k != "policies"}
                line["learned_needs_on_time"] = figures.get("learned", {}).get("needs_met_on_time")
                line["best_fixed"] = max(
                    ((figures[n]["needs_met_on_time"], n) for n in FIXED if n in figures), default=None
                )
                print(json.dumps(line), flush=True)
    rate = decisions / seconds if seconds else 0.0
    customer_days = args.customers * args.days * len(points) * len(run) / len(POLICIES)
    full = 100_000 * 365 / (customer_days / seconds) if seconds else 0.0
    summary = {
        "customers": args.customers,
        "days": args.days,
        "points": points,
        "goal_met_on": sum(p["goal_met"] for p in points),
        "of": len(points),
        "decisions_per_second_in_simulation": round(rate, 1),
        "baseline_decisions_per_second": round(baseline, 1),
        "ratio_to_baseline": round(rate / baseline, 3) if baseline else None,
        "extrapolated_seconds_100k_x_365_all_policies": round(full, 1),
        "workers": args.workers,
        "policies_run": list(run),
        "load_average": _load(),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
