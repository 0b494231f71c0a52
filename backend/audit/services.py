"""Appending to the audit trail (inside the caller's transaction) and verifying its chain."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator

from flask import g, has_request_context, request
from sqlalchemy import select, update

from backend import clock
from backend.extensions import db
from backend.models.audit import AuditEvent, AuditHead

GENESIS_HASH = "0" * 64
HEAD_ID = 1


def content_hash(event: AuditEvent) -> str:
    """SHA-256 of the row's content and its predecessor's hash, in a canonical JSON form."""
    content = {
        "created_at": event.created_at.isoformat(timespec="microseconds"),
        "event": event.event,
        "actor_id": event.actor_id,
        "subject_type": event.subject_type,
        "subject_id": event.subject_id,
        "client_address": event.client_address,
        "request_id": event.request_id,
        "details": event.details or {},
        "prev_hash": event.prev_hash,
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _lock_head() -> str:
    """Take the chain's head row (seeded by the migration) for this transaction; its hash.

    The UPDATE holds a row lock on PostgreSQL and the write lock on SQLite until commit, so
    concurrent appends line up one behind the other and never fork the chain.
    """
    locked = db.session.execute(
        update(AuditHead)
        .where(AuditHead.id == HEAD_ID)
        .values(last_hash=AuditHead.last_hash)
        .returning(AuditHead.last_hash)
    ).scalar_one_or_none()
    if locked is None:
        raise RuntimeError("the audit_head row is missing: run `flask db upgrade`")
    return locked


def record(
    event: str,
    *,
    actor_id: int | None = None,
    subject_id: int | None = None,
    subject_type: str | None = "user",
    details: dict | None = None,
) -> None:
    """Append an event to the trail in the current transaction; the caller commits.

    Never pass secrets, codes, tokens or national IDs in `details`.
    """
    row = AuditEvent(
        created_at=clock.utcnow(),
        event=event,
        actor_id=actor_id,
        subject_type=subject_type if subject_id is not None else None,
        subject_id=subject_id,
        client_address=request.remote_addr if has_request_context() else None,
        request_id=g.get("request_id") if has_request_context() else None,
        details=details or {},
    )
    row.prev_hash = _lock_head()
    row.hash = content_hash(row)
    db.session.add(row)
    db.session.execute(update(AuditHead).where(AuditHead.id == HEAD_ID).values(last_hash=row.hash))


def _rows() -> Iterator[AuditEvent]:
    last_id = 0
    while True:
        batch = db.session.scalars(
            select(AuditEvent).where(AuditEvent.id > last_id).order_by(AuditEvent.id).limit(1000)
        ).all()
        if not batch:
            return
        yield from batch
        last_id = batch[-1].id
        db.session.expunge_all()


def verify_chain() -> tuple[int, int | None]:
    """(rows checked, id of the first row that breaks the chain or None when it holds)."""
    expected_prev, checked = GENESIS_HASH, 0
    for row in _rows():
        if row.prev_hash != expected_prev or row.hash != content_hash(row):
            return checked, row.id
        expected_prev, checked = row.hash, checked + 1
    head = db.session.scalar(select(AuditHead.last_hash).where(AuditHead.id == HEAD_ID))
    if checked and head != expected_prev:
        return checked, -1  # the newest rows were removed: the head remembers a later hash
    return checked, None
