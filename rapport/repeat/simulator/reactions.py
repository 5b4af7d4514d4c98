"""How a simulated customer reacts to what Rapport does: sees it or not, accepts, ignores, cancels, complains, churns.

The numbers are the world's parameters, the same for every policy. A contact is *unwanted* when the customer's
preference at that moment does not ask for that kind of contact (someone who chooses for themselves wants no
nudge; someone who wants reminders wants no automatic order), or when its need was already met. Unwanted contacts
beyond the customer's monthly tolerance make complaints and churn far likelier.
"""

from __future__ import annotations

from collections import deque

from rapport.repeat.simulator.population import CHANNELS, SITUATION_SHIFT, Population
from rapport.repeat.simulator.streams import CustomerStreams

# Which contacts each preferred level wants (i_choose, show_me_options, remind_me, do_it_for_me).
WANTS: tuple[frozenset[str], ...] = (
    frozenset(),
    frozenset({"offer"}),
    frozenset({"nudge", "offer"}),
    frozenset({"notice", "nudge"}),
)
# Probability of acting on a seen, timely contact: wanted, and not wanted (it still reminds some people).
ACCEPT_WANTED = {"nudge": 0.8, "offer": 0.8}
ACCEPT_UNWANTED = 0.2
SEEN_ON_THEIR_CHANNEL, SEEN_ELSEWHERE = 0.85, 0.45
OFF_HOURS = 0.6  # a contact outside the hours they read messages is seen this much less often
CANCEL_UNWANTED, CANCEL_WANTED = 0.9, 0.03  # an automatic order's notice, seen
# Buying on one's own, once they set out to: with the one-click reorder shown, with anything else shown, unaided.
BUY_ONE_CLICK, BUY_SHOWN, BUY_UNAIDED = 0.97, 0.95, 0.9
COMPLAIN = (0.03, 0.25)  # per unwanted contact: within tolerance, beyond it
CHURN = (0.003, 0.04)
CHURN_MISSED = 0.01  # a need not met on time sends some customers to a rival for good
COMPLAIN_UNWANTED_ORDER = 0.3  # an automatic order that ran though they did not want it
WINDOW_EARLY, WINDOW_LATE = 7.0, 2.0  # a need is met on time if bought from 7 days before to 2 days after it is due
MONTH = 30.0


class Reactions:
    """Draws one customer's reactions from that customer's own stream (``rapport.repeat.simulator.streams``, so a
    run sharded over processes replays the run in one); keeps each customer's recent unwanted contacts."""

    def __init__(self, population: Population, seed: int) -> None:
        self.population = population
        self.streams = CustomerStreams(seed, 1)
        # The traits read on every reaction, as lists (a numpy element read costs several times a list's).
        self._channel = [CHANNELS[k] for k in population.channel.tolist()]
        self._evening: list[bool] = population.evening.tolist()
        self._tolerance: list[int] = population.tolerance_per_month.tolist()
        self._reliance: list[list[float]] = population.self_reliance.tolist()
        self.unwanted: dict[int, deque[float]] = {}

    def chance(self, i: int, p: float) -> bool:
        return self.streams.random(i) < p

    def seen(self, i: int, channel: str, local_hour: int) -> bool:
        p = SEEN_ON_THEIR_CHANNEL if self._channel[i] == channel else SEEN_ELSEWHERE
        reading = 17 <= local_hour < 22 if self._evening[i] else 7 <= local_hour < 12
        return self.chance(i, p if reading else p * OFF_HOURS)

    def accepts(self, i: int, kind: str, wanted: bool) -> bool:
        return self.chance(i, ACCEPT_WANTED.get(kind, 0.0) if wanted else ACCEPT_UNWANTED)

    def cancels(self, i: int, wanted: bool) -> bool:
        return self.chance(i, CANCEL_WANTED if wanted else CANCEL_UNWANTED)

    def annoyed(self, i: int, day: float) -> tuple[bool, bool]:
        """An unwanted contact reached customer ``i`` on ``day``: (complains, churns)."""
        log = self.unwanted.setdefault(i, deque())
        log.append(day)
        while log and log[0] < day - MONTH:
            log.popleft()
        over = int(len(log) > self._tolerance[i])
        return self.chance(i, COMPLAIN[over]), self.chance(i, CHURN[over])

    def attempts(self, i: int, level: int) -> bool:
        """Does the customer set out to buy by themselves when the need is due?"""
        return self.chance(i, self._reliance[i][level])

    def buys(self, i: int, shown: str | None) -> bool:
        if shown == "one_click_reorder":
            return self.chance(i, BUY_ONE_CLICK)
        return self.chance(i, BUY_SHOWN if shown else BUY_UNAIDED)

    def situation(self, i: int, level: int, mandate: bool) -> int:
        """The situation of one need may move the preference one step (more help in a busy week, less otherwise)."""
        if not self.chance(i, SITUATION_SHIFT):
            return level
        moved = level + (1 if self.chance(i, 0.5) else -1)
        top = 3 if mandate else 2
        return min(max(moved, 0), top)
