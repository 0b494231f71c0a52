"""Dependants: family members whose vaccinations an account holder manages."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from backend import clock
from backend.extensions import db
from backend.models.types import UTCDateTime
from backend.privacy.fields import BLIND_INDEX_LENGTH, EncryptedDate, EncryptedText, indexed

RELATIONS = ("spouse", "child", "parent", "sibling", "grandparent", "other")


class Member(db.Model):
    __tablename__ = "members"
    __table_args__ = (
        CheckConstraint(
            "relation IN ('spouse', 'child', 'parent', 'sibling', 'grandparent', 'other')",
            name="relation",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # RESTRICT: accounts are soft-deleted, and a member's records belong to the registry.
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    # National ID, or a child's 17-digit birth registration number, encrypted; its blind index
    # is unique here, and checked against the accounts' by the service. Both are NULL (the
    # index kept) once the account is purged (backend/privacy/purge.py).
    nid: Mapped[str | None] = mapped_column(EncryptedText("members.nid"))
    nid_index: Mapped[str | None] = mapped_column(String(BLIND_INDEX_LENGTH), unique=True)
    date_of_birth: Mapped[date | None] = mapped_column(EncryptedDate("members.date_of_birth"))
    relation: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=lambda: clock.utcnow())
    # Removed members who have vaccination records are kept (and keep their NID), never shown.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<Member {self.id} of user {self.user_id}>"


indexed(Member, nid="nid")
