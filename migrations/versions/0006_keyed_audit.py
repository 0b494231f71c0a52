"""keyed audit chain: re-chain existing rows with HMAC-SHA256 under AUDIT_KEY

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 21:00:00

Rows written before this revision are chained with plain SHA-256. Upgrading first checks that
chain (refusing to key a chain that is already broken: keying it would launder the tampering),
then recomputes every row's prev_hash and hash, and the head, under the app's AUDIT_KEY, so one
rule verifies the whole trail. Downgrading does the reverse under the same checks. The key comes
from the app running the migration (Flask-Migrate) and is never written to the database.

The canonical form is a frozen copy of backend/audit/services.py's at this revision: a later
change there must not change what this migration computes.
"""
import hashlib
import hmac
import json
from datetime import UTC

import sqlalchemy as sa
from alembic import op
from flask import current_app


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

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
BATCH = 1000

events = sa.table(
    "audit_events",
    sa.column("id", sa.Integer),
    *(sa.column(name) for name in HASHED if name not in ("created_at", "details")),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("details", sa.JSON),
    sa.column("hash", sa.String),
)
head = sa.table("audit_head", sa.column("id", sa.Integer), sa.column("last_hash", sa.String))


def _canonical(row, prev_hash: str) -> bytes:
    content = {key: row[key] for key in HASHED}
    created_at = content["created_at"]
    # SQLite keeps no zone (the app writes UTC); PostgreSQL answers in the session's zone.
    created_at = created_at.replace(tzinfo=UTC) if created_at.tzinfo is None else created_at
    content["created_at"] = created_at.astimezone(UTC).isoformat(timespec="microseconds")
    content["details"] = content["details"] or {}
    content["prev_hash"] = prev_hash
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def _plain(row, prev_hash: str) -> str:
    return hashlib.sha256(_canonical(row, prev_hash)).hexdigest()


def _keyed(row, prev_hash: str) -> str:
    key = current_app.config.get("AUDIT_KEY")
    if not key:
        raise RuntimeError("AUDIT_KEY is not set: the audit chain cannot be re-keyed")
    return hmac.new(key.encode(), _canonical(row, prev_hash), hashlib.sha256).hexdigest()


def _rows(bind):
    last_id = 0
    while True:
        query = sa.select(events).where(events.c.id > last_id).order_by(events.c.id).limit(BATCH)
        batch = bind.execute(query).mappings().all()
        if not batch:
            return
        yield batch
        last_id = batch[-1]["id"]


def _rechain(old, new, scheme: str) -> None:
    """Check every row under `old`, then rewrite the chain under `new`; refuse a broken chain."""
    bind = op.get_bind()
    postgresql = bind.dialect.name == "postgresql"
    if postgresql:  # revision 0003's append-only trigger; this transaction only
        op.execute("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only")
    expected, rewritten = GENESIS_HASH, GENESIS_HASH
    for batch in _rows(bind):
        changes = []
        for row in batch:
            if row["prev_hash"] != expected or row["hash"] != old(row, expected):
                raise RuntimeError(
                    f"audit chain broken at event #{row['id']} ({scheme}): refusing to re-chain "
                    "it, which would hide the change; investigate before migrating"
                )
            expected = row["hash"]
            changes.append({"row_id": row["id"], "new_prev": rewritten})
            rewritten = new(row, rewritten)
            changes[-1]["new_hash"] = rewritten
        bind.execute(
            events.update()
            .where(events.c.id == sa.bindparam("row_id"))
            .values(prev_hash=sa.bindparam("new_prev"), hash=sa.bindparam("new_hash")),
            changes,
        )
    last_hash = bind.execute(sa.select(head.c.last_hash).where(head.c.id == 1)).scalar()
    if last_hash != expected:
        raise RuntimeError(f"audit chain broken ({scheme}): its newest events were removed")
    bind.execute(head.update().where(head.c.id == 1).values(last_hash=rewritten))
    if postgresql:
        op.execute("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only")


def upgrade():
    _rechain(_plain, _keyed, "plain SHA-256")


def downgrade():
    _rechain(_keyed, _plain, "keyed")
