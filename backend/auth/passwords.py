"""Password hashing with argon2id at (at least) OWASP's parameters, upgraded at sign-in."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

# OWASP Password Storage Cheat Sheet: argon2id, 19 MiB, 2 iterations, 1 degree of parallelism.
HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1, type=Type.ID)


def hash_password(password: str) -> str:
    return HASHER.hash(password)


@cache
def _dummy_hash() -> str:
    return HASHER.hash("not-a-real-password: equalises sign-in timing for unknown accounts")


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches; costs one hash verification even when there is no account."""
    try:
        return HASHER.verify(password_hash or _dummy_hash(), password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the stored hash was made with weaker parameters than today's."""
    return HASHER.check_needs_rehash(password_hash)
