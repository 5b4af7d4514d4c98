"""The nudge bandit: shares strength across customers, adapts to each, logs exact propensities, survives the store."""

from __future__ import annotations

import numpy as np
import pytest

from rapport.errors import InvalidInput
from rapport.repeat.bandit import Arm, NudgeBandit, NudgeContext, default_arms
from rapport.store.bandit import add_reward, load_bandit, save_bandit
from rapport.store.store import Store
from tests.decide.conftest import NOW

ARMS = default_arms(channels=("push", "email"), nudges=("reminder",), hours=(9, 18))
PUSH_9, PUSH_18, EMAIL_9, EMAIL_18 = (a.key for a in ARMS)


def _simulate(bandit: NudgeBandit, rates: dict[str, float], customers: list[str], rounds: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    chosen = []
    for n in range(rounds):
        cid = customers[n % len(customers)]
        choice = bandit.choose(NudgeContext(cid), rng)
        bandit.update(cid, choice.arm, float(rng.random() < rates[choice.arm.key]))
        chosen.append(choice.arm.key)
    return chosen


def test_thompson_sampling_finds_the_arm_that_works() -> None:
    bandit = NudgeBandit(ARMS)
    rates = {PUSH_9: 0.1, PUSH_18: 0.1, EMAIL_9: 0.6, EMAIL_18: 0.1}
    chosen = _simulate(bandit, rates, [f"c{i}" for i in range(50)], 2000, seed=1)
    late = chosen[-500:]
    assert late.count(EMAIL_9) / len(late) > 0.7, "the best arm is taken most of the time once learned"
    assert set(chosen) == set(rates), "every arm was explored"


def test_a_new_customer_starts_from_the_population_and_an_individual_overrides_it() -> None:
    bandit = NudgeBandit(ARMS, prior_strength=20)
    for n in range(400):  # the population: email at 9 works, push at 18 does not
        bandit.update(f"p{n}", EMAIL_9, 1.0 if n % 2 else 0.0)
        bandit.update(f"p{n}", PUSH_18, 0.0)
    rng = np.random.default_rng(2)
    newcomer = bandit.probabilities(NudgeContext("new"), rng)
    assert newcomer[bandit.index[EMAIL_9]] > newcomer[bandit.index[PUSH_18]]
    for _ in range(30):  # this customer answers push at 18 and never email
        bandit.update("odd", PUSH_18, 1.0)
        bandit.update("odd", EMAIL_9, 0.0)
    own = bandit.probabilities(NudgeContext("odd"), rng)
    assert own[bandit.index[PUSH_18]] > 10 * own[bandit.index[EMAIL_9]], "own evidence outweighs the capped prior"
    alpha, beta = bandit.posterior("odd")
    i = bandit.index[EMAIL_9]
    assert (alpha[i], beta[i]) == pytest.approx((1 + 10, 1 + 10 + 30)), "population prior capped at 20 outcomes"


def test_propensities_are_a_distribution_with_a_floor_and_respect_channels() -> None:
    bandit = NudgeBandit(ARMS, explore=0.05)
    for _ in range(200):
        bandit.update("c", EMAIL_9, 1.0)
    rng = np.random.default_rng(3)
    p = bandit.probabilities(NudgeContext("c"), rng)
    assert p.sum() == pytest.approx(1.0) and p.min() >= 0.05 - 1e-12
    only_push = bandit.choose(NudgeContext("c", channels=("push",)), rng)
    assert only_push.arm.channel == "push" and only_push.probabilities[bandit.index[EMAIL_9]] == 0.0
    assert only_push.propensity == pytest.approx(only_push.probabilities[bandit.index[only_push.arm.key]])
    with pytest.raises(InvalidInput, match="fax"):
        bandit.choose(NudgeContext("c", channels=("fax",)), rng)
    with pytest.raises(InvalidInput, match="nudge\\|channel\\|hour"):
        Arm.parse("push-9")


def test_logged_propensities_are_the_sampling_frequencies() -> None:
    bandit = NudgeBandit(ARMS, draws=4000)
    bandit.update("c", EMAIL_9, 1.0)
    bandit.update("c", PUSH_9, 0.0)
    p = bandit.probabilities(NudgeContext("c"), np.random.default_rng(4))
    rng = np.random.default_rng(5)
    counts = np.bincount(
        [bandit.index[bandit.choose(NudgeContext("c"), rng).arm.key] for _ in range(3000)], minlength=4
    )
    assert np.abs(counts / 3000 - p).max() < 0.05


def test_vectorised_update_and_choice_match_the_loop() -> None:
    one, many = NudgeBandit(ARMS), NudgeBandit(ARMS)
    ids, arms, rewards = ["a", "b", "a", "c"], np.array([0, 2, 2, 3]), np.array([1.0, 0.0, 1.0, 1.0])
    for cid, i, r in zip(ids, arms, rewards, strict=True):
        one.update(cid, ARMS[i], r)
    many.update_many(ids, arms, rewards)
    assert sorted(one.rows()) == sorted(many.rows())
    picks = many.choose_many(["a", "b", "zz"], np.random.default_rng(6))
    assert picks.shape == (3,) and set(picks.tolist()) <= set(range(4))


def test_state_round_trips_through_the_store_and_rewards_add_up(store: Store) -> None:
    bandit = NudgeBandit(ARMS)
    bandit.fit([("c1", EMAIL_9, 1.0), ("c1", PUSH_9, 0.0), ("c2", EMAIL_9, 0.0)])
    assert save_bandit(store.engine, bandit, NOW) == 2 + 2 + 1, "population: 2 arms; c1: 2; c2: 1"
    loaded = load_bandit(store.engine, arms=ARMS)
    assert sorted(loaded.rows()) == sorted(bandit.rows())
    add_reward(store.engine, "c2", EMAIL_9, 1.0, NOW)
    add_reward(store.engine, "c3", PUSH_18, 0.0, NOW)
    one = load_bandit(store.engine, "c2", arms=ARMS)
    assert set(one.customers) == {"c2"}, "one customer's load reads only the population and theirs"
    assert one.population[one.index[EMAIL_9]].tolist() == [2.0, 1.0]
    assert one.customers["c2"][one.index[EMAIL_9]].tolist() == [1.0, 1.0]
    assert save_bandit(store.engine, NudgeBandit(ARMS), NOW) == 0 and not load_bandit(store.engine).has_data()
