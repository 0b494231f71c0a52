"""Appending to the audit trail (inside the caller's transaction) and verifying its chain.

Each row's hash is HMAC-SHA256, under AUDIT_KEY, of its content and its predecessor's hash. The
key is never in the database, so whoever can write to it can change or remove rows but cannot
compute hashes that `flask audit verify` accepts.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator, Mapping
from functools import lru_cache

from flask import current_app, g, has_request_context, request
from sqlalchemy import Connection, bindparam, insert, select, text, update

from backend import clock
from backend.extensions import db
from backend.models.audit import AuditEvent, AuditHead

GENESIS_HASH = "0" * 64
HEAD_ID = 1


EVENTS, HEAD = AuditEvent.__table__, AuditHead.__table__
HASHED = (
    "created_at",
    "event",
    "actor_id",
    "subject_type",
    "subject_id",
    "client_address",
    "request_id",
    "details",
    "prev_hash",
)
# Built once. The UPDATE that reads the head holds a row lock on PostgreSQL and the write lock
# on SQLite until commit, so concurrent appends line up one behind the other: no fork.
LOCK_HEAD = (
    update(HEAD)
    .where(HEAD.c.id == HEAD_ID)
    .values(last_hash=HEAD.c.last_hash)
    .returning(HEAD.c.last_hash)
)
INSERT_EVENT = insert(EVENTS)
MOVE_HEAD = update(HEAD).where(HEAD.c.id == HEAD_ID).values(last_hash=bindparam("new_hash"))
ASYNCHRONOUS_COMMIT = text("SET LOCAL synchronous_commit TO OFF")


def _canonical(values: Mapping) -> bytes:
    content = {key: values[key] for key in HASHED}
    content["created_at"] = content["created_at"].isoformat(timespec="microseconds")
    content["details"] = content["details"] or {}
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


@lru_cache(maxsize=4)
def _keyed(key: str) -> hmac.HMAC:
    """The HMAC state after the key, prepared once; each digest continues a copy of it."""
    return hmac.new(key.encode(), digestmod=hashlib.sha256)


def _digest(values: Mapping) -> str:
    mac = _keyed(current_app.config["AUDIT_KEY"]).copy()
    mac.update(_canonical(values))
    return mac.hexdigest()


def content_hash(event: AuditEvent) -> str:
    """HMAC-SHA256 (AUDIT_KEY) of the row's content and its predecessor's hash, canonical JSON."""
    return _digest({key: getattr(event, key) for key in HASHED})


def record(
    event: str,
    *,
    actor_id: int | None = None,
    subject_id: int | None = None,
    subject_type: str | None = "user",
    details: dict | None = None,
) -> None:
    """Append an event to the trail in the session's transaction; the caller commits.

    Never pass secrets, codes, tokens or national IDs in `details`. Three Core statements
    (lock the head, insert, move the head): no ORM object, no flush.
    """
    values = _values(event, actor_id, subject_id, subject_type, details)
    _append(db.session.connection(), values)


def record_now(
    event: str,
    *,
    actor_id: int | None = None,
    subject_id: int | None = None,
) -> None:
    """Append a frequent, low-stakes event (sign-ins) in a transaction of its own, committed
    when this returns.

    On PostgreSQL its commit does not wait for the WAL flush (synchronous_commit off, this
    transaction only): a database crash may lose the last fraction of a second of such events,
    but never half of one, since row and head commit together.
    """
    values = _values(event, actor_id, subject_id, "user", None)
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(ASYNCHRONOUS_COMMIT)
        _append(connection, values)


def _values(event, actor_id, subject_id, subject_type, details) -> dict:
    in_request = has_request_context()
    return {
        "created_at": clock.utcnow(),
        "event": event,
        "actor_id": actor_id,
        "subject_type": subject_type if subject_id is not None else None,
        "subject_id": subject_id,
        "client_address": request.remote_addr if in_request else None,
        "request_id": g.get("request_id") if in_request else None,
        "details": details or {},
    }


def _append(connection: Connection, values: dict) -> None:
    values["prev_hash"] = _head(connection.execute(LOCK_HEAD).first())
    values["hash"] = _digest(values)
    connection.execute(INSERT_EVENT, values)
    connection.execute(MOVE_HEAD, {"new_hash": values["hash"]})


def _head(row) -> str:
    if row is None:
        raise RuntimeError("the audit_head row is missing: run `flask db upgrade`")
    return row[0]


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


def head_hash() -> str | None:
    """The newest event's hash, as the head row holds it."""
    return db.session.scalar(select(AuditHead.last_hash).where(AuditHead.id == HEAD_ID))


def verify_chain() -> tuple[int, int | None]:
    """(rows checked, id of the first row that breaks the chain or None when it holds)."""
    expected_prev, checked = GENESIS_HASH, 0
    for row in _rows():
        if row.prev_hash != expected_prev or not hmac.compare_digest(row.hash, content_hash(row)):
            return checked, row.id
        expected_prev, checked = row.hash, checked + 1
    if checked and head_hash() != expected_prev:
        return checked, -1  # the newest rows were removed: the head remembers a later hash
    return checked, None
