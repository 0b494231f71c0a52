"""Flask-JWT-Extended answers bad tokens with 401 and an RFC 6750 challenge, never 422."""

from __future__ import annotations

from flask import jsonify
from flask_jwt_extended import JWTManager


def _unauthorized(message: str, *, token_presented: bool = True):
    challenge = 'Bearer realm="api"' + (', error="invalid_token"' if token_presented else "")
    response = jsonify(code=401, status="Unauthorized", message=message)
    response.status_code = 401
    response.headers["WWW-Authenticate"] = challenge
    return response


def configure_jwt(jwt: JWTManager) -> None:
    """Override every loader that would otherwise answer 422 or a bare body."""
    jwt.unauthorized_loader(lambda reason: _unauthorized(reason, token_presented=False))
    jwt.invalid_token_loader(lambda reason: _unauthorized("The token is invalid."))
    jwt.expired_token_loader(lambda header, claims: _unauthorized("The token has expired."))
    jwt.revoked_token_loader(lambda header, claims: _unauthorized("The token has been revoked."))
    jwt.token_verification_failed_loader(
        lambda header, claims: _unauthorized("The token is invalid.")
    )
    jwt.user_lookup_error_loader(lambda header, claims: _unauthorized("The token is invalid."))
