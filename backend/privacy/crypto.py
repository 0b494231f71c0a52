"""The one place personal values are encrypted, decrypted and blind-indexed.

A stored value reads `kid:nonce:ciphertext` (nonce and ciphertext in base64): AES-256-GCM under
the key whose id is `kid`, with the value's table and column as associated data, so a
ciphertext copied into another column (or another table) does not decrypt. A blind index is
HMAC-SHA256 of the normalised value under a separate key: equal values give equal indexes,
which is what uniqueness and exact lookups need, and nothing else can be read from it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

from config import decode_data_key

NONCE_BYTES = 12


class UndecryptableValue(Exception):
    """A stored value under an unknown key, or altered: never answered as data."""


def _b64(raw: bytes) -> str:
    # binascii directly: the base64 module's wrappers cost as much as the decryption itself.
    return binascii.b2a_base64(raw, newline=False).decode()


def key_id(key: bytes) -> str:
    """A short public name of a key (its fingerprint), stored beside every value it encrypts."""
    digest = hashlib.sha256(b"data-encryption-key-id" + key).digest()[:6]
    return base64.urlsafe_b64encode(digest).decode()


def derive_blind_index_key(data_key: bytes) -> bytes:
    """The blind-index key when BLIND_INDEX_KEY is unset: HKDF-SHA256 of the data key."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"blind index")
    return hkdf.derive(data_key)


@dataclass
class KeyRing:
    """The current data key, the retired ones (decryption only) and the blind-index key."""

    current: bytes
    retired: list[bytes] = field(default_factory=list)
    blind_key: bytes | None = None

    def __post_init__(self):
        self.current_id = key_id(self.current)
        self.ciphers = {key_id(key): AESGCM(key) for key in [*self.retired, self.current]}
        self.blind_key = self.blind_key or derive_blind_index_key(self.current)

    def encrypt(self, plaintext: str, context: str) -> str:
        """`plaintext` sealed under the current key, bound to `context` ("table.column")."""
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = self.ciphers[self.current_id].encrypt(nonce, plaintext.encode(), context.encode())
        return f"{self.current_id}:{_b64(nonce)}:{_b64(sealed)}"

    def decrypt(self, stored: str, context: str) -> str:
        """The plaintext of a stored value, under whichever known key it names."""
        try:
            kid, nonce, sealed = stored.split(":")
            cipher = self.ciphers[kid]
            nonce, sealed = binascii.a2b_base64(nonce), binascii.a2b_base64(sealed)
            return cipher.decrypt(nonce, sealed, context.encode()).decode()
        except (ValueError, KeyError, InvalidTag, binascii.Error) as error:
            raise UndecryptableValue(f"a value in {context} cannot be decrypted") from error

    def is_current(self, stored: str) -> bool:
        """Whether `stored` is under the current key (rotation skips those)."""
        return stored.startswith(self.current_id + ":")

    def blind_index(self, kind: str, normalised: str) -> str:
        """HMAC-SHA256 (hex) of a normalised value of `kind` ("nid", "phone", "email")."""
        message = f"{kind}:{normalised}".encode()
        return hmac.new(self.blind_key, message, hashlib.sha256).hexdigest()


def keyring_from(config) -> KeyRing:
    """The key ring for an app's configuration."""
    blind = config.get("BLIND_INDEX_KEY")
    return KeyRing(
        current=decode_data_key(config["DATA_ENCRYPTION_KEY"], "DATA_ENCRYPTION_KEY"),
        retired=[
            decode_data_key(key, "DATA_ENCRYPTION_RETIRED_KEYS")
            for key in config.get("DATA_ENCRYPTION_RETIRED_KEYS") or []
        ],
        blind_key=decode_data_key(blind, "BLIND_INDEX_KEY") if blind else None,
    )


def keyring() -> KeyRing:
    """The current app's key ring, built once per app (the AESGCM objects are prepared once)."""
    ring = current_app.extensions.get("privacy_keyring")
    if ring is None:
        ring = current_app.extensions["privacy_keyring"] = keyring_from(current_app.config)
    return ring
