"""Which nudge, on which channel, at what hour: a hierarchical Thompson-sampling bandit over nudge arms.

An arm is (nudge style, channel, local send hour). Each arm's reward is Bernoulli (the nudge was accepted or led to a
purchase: 1; dismissed, ignored, cancelled or complained about: 0). Strength is shared across customers through a
population prior and each customer adapts it with their own counts:

    prior(arm)         = Beta(1 + s_pop·w, 1 + f_pop·w),  w = min(1, prior_strength / (s_pop + f_pop))
    posterior(c, arm)  = Beta(prior.alpha + s_c, prior.beta + f_c)

where (s_pop, f_pop) are the population's counts *without* the customer's own, so a customer's evidence is never
counted twice, and ``prior_strength`` caps how many of the population's outcomes the prior is worth (a customer's
own dozen outcomes can outweigh a million others'). This is empirical-Bayes shrinkage of a Beta-Bernoulli model:
per-customer estimates are pulled towards the population's rate, less so the more the customer has shown.

``choose`` turns Thompson sampling into an explicit distribution so that every decision can log the exact
probability of the arm it took (what off-policy evaluation needs): the probability that each arm wins a posterior
draw, P(arm i wins) = ∫ f_i(x) Π_{j≠i} F_j(x) dx over the independent Beta posteriors, is computed by quadrature on
a fixed grid of ``GRID`` points in (0, 1) (each posterior discretised to its mass per cell, ties within a cell
split evenly; off by about 0.001 from a 200,000-draw Monte Carlo, where 64 draws are off by about 0.06), mixed with
a floor (``explore``: every allowed arm keeps at least that share, so logs support any other policy), and the arm
is sampled from that mixture. ``propensity`` is that mixture's probability of the chosen arm. Sampling an arm from
the exact win probabilities *is* Thompson sampling (it picks each arm with the probability one posterior draw
would); ``draws > 0`` estimates them from that many joint draws instead, as before.

Why hand-written rather than a library: mabwiser's ThompsonSampling keeps one Beta per arm (or per
learning-policy-neighbourhood) and has no population prior shrunk into per-customer counts; vowpalwabbit's
``--cb_explore_adf`` learns a shared linear model with epsilon/softmax/bag exploration, not Thompson sampling with
per-customer posteriors, and pays a process-wide model for what is here two counts per arm. The model is a handful
of numpy lines, O(arms·GRID) per decision, with no store round trip once the state is in memory.

Public API (the simulator's "learned policy" uses it in memory; Decide loads it from the store):

- ``Arm(nudge, channel, hour)``, ``Arm.key`` ("reminder|push|09"), ``Arm.parse(key)``;
  ``default_arms(channels=CHANNELS, nudges=NUDGES, hours=HOURS)``.
- ``NudgeContext(customer_id, channels=None)``: ``channels`` restricts the arms to those channels (consent).
- ``NudgeBandit(arms=default_arms(), prior_strength=20.0, explore=0.02, draws=0)``:
  ``choose(context, rng) -> Choice(arm, propensity, probabilities)``; ``choose_at(context, u)`` with a uniform
  ``u`` in [0, 1) (Decide derives it from the decision id, so a decision replays);
  ``probabilities(context, rng) -> np.ndarray`` (over ``arms``, zero for arms not allowed);
  ``update(customer_id, arm_or_key, reward)``; ``fit(records)`` with records (customer_id, arm key, reward);
  ``update_many(customer_ids, arm_indices, rewards)`` and ``choose_many(customer_ids, rng)`` (one Thompson draw
  per row, vectorised, for the simulator: returns arm indices);
  ``has_data(customer_id=None)``; ``posterior(customer_id) -> (alpha, beta)`` arrays; ``rows()`` /
  ``NudgeBandit.from_rows(rows, ...)`` with rows (customer_id or "*" for the population, arm key, successes,
  failures).
- ``REWARD``: outcome → reward. Store: ``rapport.store.bandit.save_bandit / load_bandit / add_reward``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rapport.errors import InvalidInput

NAME = "nudge"
GRID = 128  # quadrature points for the win probabilities
_X = (np.arange(GRID) + 0.5) / GRID
_LOG_X, _LOG_1MX = np.log(_X), np.log1p(-_X)
POPULATION = "*"
NUDGES: tuple[str, ...] = ("reminder", "one_click")
CHANNELS: tuple[str, ...] = ("push", "email", "sms", "app")
HOURS: tuple[int, ...] = (9, 13, 18)
REWARD: dict[str, float] = {
    "accepted": 1.0,
    "converted": 1.0,
    "dismissed": 0.0,
    "ignored": 0.0,
    "cancelled": 0.0,
    "complained": 0.0,
}


@dataclass(frozen=True)
class Arm:
    """One way to nudge: the message style, the channel and the hour (customer's local time) it is sent at."""

    nudge: str
    channel: str
    hour: int

    @property
    def key(self) -> str:
        return f"{self.nudge}|{self.channel}|{self.hour:02d}"

    @classmethod
    def parse(cls, key: str) -> Arm:
        parts = key.split("|") if isinstance(key, str) else []
        if len(parts) != 3 or not parts[2].isdigit() or not 0 <= int(parts[2]) < 24:
            raise InvalidInput(f"Bandit arm {key!r} is not 'nudge|channel|hour' (e.g. 'reminder|push|09').")
        return cls(parts[0], parts[1], int(parts[2]))

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "nudge": self.nudge, "channel": self.channel, "hour": self.hour}


