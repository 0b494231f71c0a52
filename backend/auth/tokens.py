"""Access tokens: issued with Flask-JWT-Extended, read from the Authorization header only."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, g, request
from flask_jwt_extended import create_access_token, decode_token
from flask_jwt_extended.exceptions import JWTExtendedException
from flask_smorest import abort
from jwt import ExpiredSignatureError, InvalidTokenError
from sqlalchemy import select

from backend.extensions import db
from backend.models import RevokedToken, User

MAX_AUTHORIZATION_HEADER = 8 * 1024


def issue_access_token(user: User) -> tuple[str, int]:
    """A signed bearer token for `user` and its lifetime in seconds."""
    lifetime = timedelta(minutes=current_app.config["ACCESS_TOKEN_MINUTES"])
    token = create_access_token(
        identity=str(user.id),
        expires_delta=lifetime,
        additional_claims={"ver": user.token_version},
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
        claims = decode_token(token)
    except ExpiredSignatureError:
        unauthorized("The token has expired; sign in again.", token_presented=True)
    except (InvalidTokenError, JWTExtendedException):
        unauthorized("The token is invalid.", token_presented=True)
    required = ("exp", "sub", "jti", "ver")
    if any(claims.get(name) is None for name in required) or claims.get("type") != "access":
        unauthorized("The token is invalid.", token_presented=True)
    return claims


def authenticate() -> User:
    """The account behind the request's bearer token; 401 when absent, invalid or revoked.

    One indexed query checks everything: the account exists and is open, the token's version
    is current (resets, password changes and deletions bump it), and its jti is not signed out.
    """
    claims = token_claims(bearer_token())
    try:
        user_id = int(claims["sub"])
    except (TypeError, ValueError):
        unauthorized("The token is invalid.", token_presented=True)
    row = db.session.execute(
        select(User, RevokedToken.jti)
        .outerjoin(RevokedToken, RevokedToken.jti == claims["jti"])
        .where(User.id == user_id, User.deleted_at.is_(None))
    ).first()
    if row is None or row.jti is not None or not is_current(row.User, claims):
        unauthorized("The token has been revoked; sign in again.", token_presented=True)
    g.current_user = row.User
    g.token_claims = claims
    return row.User


def is_current(user: User, claims: dict) -> bool:
    """Issued under the current token version, or the session a password change kept."""
    if claims["ver"] == user.token_version:
        return True
    return claims["ver"] == user.token_version - 1 and claims["jti"] == user.kept_jti
