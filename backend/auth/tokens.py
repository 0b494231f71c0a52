"""Access tokens: issued with Flask-JWT-Extended, read from the Authorization header only."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, g, request
from flask_jwt_extended import create_access_token, decode_token
from flask_jwt_extended.exceptions import JWTExtendedException
from flask_smorest import abort
from jwt import ExpiredSignatureError, InvalidTokenError

from backend.extensions import db
from backend.models import User

MAX_AUTHORIZATION_HEADER = 8 * 1024


def issue_access_token(user: User) -> tuple[str, int]:
    """A signed bearer token for `user` and its lifetime in seconds."""
    lifetime = timedelta(minutes=current_app.config["ACCESS_TOKEN_MINUTES"])
    token = create_access_token(identity=str(user.id), expires_delta=lifetime)
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
    if "exp" not in claims or claims.get("type") != "access" or not claims.get("sub"):
        unauthorized("The token is invalid.", token_presented=True)
    return claims


def authenticate() -> User:
    """The account behind the request's bearer token; 401 when absent, invalid or revoked."""
    claims = token_claims(bearer_token())
    try:
        user_id = int(claims["sub"])
    except (TypeError, ValueError):
        unauthorized("The token is invalid.", token_presented=True)
    user = db.session.get(User, user_id)
    if user is None:
        unauthorized("The token is no longer valid.", token_presented=True)
    g.current_user = user
    g.token_claims = claims
    return user
