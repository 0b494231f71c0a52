"""Verifying our access tokens: PyJWT checks the JWS, then every claim must have its exact type.

PyJWT alone is looser than we need: it accepts `=` padding, and its claim checks take any
number (an `exp` of 1e309 overflows it) and any `sub`. So a token must first be three canonical
base64url segments, and after PyJWT has checked the header and signature, each claim is checked
for the exact shape Flask-JWT-Extended issues. Anything else is an InvalidTokenError.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from functools import lru_cache
from types import MappingProxyType

from jwt import DecodeError, ExpiredSignatureError, ImmatureSignatureError
from jwt.algorithms import HMACAlgorithm
from jwt.api_jws import PyJWS
from jwt.exceptions import InvalidKeyError

ALGORITHM = "HS256"
MAX_USER_ID = 2**31 - 1  # PostgreSQL's integer
MAX_JTI_LENGTH = 64  # Flask-JWT-Extended's are UUIDs (36 characters)
# Canonical base64url without padding: whole groups of four, then two or three characters
# whose unused low bits are zero. Exactly the texts that re-encoding their bytes gives back,
# so a signature with changed trailing bits, `+/`, `=` or inserted junk does not match.
_B64 = r"[A-Za-z0-9_-]"
SEGMENT = rf"(?:{_B64}{{4}})*(?:{_B64}[AQgw]|{_B64}{{2}}[AEIMQUYcgkosw048])?"
COMPACT_JWS = re.compile(rf"{SEGMENT}\.{SEGMENT}\.{SEGMENT}")
SUBJECT = re.compile(r"[1-9][0-9]{0,9}")  # a decimal user id: no sign, spaces or leading zeros


class PreparedHS256(HMACAlgorithm):
    """HS256 for one secret, whose checks (not empty, not an asymmetric key) ran once.

    PyJWT prepares the key on every call, and for HMAC that costs about as much as the rest of
    the verification (it tries to parse the secret as PEM, DER and JSON).
    """

    def __init__(self, secret: bytes):
        super().__init__(HMACAlgorithm.SHA256)
        self.secret = super().prepare_key(secret)

    def prepare_key(self, key: str | bytes) -> bytes:
        if key is not self.secret:
            raise InvalidKeyError("This algorithm verifies with the app's own secret only.")
        return key


def _not_a_number(constant: str):
    raise ValueError(f"{constant} is not a number")


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"{text} is out of range")
    return number


def _integer(claims: dict, name: str) -> None:
    if type(claims.get(name)) is not int:  # not a float, not a bool
        raise DecodeError(f"The token's {name} is not an integer.")


class AccessTokenVerifier:
    """Checks access tokens signed with one secret; `verify` is the one entry point.

    A client presents the same token on every request for its lifetime, so the checks that do
    not depend on the time run once per token and process (an LRU of the last few thousand
    tokens that passed); expiry and not-before are checked on every call. Whether the token's
    session is still live is never cached: the caller lookup reads it on every request.
    """

    def __init__(self, secret: bytes, remembered: int = 2048):
        self.algorithm = PreparedHS256(secret)
        self.jws = PyJWS(algorithms=[])
        self.jws.register_algorithm(ALGORITHM, self.algorithm)
        self._checked = lru_cache(maxsize=remembered)(self._check)

    def verify(self, token: str, now: float) -> Mapping:
        """The claims of a valid, unexpired access token at time `now` (a POSIX timestamp)."""
        claims = self._checked(token)
        if now >= claims["exp"]:
            raise ExpiredSignatureError("The token has expired.")
        if now < claims.get("nbf", now):
            raise ImmatureSignatureError("The token is not yet valid.")
        return claims

    def _check(self, token: str) -> Mapping:
        """The claims of a well-formed access token with our signature, whatever the time."""
        if not COMPACT_JWS.fullmatch(token):
            raise DecodeError("The token is not three canonical base64url segments.")
        decoded = self.jws.decode_complete(token, self.algorithm.secret, algorithms=[ALGORITHM])
        try:
            claims = json.loads(
                decoded["payload"], parse_constant=_not_a_number, parse_float=_finite
            )
        except (ValueError, RecursionError) as error:
            raise DecodeError("The token's claims are not valid JSON.") from error
        if not isinstance(claims, dict) or claims.get("type") != "access":
            raise DecodeError("The token is not an access token.")
        subject, jti = claims.get("sub"), claims.get("jti")
        if not (isinstance(subject, str) and SUBJECT.fullmatch(subject)):
            raise DecodeError("The token's subject is not a user id.")
        if int(subject) > MAX_USER_ID:
            raise DecodeError("The token's subject is not a user id.")
        if not (isinstance(jti, str) and 0 < len(jti) <= MAX_JTI_LENGTH):
            raise DecodeError("The token's jti is not a short string.")
        for name in ("ver", "iat", "exp", *(("nbf",) if "nbf" in claims else ())):
            _integer(claims, name)
        return MappingProxyType(claims)  # shared by every request presenting this token
