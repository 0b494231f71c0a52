"""Password hashing with argon2id at (at least) OWASP's parameters, upgraded at sign-in."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

# OWASP Password Storage Cheat Sheet: argon2id, 19 MiB, 2 iterations, 1 degree of parallelism.
HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1, type=Type.ID)
# APP_ENV=testing only (PASSWORD_HASHING = "testing"): the same argon2id at its lowest cost, so
# the test suite does not spend a third of its time hashing the passwords of throwaway accounts.
HASHERS = {
    "owasp": HASHER,
    "testing": PasswordHasher(time_cost=1, memory_cost=8, parallelism=1, type=Type.ID),
}


def _hasher() -> PasswordHasher:
    return HASHERS[current_app.config["PASSWORD_HASHING"]]


def hash_password(password: str) -> str:
    return _hasher().hash(password)


@cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    return hasher.hash("not-a-real-password: equalises sign-in timing for unknown accounts")


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches; costs one hash verification even when there is no account."""
    hasher = _hasher()
    try:
        return hasher.verify(password_hash or _dummy_hash(hasher), password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the stored hash was made with other parameters than today's."""
    return _hasher().check_needs_rehash(password_hash)
