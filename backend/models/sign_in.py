"""Sign-in sessions: one row per issued access token, which the person can see and end."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.extensions import db
from backend.models.types import UTCDateTime


class SignInSession(db.Model):
    """An access token's session: live until ended or expired, kept 90 days after sign-in so a
    client (address + user agent) seen on the account in that time is recognised."""

    __tablename__ = "sessions"
    __table_args__ = (
        # The account's sessions, newest first: the list, and the new-client check at sign-in.
        Index("ix_sessions_user_id_issued_at", "user_id", "issued_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # The token's `jti`: every authenticated request finds its session by it (unique index).
    jti: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # Coarse: written at most once a minute per session (backend/auth/sessions.py).
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    client_address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(255))
    # What the new-client check found, when it found the client new to the account: "first"
    # (its first sign-in, not noticed) or "noticed"; other checks of the account read it.
    new_client: Mapped[str | None] = mapped_column(String(8))

    def __repr__(self) -> str:
        return f"<SignInSession {self.id} user={self.user_id} ended={self.ended_at is not None}>"
