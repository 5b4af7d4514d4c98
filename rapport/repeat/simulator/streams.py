"""One random stream per simulated customer, so a customer's draws never depend on anyone else's events.

With one shared stream, a customer's reactions depend on the order in which every other customer's events were
drawn, so a run split over processes (customers sharded) could not replay the run in one process. Each customer
here has a splitmix64 counter of their own (Steele, Lea and Flood 2014: a 64-bit state advanced by a fixed odd
increment, each output a strong mix of the state), seeded from the run's seed, the stream's purpose and the
customer's index; the ``k``-th draw of customer ``i`` is the same whichever process runs them and whatever else
happens in the run.
"""

from __future__ import annotations

_MASK = (1 << 64) - 1
_GAMMA = 0x9E3779B97F4A7C15
_SCALE = 2.0**-53


def _mix(z: int) -> int:
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


class CustomerStreams:
    """``random(i)``: the next uniform in [0, 1) of customer ``i``'s own stream."""

    def __init__(self, seed: int, purpose: int) -> None:
        self._base = _mix((seed * 0x100000001B3 + purpose * _GAMMA) & _MASK)
        self._state: dict[int, int] = {}

    def random(self, i: int) -> float:
        state = self._state
        s = state.get(i)
        if s is None:
            s = _mix((self._base + i * 0xD1B54A32D192ED03) & _MASK)
        s = state[i] = (s + _GAMMA) & _MASK
        z = ((s ^ (s >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
        return ((z ^ (z >> 31)) >> 11) * _SCALE
