"""Access tokens: issued with Flask-JWT-Extended, read from the Authorization header only."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import NoReturn

from flask import current_app, g, request
from flask_jwt_extended import create_access_token
from jwt import ExpiredSignatureError, InvalidTokenError
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.util import identity_key

from backend import clock
from backend.auth import sessions
from backend.auth.lookups import CALLER_COLUMNS, look_up_caller
from backend.auth.verify import AccessTokenVerifier
from backend.errors import Unauthorized
from backend.extensions import db
from backend.models import User

MAX_AUTHORIZATION_HEADER = 8 * 1024


def issue_access_token(
    user_id: int, token_version: int, second_factor: str | None = None
) -> tuple[str, int]:
    """A signed bearer token for the account, as a new session, and its lifetime in seconds.

    The session's start is the sign-in's audit event (`sign_in.succeeded`, with the second
    factor used, if any).
    """
    lifetime = timedelta(minutes=current_app.config["ACCESS_TOKEN_MINUTES"])
    # The times come from the clock `token_claims` checks them by, not Flask-JWT-Extended's own
    # datetime.now (claims given here take precedence over its defaults, the jti too).
    now = clock.utcnow()
    details = {"with": second_factor} if second_factor else None
    jti = sessions.start(user_id, now, now + lifetime, details)
    token = create_access_token(
        identity=str(user_id),
        expires_delta=lifetime,
        additional_claims={
            "jti": jti,
            "ver": token_version,
            "iat": now,
            "nbf": now,
            "exp": now + lifetime,
        },
    )
    return token, int(lifetime.total_seconds())


def unauthorized(message: str, *, token_presented: bool) -> NoReturn:
    """Refuse with 401 and the RFC 6750 challenge (error="invalid_token" when a token was bad)."""
    challenge = 'Bearer realm="api"'
    if token_presented:
        challenge += ', error="invalid_token"'
    raise Unauthorized(message, challenge=challenge)


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


def token_claims(token: str) -> Mapping:
    """Verified claims of an access token, or a 401 naming what is wrong."""
    try:
        return verifier().verify(token, clock.utcnow().timestamp())
    except ExpiredSignatureError:
        unauthorized("The token has expired; sign in again.", token_presented=True)
    except (InvalidTokenError, RecursionError):  # JSON nested ~1,000 deep in a segment
        unauthorized("The token is invalid.", token_presented=True)


def signing_secret() -> bytes:
    """The HMAC key Flask-JWT-Extended signs our tokens with."""
    config = current_app.config
    return (config.get("JWT_SECRET_KEY") or config["SECRET_KEY"]).encode()


def verifier() -> AccessTokenVerifier:
    """The app's verifier, built once per app (its key is checked and prepared once)."""
    verifier = current_app.extensions.get("access_token_verifier")
    if verifier is None:
        verifier = current_app.extensions["access_token_verifier"] = AccessTokenVerifier(
            signing_secret()
        )
    return verifier


def authenticate(token: str | None = None) -> dict:
    """The account behind the request's bearer token; 401 when absent, invalid or revoked.

    `token` is one the request carried elsewhere (the prototype's clients put it in the JSON
    body); it is checked exactly as the Authorization header's would be.

    One indexed query checks everything: the account exists and is open, the token's version
    is current (resets, password changes and deletions bump it), and its session is live (not
    ended by a sign-out, by its owner or by an admin). The session's last-seen time is written
    at most once a minute (backend/auth/sessions.py).
    It runs outside the session's transaction (autocommit on PostgreSQL), so a read-only
    request costs one round trip to the database, not BEGIN ... ROLLBACK around it.
    """
    claims = token_claims(bearer_token() if token is None else token)
    row = look_up_caller(int(claims["sub"]), claims["jti"])
    if row is None or not is_current(row, claims):
        unauthorized("The token has been revoked; sign in again.", token_presented=True)
    sessions.touch(row["session_id"], row["session_seen_at"])
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


def is_current(user: dict, claims: Mapping) -> bool:
    """Issued under the current token version, or the session a password change kept."""
    if claims["ver"] == user["token_version"]:
        return True
    return claims["ver"] == user["token_version"] - 1 and claims["jti"] == user["kept_jti"]
