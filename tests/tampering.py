"""An attacker with write access to the database but not AUDIT_KEY: edit, delete, re-chain.

The canonical form is written out here, as an attacker would read it from the source, rather than
imported: these helpers must keep working against the code they attack.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from datetime import UTC

from sqlalchemy import inspect, select, text

from backend.extensions import db
from backend.models.audit import AuditEvent

GENESIS_HASH = "0" * 64
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


def canonical(row: Mapping) -> bytes:
    content = {key: row[key] for key in HASHED}
    created_at = content["created_at"]
    created_at = created_at.replace(tzinfo=UTC) if created_at.tzinfo is None else created_at
    content["created_at"] = created_at.astimezone(UTC).isoformat(timespec="microseconds")
    content["details"] = content["details"] or {}
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def plain_sha256(row: Mapping) -> str:
    return hashlib.sha256(canonical(row)).hexdigest()


def keyed(key: str) -> Callable[[Mapping], str]:
    return lambda row: hmac.new(key.encode(), canonical(row), hashlib.sha256).hexdigest()


def _rows(connection) -> list[dict]:
    """Every row; before revision 0010 (no `chain` column) all are in chain 1."""
    present = {column["name"] for column in inspect(connection).get_columns("audit_events")}
    columns = [column for column in AuditEvent.__table__.c if column.name in present]
    rows = connection.execute(select(*columns).order_by(AuditEvent.id)).mappings()
    return [{"chain": 1, **row} for row in rows]


def tamper(sql: str, *, rechain_with: Callable[[Mapping], str] | None = None) -> None:
    """Run `sql` on the trail behind the app's back, then (optionally) recompute every row's
    prev_hash and hash and the head with `rechain_with`, so the chain links up again."""
    with db.engine.begin() as connection:
        postgres = connection.dialect.name == "postgresql"
        if postgres:
            connection.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
        connection.execute(text(sql))
        if rechain_with is not None:
            previous: dict[int, str] = {}
            for row in _rows(connection):
                row["prev_hash"] = previous.get(row["chain"], GENESIS_HASH)
                previous[row["chain"]] = rechain_with(row)
                connection.execute(
                    text("UPDATE audit_events SET prev_hash = :prev, hash = :hash WHERE id = :id"),
                    {"prev": row["prev_hash"], "hash": previous[row["chain"]], "id": row["id"]},
                )
            for chain, last in previous.items():
                connection.execute(
                    text("UPDATE audit_head SET last_hash = :hash WHERE id = :chain"),
                    {"hash": last, "chain": chain},
                )
        if postgres:
            connection.execute(text("ALTER TABLE audit_events ENABLE TRIGGER USER"))


def chain_holds(digest: Callable[[Mapping], str]) -> bool:
    """Whether every row links to the one before in its chain and hashes to its `hash` under
    `digest`."""
    with db.engine.connect() as connection:
        previous: dict[int, str] = {}
        for row in _rows(connection):
            if row["prev_hash"] != previous.get(row["chain"], GENESIS_HASH):
                return False
            if digest(row) != row["hash"]:
                return False
            previous[row["chain"]] = row["hash"]
    return True
