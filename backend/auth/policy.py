"""Password policy (OWASP ASVS V2.1): 8 to 128 characters, not common, not the account's own
email name or national ID. No composition rules."""

from __future__ import annotations

from functools import cache
from pathlib import Path

MIN_LENGTH = 8
MAX_LENGTH = 128
COMMON_PASSWORDS_FILE = Path(__file__).parent.parent / "data" / "common-passwords.txt"


@cache
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS_FILE.read_text().splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


def is_common(password: str) -> bool:
    return password.lower() in common_passwords()


def personal_problem(password: str, *, email: str | None, nid: str | None) -> str | None:
    """Why `password` is too close to the account's own identifiers, if it is."""
    lowered = password.lower()
    local_part = (email or "").split("@", 1)[0].lower()
    if len(local_part) >= 3 and local_part in lowered:
        return "The password must not contain the name part of your email address."
    if nid and nid in password:
        return "The password must not contain your national ID."
    return None
