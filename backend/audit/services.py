"""Appending to the audit trail (inside the caller's transaction) and verifying its chains.

Each row's hash is HMAC-SHA256, under AUDIT_KEY, of its content and its predecessor's hash. The
key is never in the database, so whoever can write to it can change or remove rows but cannot
compute hashes that `flask audit verify` accepts.

The trail is AUDIT_CHAINS independent chains, each with its own head row: a worker appends to
chain `pid mod AUDIT_CHAINS + 1`, so appends wait only on others of the same chain instead of
on one global row. A row's chain is not part of its hash (rows written before there were chains
keep theirs): moving a row to another chain breaks the links of both.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import lru_cache

from flask import current_app, g, has_request_context, request
from sqlalchemy import Connection, bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from backend import clock
from backend.extensions import db
from backend.models.audit import AuditEvent, AuditHead

GENESIS_HASH = "0" * 64


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
# Built once. The UPDATE that reads a chain's head holds a row lock on PostgreSQL (the write lock
# on SQLite) until commit, so concurrent appends to one chain line up one behind the other.
LOCK_HEAD = (
    update(HEAD)
    .where(HEAD.c.id == bindparam("chain"))
    .values(last_hash=HEAD.c.last_hash)
    .returning(HEAD.c.last_hash)
)
# A chain's head row is created by its first append (a racing first append does nothing).
NEW_HEAD = {
    dialect.__name__.rsplit(".", 1)[-1]: dialect.insert(HEAD)
    .values(id=bindparam("chain"), last_hash=GENESIS_HASH)
    .on_conflict_do_nothing()
    for dialect in (postgresql, sqlite)
}
MOVE_HEAD = (
    update(HEAD).where(HEAD.c.id == bindparam("chain")).values(last_hash=bindparam("new_hash"))
)
# On PostgreSQL the row and the head's move are one statement (the INSERT as a data-modifying
# CTE of the head's UPDATE): one round trip fewer per append. SQLite has no such CTEs: two there.
NEW_ROW = (
    insert(EVENTS)
    .values({key: bindparam(key, type_=EVENTS.c[key].type) for key in (*HASHED, "chain", "hash")})
    .returning(EVENTS.c.chain, EVENTS.c.hash)
    .cte("new_row")
)
APPEND = {
    "postgresql": (
        update(HEAD).where(HEAD.c.id == NEW_ROW.c.chain).values(last_hash=NEW_ROW.c.hash),
    ),
    "sqlite": (insert(EVENTS), MOVE_HEAD),
}
# `record_now` locks the head with this variant: `set_config(..., true)` is `SET LOCAL`, read at
# commit, so the sign-in's transaction does not wait for the WAL flush without a round trip of
# its own for the setting.
LOCK_HEAD_ASYNCHRONOUS = LOCK_HEAD.returning(func.set_config("synchronous_commit", "off", True))


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

    Never pass secrets, codes, tokens or national IDs in `details`. Core statements (lock the
    head, then insert and move the head: one statement on PostgreSQL): no ORM object, no flush.
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
    when this returns (see `recording_now`)."""
    with recording_now(event, actor_id=actor_id, subject_id=subject_id):
        pass


@contextmanager
def recording_now(
    event: str,
    *,
    actor_id: int | None = None,
    subject_id: int | None = None,
    details: dict | None = None,
) -> Iterator[Connection]:
    """A transaction of its own for what the block writes on the connection it is given, with
    `event` appended at its end; committed when the block ends, rolled back if it raises.

    For frequent, low-stakes events (sign-ins) and the rows they go with (a sign-in's session):
    one commit for both. On PostgreSQL that commit does not wait for the WAL flush
    (synchronous_commit off, this transaction only): a database crash may lose the last fraction
    of a second of such events, but never half of one, since row and head commit together.
    """
    values = _values(event, actor_id, subject_id, "user", details)
    with db.engine.begin() as connection:
        yield connection
        asynchronous = connection.dialect.name == "postgresql"
        _append(connection, values, LOCK_HEAD_ASYNCHRONOUS if asynchronous else LOCK_HEAD)


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


def chain_of_this_worker() -> int:
    """The chain this process appends to: one per gunicorn worker, spread by pid."""
    return os.getpid() % current_app.config["AUDIT_CHAINS"] + 1


def _append(connection: Connection, values: dict, lock=LOCK_HEAD) -> None:
    chain = values["chain"] = chain_of_this_worker()
    head = connection.execute(lock, {"chain": chain}).first()
    if head is None:
        connection.execute(NEW_HEAD[connection.dialect.name], {"chain": chain})
        head = connection.execute(lock, {"chain": chain}).first()
    values["prev_hash"] = head[0]
    values["hash"] = values["new_hash"] = _digest(values)
    for statement in APPEND[connection.dialect.name]:
        connection.execute(statement, values)


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


def heads() -> dict[int, str]:
    """Each chain's newest hash, as its head row holds it (GENESIS_HASH for an empty one)."""
    return dict(db.session.execute(select(AuditHead.id, AuditHead.last_hash)).all())


def verify_chain() -> tuple[int, int | None]:
    """(rows checked, id of the first row that breaks its chain, -1 when a chain's newest rows
    were removed, or None when every chain holds)."""
    expected_prev: dict[int, str] = {}
    checked = 0
    for row in _rows():
        previous = expected_prev.get(row.chain, GENESIS_HASH)
        if row.prev_hash != previous or not hmac.compare_digest(row.hash, content_hash(row)):
            return checked, row.id
        expected_prev[row.chain] = row.hash
        checked += 1
    held = heads()
    for chain in expected_prev.keys() | held.keys():
        # A head ahead of its chain's last row (or missing): the newest rows were removed.
        if held.get(chain) != expected_prev.get(chain, GENESIS_HASH):
            return checked, -1
    return checked, None
