"""The simulator's invariants, on small runs of Rapport's real decision path over the in-memory store."""

from __future__ import annotations

import json
from datetime import timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from typer.testing import CliRunner

from rapport.cli.main import app
from rapport.decide.contact_policy import parse_quiet_hours
from rapport.repeat.simulator.intervals import cdnow_intervals, instacart_intervals
from rapport.repeat.simulator.population import TIMEZONES, draw_population
from rapport.repeat.simulator.run import YearRun
from rapport.repeat.simulator.simulation import POLICIES, SimulationConfig, make_policy, simulate

METRICS = ("needs_met_on_time", "unwanted_contacts_per_customer_year", "auto_cancel_rate", "complaints", "churn")


@pytest.fixture(scope="module")
def population():
    return draw_population(400, seed=3, automation_share=0.3, tolerance="medium", days=90)


@pytest.fixture(scope="module")
def runs(population):
    """One 90-day run per policy over the same 400 customers, keeping every delivered contact."""
    done = {}
    for name in POLICIES:
        run = YearRun(population, make_policy(name, population, 3), 90, 3)
        run.keep_contacts = True
        run.run()
        done[name] = run
    return done


def test_the_intervals_are_the_real_data_sets() -> None:
    cdnow, instacart = cdnow_intervals(), instacart_intervals()
    assert cdnow.customers > 1000 and len(cdnow.days) > 4000  # CDNOW customers who bought on two days or more
    assert instacart.customers == 593 and instacart.days.max() == 30  # the sample's cap
    assert np.median(instacart.days) < np.median(cdnow.days)  # groceries come round faster than CDs


def test_a_customer_without_a_mandate_never_gets_an_automatic_order(runs, population) -> None:
    for run in runs.values():
        for i in np.flatnonzero(~population.mandate):
            assert run.store.customers[f"c{i}"].automatic == []
    holders = [i for i in np.flatnonzero(population.mandate)]
    assert any(runs["automate"].store.customers[f"c{i}"].automatic for i in holders)


def test_quiet_hours_and_caps_hold_for_every_contact(runs) -> None:
    start, end = parse_quiet_hours("21:00-08:00")  # the firm's default policy, which every simulated customer has
    checked = 0
    for run in runs.values():
        by_customer: dict[int, list] = {}
        for i, _channel, at in run.contacts_seen:
            local = at.astimezone(ZoneInfo(TIMEZONES[run.pop.timezone[i]])).time()
            assert not (local >= start or local < end), (i, at, local)
            by_customer.setdefault(i, []).append(at)
            checked += 1
        for times in by_customer.values():
            times.sort()
            for j, at in enumerate(times):  # caps "*:7:2" and "*:30:6"
                assert sum(1 for t in times[j:] if t < at + timedelta(days=7)) <= 2
                assert sum(1 for t in times[j:] if t < at + timedelta(days=30)) <= 6
    assert checked > 100


def test_churned_customers_get_no_more_contacts(runs) -> None:
    churned = 0
    for run in runs.values():
        for i, _channel, at in run.contacts_seen:
            if i in run.churned_at:
                left = run.at(run.churned_at[i])
                assert at <= left, (i, at, left)
        churned += len(run.churned)
    assert churned > 0


def test_the_same_seed_gives_the_same_result() -> None:
    config = SimulationConfig(customers=120, days=45, seed=11)
    first, second = simulate(config), simulate(config)
    assert first["policies"] == second["policies"]
    other = simulate(SimulationConfig(customers=120, days=45, seed=12))
    assert other["policies"] != first["policies"]


def test_a_run_sharded_over_processes_gives_the_figures_of_one_process() -> None:
    """Every customer draws from streams of their own and the bandit reads the population's counts of the day's
    start (summed over the shards), so splitting the customers over processes changes nothing in the figures."""
    one = simulate(SimulationConfig(customers=150, days=60, seed=5, workers=1))
    two = simulate(SimulationConfig(customers=150, days=60, seed=5, workers=2))
    assert two["config"]["workers"] == 2
    assert one["policies"] == two["policies"]
    assert one["policies"]["learned"]["questions_asked"] > 0  # the learned policy did learn and ask in the run


def test_policies_run_side_by_side_give_the_figures_of_one_process() -> None:
    """With workers > 1 every policy's shards run at once (the fixed ones cut finer, at a lower priority), so
    shards of different policies finish in any order: the figures stay those of one process, and the progress
    each policy reports still adds up to its days."""
    policies = ("coach", "learned", "automate")
    one = simulate(SimulationConfig(customers=70, days=40, seed=3, policies=policies, workers=1))
    told: dict[str, float] = {}

    def progress(name: str, days: float) -> None:
        told[name] = told.get(name, 0.0) + days

    three = simulate(SimulationConfig(customers=70, days=40, seed=3, policies=policies, workers=3), progress)
    assert three["policies"] == one["policies"]
    assert list(three["policies"]) == list(policies)
    assert told.keys() == set(policies) and all(abs(days - 40) < 1e-9 for days in told.values())
    assert set(three["seconds"]) == {*policies, "total"}


def test_a_customers_draws_do_not_depend_on_anyone_elses() -> None:
    from rapport.repeat.simulator.streams import CustomerStreams

    alone, crowded = CustomerStreams(7, 1), CustomerStreams(7, 1)
    mine = [alone.random(3) for _ in range(5)]
    drawn = []
    for _ in range(5):
        crowded.random(4)
        drawn.append(crowded.random(3))
        crowded.random(9)
    assert drawn == mine and len(set(mine)) == 5 and all(0 <= u < 1 for u in mine)
    assert CustomerStreams(8, 1).random(3) != mine[0] and CustomerStreams(7, 2).random(3) != mine[0]


def test_a_small_run_reports_every_metric_for_every_policy(tmp_path) -> None:
    out = tmp_path / "flywheel.png"
    result = CliRunner().invoke(
        app,
        ["simulate", "--customers", "500", "--days", "90", "--policy", "all", "--json", "--plot", str(out)],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(data["policies"]) == set(POLICIES)
    for figures in data["policies"].values():
        for metric in METRICS:
            assert metric in figures
        assert figures["needs"] > 500
        assert len(figures["monthly"]["needs_met_on_time_share"]) == 3
    assert data["policies"]["respond_to_desire"]["contacts_per_customer_year"] == 0  # it never reaches out
    assert data["policies"]["coach"]["automatic_orders"] == 0
    assert data["policies"]["automate"]["automatic_orders"] > 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_learned_sends_fewer_unwanted_contacts_than_always_coach(runs) -> None:
    """Learning stops nudging those who choose for themselves (0.3 to 0.5 of coach's unwanted contacts at 500
    customers and above). Whether it also meets more needs on time is not asserted: it does on 9 of 18 grid points
    and not at this size, see README."""
    from rapport.repeat.simulator.report import summary

    coach = summary(runs["coach"].tally, 400)["unwanted_contacts_per_customer_year"]
    learned = summary(runs["learned"].tally, 400)["unwanted_contacts_per_customer_year"]
    assert learned < 0.85 * coach
    asked = runs["learned"].policy
    assert asked.asked > 0 and 0 < asked.answered < asked.asked, "questions are put, and only some answered"
