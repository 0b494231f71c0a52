"""One-time codes (password reset, contact checks, email change)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend import clock
from backend.extensions import db
from backend.models.types import UTCDateTime
from backend.privacy.fields import EncryptedText


class CodePurpose:
    PASSWORD_RESET = "password_reset"
    VERIFY_CONTACT = "verify_contact"
    EMAIL_CHANGE = "email_change"


class OneTimeCode(db.Model):
    """The one live code per account and purpose; a new code replaces the row's old one."""

    __tablename__ = "one_time_codes"
    __table_args__ = (UniqueConstraint("user_id", "purpose"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(32))
    # HMAC-SHA256 of the code under SECRET_KEY: a copy of the table alone reveals no code.
    code_hash: Mapped[str] = mapped_column(String(64))
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What the code confirms, when that is not the account itself: the new email address of an
    # email change, so that the code changes the email to the address it was sent to, and only.
    target: Mapped[str | None] = mapped_column(EncryptedText("one_time_codes.target"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=lambda: clock.utcnow())
