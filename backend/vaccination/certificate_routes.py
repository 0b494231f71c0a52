"""The certificates blueprint: public verification, the revocation list and the signing keys."""

from __future__ import annotations

from backend.api import Blueprint
from backend.vaccination import certificates
from backend.vaccination.schemas import (
    JwksSchema,
    RevokedCertificateSchema,
    VerificationSchema,
    VerifyRequestSchema,
)

blp = Blueprint("certificates", __name__, description="Verify vaccination certificates")
PUBLIC_CACHE = {"Cache-Control": "public, max-age=300"}


@blp.route("/certificates/verify", methods=["POST"])
@blp.arguments(VerifyRequestSchema)
@blp.response(200, VerificationSchema)
def verify(fields):
    """Check a certificate token: signature, issuer, and whether it was revoked"""
    return certificates.verify(fields["token"])


@blp.route("/certificates/revoked")
@blp.response(200, RevokedCertificateSchema(many=True))
def revoked():
    """Every revoked certificate id with the time, for offline verifiers"""
    return certificates.revoked(), 200, PUBLIC_CACHE


@blp.route("/.well-known/jwks.json")
@blp.response(200, JwksSchema)
def jwks():
    """The public keys (JWK Set, Ed25519) that verify certificates offline"""
    return certificates.jwks(), 200, PUBLIC_CACHE
