"""Random identifiers for the rows Rapport creates on every decision (decisions, outbox actions, orders)."""

from __future__ import annotations

import os

# The bits uuid.UUID(version=4) clears and sets: the variant (RFC 4122) and the version nibble.
_CLEAR = 0xC000 << 48 | 0xF000 << 64
_SET = 0x8000 << 48 | 0x4000 << 64


def uuid4_hex() -> str:
    """``uuid.uuid4().hex``, without building the UUID object (half the cost, on the decision's hot path)."""
    n = int.from_bytes(os.urandom(16), "big") & ~_CLEAR | _SET
    return f"{n:032x}"