def default_arms(
    channels: Sequence[str] = CHANNELS, nudges: Sequence[str] = NUDGES, hours: Sequence[int] = HOURS
) -> tuple[Arm, ...]:
    return tuple(Arm(n, c, h) for n in nudges for c in channels for h in hours)


@dataclass(frozen=True)
class NudgeContext:
    """Who is nudged and which channels may be used (the consented ones; None: every channel of the arms)."""

    customer_id: str
    channels: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Choice:
    """The arm taken, the probability it had of being taken, and the whole distribution it was drawn from."""

    arm: Arm
    propensity: float
    probabilities: np.ndarray = field(repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {**self.arm.to_dict(), "propensity": round(float(self.propensity), 6)}


class NudgeBandit:
    """Counts per arm for the population and for each customer; pure and in memory (see the module docstring)."""

    def __init__(
        self,
        arms: Sequence[Arm] | None = None,
        *,
        prior_strength: float = 20.0,
        explore: float = 0.02,
        draws: int = 0,
    ) -> None:
        self.arms: tuple[Arm, ...] = tuple(arms) if arms is not None else default_arms()
        if not self.arms:
            raise InvalidInput("A bandit needs at least one arm.")
        if not 0 <= explore * len(self.arms) <= 1:
            raise InvalidInput(f"explore={explore} times {len(self.arms)} arms must lie in [0, 1].")
        self.index = {arm.key: i for i, arm in enumerate(self.arms)}
        self.prior_strength, self.explore, self.draws = float(prior_strength), float(explore), int(draws)
        self.population = np.zeros((len(self.arms), 2))  # successes, failures
        self.customers: dict[str, np.ndarray] = {}
        self._masks: dict[tuple[str, ...] | None, np.ndarray] = {}  # arms allowed per set of consented channels
        self._learned = False  # any outcome at all (has_data without summing the counts each decision)

    # ----- learning -------------------------------------------------------------------------------------------
    def arm_index(self, arm: Arm | str) -> int:
        key = arm.key if isinstance(arm, Arm) else arm
        if key not in self.index:
            raise InvalidInput(f"Bandit arm {key!r} is not one of this bandit's {len(self.arms)} arms.")
        return self.index[key]

    def update(self, customer_id: str, arm: Arm | str, reward: float) -> None:
        """Add one outcome (reward in [0, 1]) to the customer's and the population's counts."""
        if not 0.0 <= reward <= 1.0:
            raise InvalidInput(f"Reward {reward!r} must lie in [0, 1].")
        i = self.arm_index(arm)
        own = self.customers.setdefault(customer_id, np.zeros((len(self.arms), 2)))
        for counts in (own, self.population):
            counts[i, 0] += reward
            counts[i, 1] += 1.0 - reward
        self._learned = True

    def update_many(self, customer_ids: Sequence[str], arm_indices: np.ndarray, rewards: np.ndarray) -> None:
        """:meth:`update` for many outcomes at once."""
        arm_indices, rewards = np.asarray(arm_indices, dtype=int), np.asarray(rewards, dtype=float)
        np.add.at(self.population[:, 0], arm_indices, rewards)
        np.add.at(self.population[:, 1], arm_indices, 1.0 - rewards)
        self._learned = self._learned or len(arm_indices) > 0
        for cid, i, r in zip(customer_ids, arm_indices.tolist(), rewards.tolist(), strict=True):
            own = self.customers.setdefault(cid, np.zeros((len(self.arms), 2)))
            own[i, 0] += r
            own[i, 1] += 1.0 - r

    def fit(self, records: Iterable[tuple[str, str, float]]) -> NudgeBandit:
        """Forget everything and learn from (customer_id, arm key, reward) records; returns self."""
        self.population[:] = 0.0
        self.customers.clear()
        for customer_id, key, reward in records:
            self.update(customer_id, key, reward)
        return self

    def has_data(self, customer_id: str | None = None) -> bool:
        """Whether any outcome has been learned (from anyone, or from ``customer_id``)."""
        if customer_id is None:
            return self._learned or bool(self.population.sum() > 0)
        own = self.customers.get(customer_id)
        return own is not None and bool(own.sum() > 0)

    def uniform(self, decision_id: str, customer_id: str | None = None) -> float:
        """The decision's own uniform in [0, 1) for a draw outside the arms (exploring a level): replayable.
        ``customer_id`` lets a store that seeds draws per customer (the simulator) use its own stream."""
        digits = decision_id[:13]
        try:
            return int(digits, 16) / 16**13 if len(digits) == 13 else float(np.random.default_rng().random())
        except ValueError:
            return float(np.random.default_rng().random())

    # ----- the model ------------------------------------------------------------------------------------------
    def posterior(self, customer_id: str) -> tuple[np.ndarray, np.ndarray]:
        """Beta parameters (alpha, beta) per arm for ``customer_id``: the shrunk population prior plus their own."""
        own = self.customers.get(customer_id)
        others = self._others(customer_id, own)
        weight = np.minimum(1.0, self.prior_strength / np.maximum(others.sum(axis=1), 1e-12))
        alpha, beta = 1.0 + others[:, 0] * weight, 1.0 + others[:, 1] * weight
        if own is not None:
            alpha += own[:, 0]
            beta += own[:, 1]
        return alpha, beta

    def _others(self, customer_id: str, own: np.ndarray | None) -> np.ndarray:
        """The population's counts without the customer's own (so their evidence is not counted twice)."""
        return self.population if own is None else np.clip(self.population - own, 0.0, None)

    def _posteriors(self, own: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(alpha, beta), each (customers, arms), from the customers' own counts (customers, arms, 2)."""
        others = np.clip(self.population[None] - own, 0.0, None)
        total = others.sum(axis=2)
        weight = np.minimum(1.0, self.prior_strength / np.maximum(total, 1e-12))
        alpha = 1.0 + others[..., 0] * weight + own[..., 0]
        beta = 1.0 + others[..., 1] * weight + own[..., 1]
        return alpha, beta

    def allowed(self, channels: Sequence[str] | None) -> np.ndarray:
        key = None if channels is None else tuple(channels)
        mask = self._masks.get(key)
        if mask is None:
            mask = np.ones(len(self.arms), dtype=bool)
            if key is not None:
                mask = np.array([arm.channel in key for arm in self.arms])
            mask.setflags(write=False)
            self._masks[key] = mask
        return mask

    def probabilities(self, context: NudgeContext, rng: np.random.Generator | None = None) -> np.ndarray:
        """The distribution :meth:`choose` samples from: Thompson win shares mixed with the exploration floor
        (``rng`` is only used when ``draws > 0``)."""
        mask = self.allowed(context.channels)
        n = int(mask.sum())
        if n == 0:
            raise InvalidInput(f"No bandit arm uses any of the channels {context.channels!r}.")
        alpha, beta = self.posterior(context.customer_id)
        if self.draws > 0:
            if rng is None:
                raise InvalidInput("A bandit estimating win shares from posterior draws needs a random generator.")
            draws = rng.beta(alpha[mask], beta[mask], size=(self.draws, n))
            wins = np.bincount(draws.argmax(axis=1), minlength=n) / self.draws
        else:
            wins = win_probabilities(alpha[mask], beta[mask])
        floor = min(self.explore, 1.0 / n)
        shares = (1.0 - floor * n) * wins + floor
        probabilities = np.zeros(len(self.arms))
        probabilities[mask] = shares / shares.sum()
        return probabilities

    def choose(self, context: NudgeContext, rng: np.random.Generator) -> Choice:
        """Sample an arm for the context; the choice carries its propensity (its probability of being chosen)."""
        probabilities = self.probabilities(context, rng)
        return self._pick(probabilities, float(rng.random()))

    def choose_at(self, context: NudgeContext, u: float) -> Choice:
        """:meth:`choose` with the uniform ``u`` in [0, 1) that picks the arm (exact win shares, no draws)."""
        return self._pick(self.probabilities(context), u)

    def _pick(self, probabilities: np.ndarray, u: float) -> Choice:
        cumulative = np.cumsum(probabilities)
        i = min(int(np.searchsorted(cumulative, u * cumulative[-1], side="right")), len(self.arms) - 1)
        while probabilities[i] == 0.0:  # u at the very top edge: the last arm with any probability
            i -= 1
        return Choice(self.arms[i], float(probabilities[i]), probabilities)

    def choose_many(self, customer_ids: Sequence[str], rng: np.random.Generator) -> np.ndarray:
        """One plain Thompson draw per customer, vectorised (no propensities): the arm index for each."""
        none = np.zeros((len(self.arms), 2))
        own = np.stack([self.customers.get(cid, none) for cid in customer_ids]) if len(customer_ids) else none[None, :0]
        alphas, betas = self._posteriors(own)
        return np.asarray(rng.beta(alphas, betas).argmax(axis=1))

    # ----- state ----------------------------------------------------------------------------------------------
    def rows(self) -> list[tuple[str, str, float, float]]:
        """(customer_id, or "*" for the population; arm key; successes; failures) for every non-zero count."""
        found = [(POPULATION, *row) for row in self._rows_of(self.population)]
        for cid, counts in self.customers.items():
            found.extend((cid, *row) for row in self._rows_of(counts))
        return found

    def _rows_of(self, counts: np.ndarray) -> list[tuple[str, float, float]]:
        return [(arm.key, float(s), float(f)) for arm, (s, f) in zip(self.arms, counts, strict=True) if s or f]

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[str, str, float, float]], **options: Any) -> NudgeBandit:
        """A bandit with the stored counts (rows of arms it does not know are skipped: arms may be retired)."""
        bandit = cls(**options)
        for customer_id, key, successes, failures in rows:
            i = bandit.index.get(key)
            if i is None:
                continue
            if customer_id == POPULATION:
                counts = bandit.population
            else:
                counts = bandit.customers.setdefault(customer_id, np.zeros((len(bandit.arms), 2)))
            counts[i] += (successes, failures)
        return bandit


