"""Signed, expiring links to one certificate's PDF, for clients that open it in a plain `<a href>`.

The link is a capability: whoever holds it can download that one certificate until it expires
(CERTIFICATE_LINK_HOURS). It is an itsdangerous URL-safe timed signature of the certificate id
under SECRET_KEY, with a salt of its own, so no other signed value of the app (access tokens,
codes) can pass for a link, nor a link for them.
"""

from __future__ import annotations

from flask import current_app, url_for
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from backend import clock
from backend.errors import Forbidden, Gone

SALT = "vaccination-certificate-link"
ENDPOINT = "legacy.certificate"


class ClockSigner(TimestampSigner):
    """Timestamps from the one clock (so tests can move it), not `time.time()`."""

    def get_timestamp(self) -> int:
        return int(clock.utcnow().timestamp())


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT, signer=ClockSigner)


def certificate_link(certificate_id: str) -> str:
    """A fresh absolute URL of the certificate's PDF, working for CERTIFICATE_LINK_HOURS."""
    signed = _serializer().dumps(certificate_id)
    base = current_app.config["PUBLIC_BASE_URL"]
    if base:
        return base + url_for(ENDPOINT, link=signed)
    return url_for(ENDPOINT, link=signed, _external=True)


def certificate_id_from(link: str) -> str:
    """The certificate id a link names; 410 once it has expired, 403 if it was not ours."""
    max_age = current_app.config["CERTIFICATE_LINK_HOURS"] * 3600
    try:
        certificate_id = _serializer().loads(link, max_age=max_age)
    except SignatureExpired:
        raise Gone("This certificate link has expired; ask the app for a fresh one.") from None
    except BadSignature:
        raise Forbidden("This certificate link is not valid.") from None
    if not isinstance(certificate_id, str):
        raise Forbidden("This certificate link is not valid.")
    return certificate_id
