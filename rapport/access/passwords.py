"""Staff passwords, hashed with Argon2id (argon2-cffi's RFC 9106 low-memory profile)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from rapport.errors import InvalidInput

MIN_LENGTH = 12
MAX_LENGTH = 200
_HASHER = PasswordHasher()
# Checked against when the e-mail is unknown, so that an unknown account costs as long as a wrong password.
_DUMMY = _HASHER.hash("rapport-no-such-account")


def hash_password(password: str) -> str:
    """The Argon2id hash of a new password; refuses one that is too short or too long."""
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise InvalidInput(
            f"A password needs {MIN_LENGTH} to {MAX_LENGTH} characters; this one has {len(password)}. "
            "A few words in a row make a good one."
        )
    return _HASHER.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored_hash`` (None: no password set yet, still costs a verification)."""
    try:
        return _HASHER.verify(stored_hash or _DUMMY, password[:MAX_LENGTH]) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False