def win_probabilities(alpha: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """P(arm i's draw is the largest) for independent Beta(alpha_i, beta_i), by quadrature on ``GRID`` cells.

    Each posterior becomes its mass per cell (the density at the cell's midpoint, normalised); arm i wins in a cell
    when every other arm's draw lies below it: Π_{j≠i} (F_j(cell) - w_j(cell)/2), a tie inside the cell split
    evenly. The products over the other arms are prefix and suffix products, so no division by a tiny F.
    """
    w, below = _cells(alpha, beta)
    others = np.empty_like(below)
    others[0] = 1.0
    if len(alpha) > 1:
        np.cumprod(below[:-1], axis=0, out=others[1:])
        suffix = np.empty_like(below)
        suffix[-1] = 1.0
        np.cumprod(below[:0:-1], axis=0, out=suffix[-2::-1])
        others *= suffix
    p = np.einsum("ij,ij->i", w, others)
    return p / p.sum()


# A posterior's cells (mass per cell, and the mass below each cell's middle), by its (alpha, beta): arms the
# customer has no outcomes on share the population's posterior, so most rows of a decision were computed before.
_CELLS: dict[tuple[float, float], tuple[np.ndarray, np.ndarray]] = {}
CELLS_KEPT = 20_000  # about 40 MB at most


def _cells(alpha: np.ndarray, beta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    keys = list(zip(alpha.tolist(), beta.tolist(), strict=True))
    found = {key: _CELLS.get(key) for key in keys}
    missing = [key for key, cells in found.items() if cells is None]
    if missing:
        a, b = np.array([k[0] for k in missing]), np.array([k[1] for k in missing])
        log_w = np.multiply.outer(a - 1.0, _LOG_X)
        log_w += np.multiply.outer(b - 1.0, _LOG_1MX)
        log_w -= log_w.max(axis=1, keepdims=True)
        w = np.exp(log_w)
        w /= w.sum(axis=1, keepdims=True)
        below = np.cumsum(w, axis=1)
        below -= 0.5 * w
        if len(_CELLS) + len(missing) > CELLS_KEPT:
            _CELLS.clear()
        for j, key in enumerate(missing):
            found[key] = _CELLS[key] = (w[j], below[j])
    rows = [found[key] for key in keys]
    return np.array([row[0] for row in rows]), np.array([row[1] for row in rows])
