"""Two-factor sign-in: recovery codes and the challenges between password and code."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.extensions import db
from backend.models.types import UTCDateTime


class RecoveryCode(db.Model):
    """One of an account's single-use recovery codes, salted and hashed (never stored plain)."""

    __tablename__ = "mfa_recovery_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    salt: Mapped[str] = mapped_column(String(32))
    # HMAC-SHA256 under a key derived from SECRET_KEY, of the salt and the code.
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class MfaChallenge(db.Model):
    """A password accepted for an account with two-factor on: the `mfa_token` (hashed) that a
    code must come with, within five minutes, once."""

    __tablename__ = "mfa_challenges"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
