"""Token buckets: a rate per key or per address, kept in this process (one bucket set per running app).

Several processes behind one address each keep their own buckets, so the limit a client meets is the rate times
the number of processes; a shared limiter (Redis) would be the step for a fleet.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field

from rapport.errors import TooManyRequests


@dataclass
class TokenBucket:
    """``rate`` tokens a second, up to ``burst``; 0 ``rate`` means no limit."""

    rate: float
    burst: float
    what: str
    _levels: dict[str, tuple[float, float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, who: str, now: float, cost: float = 1.0) -> None:
        """Spend ``cost`` tokens of ``who``'s bucket, or raise TooManyRequests with the wait until there are."""
        if self.rate <= 0:
            return
        with self._lock:
            level, last = self._levels.get(who, (self.burst, now))
            level = min(self.burst, level + (now - last) * self.rate)
            if level < cost:
                self._levels[who] = (level, now)
                wait = math.ceil((cost - level) / self.rate)
                raise TooManyRequests(
                    f"Too many {self.what} from {who}: the limit is {self.rate:g} a second "
                    f"(bursts of {self.burst:g}). Retry after {wait} s.",
                    wait,
                )
            self._levels[who] = (level - cost, now)
            if len(self._levels) > 100_000:  # forget the fullest buckets: they are the ones nobody uses
                self._levels = dict(sorted(self._levels.items(), key=lambda kv: kv[1][0])[:50_000])
