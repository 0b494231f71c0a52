"""Second-factor primitives: TOTP (RFC 6238, by pyotp), its secret sealed with AES-GCM, and
recovery codes (random, salted and keyed-hashed, as ASVS 2.6.2 asks of lookup secrets)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import re
import secrets
from datetime import datetime

import pyotp
import segno
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

ISSUER = "Vaccination registration"
TOTP_FORMAT = re.compile(r"[0-9]{6}")
# Phones' clocks drift: a code of the step before or after the server's is accepted too.
DRIFT_STEPS = 1
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i look-alikes
RECOVERY_CODE_COUNT = 10
RECOVERY_CODE_LENGTH = 12  # 31**12: about 59 bits, then salted and keyed (ASVS 2.6.2)
SEALED_PREFIX = "v1:"


def _key(purpose: bytes) -> bytes:
    """A 256-bit key for `purpose`, derived (HKDF-SHA256) from MFA_ENCRYPTION_KEY."""
    material = current_app.config["MFA_ENCRYPTION_KEY"].encode()
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(material)


def new_secret() -> str:
    """A new TOTP secret: 160 random bits, base32 (what authenticator apps expect)."""
    return pyotp.random_base32(32)


def seal(secret: str, user_id: int) -> str:
    """`secret` encrypted for storage; bound to the account (a row copied elsewhere won't open)."""
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(_key(b"mfa totp secret")).encrypt(nonce, secret.encode(), _bound(user_id))
    return SEALED_PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()


def unseal(stored: str, user_id: int) -> str:
    """The TOTP secret `seal` stored for `user_id` (InvalidTag if it was not)."""
    raw = base64.urlsafe_b64decode(stored.removeprefix(SEALED_PREFIX))
    return AESGCM(_key(b"mfa totp secret")).decrypt(raw[:12], raw[12:], _bound(user_id)).decode()


def _bound(user_id: int) -> bytes:
    return f"user:{user_id}".encode()


def provisioning(secret: str, email: str) -> tuple[str, str]:
    """The `otpauth://` URI for an authenticator app, and the same as a QR code (PNG, base64)."""
    uri = pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)
    png = io.BytesIO()
    segno.make(uri, error="m").save(png, kind="png", scale=5)
    return uri, base64.b64encode(png.getvalue()).decode()


def matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step (RFC 6238 T) whose code is `code`, within the allowed drift, or None."""
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def normalise(code: str) -> str:
    """A code as typed, without spaces, dashes or letter case."""
    return re.sub(r"[\s-]", "", code).lower()


def new_recovery_codes() -> list[str]:
    """Ten fresh recovery codes, shown once, grouped as xxxx-xxxx-xxxx."""
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
        codes.append("-".join(raw[i : i + 4] for i in range(0, RECOVERY_CODE_LENGTH, 4)))
    return codes


def recovery_hash(salt: str, code: str) -> str:
    """HMAC-SHA256 of a normalised recovery code with its own random salt."""
    message = f"{salt}:{normalise(code)}".encode()
    return hmac.new(_key(b"mfa recovery codes"), message, hashlib.sha256).hexdigest()
