"""Access tokens: issued with Flask-JWT-Extended, read from the Authorization header only."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from datetime import timedelta
from functools import lru_cache

from flask import current_app, g, request
from flask_jwt_extended import create_access_token
from flask_smorest import abort
from jwt import (
    DecodeError,
    ExpiredSignatureError,
    ImmatureSignatureError,
    InvalidAlgorithmError,
    InvalidSignatureError,
    InvalidTokenError,
)
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.util import identity_key

from backend.auth.lookups import CALLER_COLUMNS, look_up_caller
from backend.extensions import db
from backend.models import User

MAX_AUTHORIZATION_HEADER = 8 * 1024


def issue_access_token(user_id: int, token_version: int) -> tuple[str, int]:
    """A signed bearer token for the account and its lifetime in seconds."""
    lifetime = timedelta(minutes=current_app.config["ACCESS_TOKEN_MINUTES"])
    token = create_access_token(
        identity=str(user_id),
        expires_delta=lifetime,
        additional_claims={"ver": token_version},
    )
    return token, int(lifetime.total_seconds())


def unauthorized(message: str, *, token_presented: bool) -> None:
    """Abort with 401 and the RFC 6750 challenge (error="invalid_token" when a token was bad)."""
    challenge = 'Bearer realm="api"'
    if token_presented:
        challenge += ', error="invalid_token"'
    abort(401, message=message, headers={"WWW-Authenticate": challenge})


def bearer_token() -> str:
    """The token from `Authorization: Bearer <token>`, or a 401."""
    header = request.headers.get("Authorization", "")
    if not header:
        unauthorized("Sign in and send 'Authorization: Bearer <token>'.", token_presented=False)
    if len(header) > MAX_AUTHORIZATION_HEADER:
        unauthorized("The Authorization header is too long.", token_presented=True)
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        unauthorized("Expected 'Authorization: Bearer <token>'.", token_presented=True)
    return token


def token_claims(token: str) -> dict:
    """Verified claims of an access token, or a 401 naming what is wrong."""
    try:
        claims = verify_hs256(token, signing_secret())
    except ExpiredSignatureError:
        unauthorized("The token has expired; sign in again.", token_presented=True)
    except (InvalidTokenError, RecursionError):  # JSON nested ~1,000 deep in a segment
        unauthorized("The token is invalid.", token_presented=True)
    required = ("exp", "sub", "jti", "ver")
    if any(claims.get(name) is None for name in required) or claims.get("type") != "access":
        unauthorized("The token is invalid.", token_presented=True)
    return claims


def signing_secret() -> bytes:
    """The HMAC key Flask-JWT-Extended signs our tokens with."""
    config = current_app.config
    return (config.get("JWT_SECRET_KEY") or config["SECRET_KEY"]).encode()


def _segment(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@lru_cache(maxsize=8)
def _header_is_ours(header_segment: str) -> bool:
    """Only HS256 is accepted, whatever the header asks for (no `none`, no key confusion)."""
    header = json.loads(_segment(header_segment))
    return isinstance(header, dict) and header.get("alg") == "HS256"


def verify_hs256(token: str, secret: bytes) -> dict:
    """Check an HS256 JWT's signature, expiry and not-before, and return its claims.

    A few lines instead of PyJWT's decode, which costs several times more per request
    (it re-inspects the key and every character on each call); PyJWT's exceptions are kept.
    """
    try:
        header_segment, payload_segment, signature_segment = token.split(".")
        if not _header_is_ours(header_segment):
            raise InvalidAlgorithmError("The token's algorithm is not allowed.")
        signed = f"{header_segment}.{payload_segment}".encode("ascii")
        expected = hmac.new(secret, signed, hashlib.sha256).digest()
        if not hmac.compare_digest(expected, _segment(signature_segment)):
            raise InvalidSignatureError("Signature verification failed.")
        claims = json.loads(_segment(payload_segment))
    except (ValueError, TypeError, binascii.Error) as error:  # bad split, base64, JSON, ASCII
        raise DecodeError("The token is malformed.") from error
    if not isinstance(claims, dict):
        raise DecodeError("The token's claims are not an object.")
    now = time.time()
    expires, not_before = claims.get("exp"), claims.get("nbf")
    if not isinstance(expires, int | float) or isinstance(expires, bool):
        raise DecodeError("The token has no valid expiry.")
    if now >= expires:
        raise ExpiredSignatureError("Signature has expired.")
    if not_before is not None and (not isinstance(not_before, int | float) or now < not_before):
        raise ImmatureSignatureError("The token is not yet valid.")
    return claims


def authenticate(token: str | None = None) -> dict:
    """The account behind the request's bearer token; 401 when absent, invalid or revoked.

    `token` is one the request carried elsewhere (the prototype's clients put it in the JSON
    body); it is checked exactly as the Authorization header's would be.

    One indexed query checks everything: the account exists and is open, the token's version
    is current (resets, password changes and deletions bump it), and its jti is not signed out.
    It runs outside the session's transaction (autocommit on PostgreSQL), so a read-only
    request costs one round trip to the database, not BEGIN ... ROLLBACK around it.
    """
    claims = token_claims(bearer_token() if token is None else token)
    try:
        user_id = int(claims["sub"])
    except (TypeError, ValueError):
        unauthorized("The token is invalid.", token_presented=True)
    row = look_up_caller(user_id, claims["jti"])
    if row is None or row["revoked_jti"] is not None or not is_current(row, claims):
        unauthorized("The token has been revoked; sign in again.", token_presented=True)
    g.caller = row
    g.token_claims = claims
    return row


def current_user() -> User:
    """The signed-in caller as a User in this request's session, built on first use.

    Reads that need only the caller's columns use `g.caller` (a dict) and skip the ORM.
    """
    if "current_user" not in g:
        g.current_user = attach(g.caller)
    return g.current_user


def attach(row: dict) -> User:
    """The caller as a persistent User in this request's session, built from `row` (no query).

    Columns not in the row (the password hash) load on first access, like any expired attribute.
    """
    known = db.session.identity_map.get(identity_key(User, row["id"]))
    if known is not None:
        return known
    user = User(**{column.key: row[column.key] for column in CALLER_COLUMNS})
    user.deleted_at = None
    make_transient_to_detached(user)
    db.session.add(user)
    return user


def is_current(user: dict, claims: dict) -> bool:
    """Issued under the current token version, or the session a password change kept."""
    if claims["ver"] == user["token_version"]:
        return True
    return claims["ver"] == user["token_version"] - 1 and claims["jti"] == user["kept_jti"]
