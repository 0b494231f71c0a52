"""audit shards: AUDIT_CHAINS chains, each with its own head row, instead of one hot head

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 22:20:00

Upgrading adds `audit_events.chain` (existing rows: chain 1, whose head is the existing head row
id 1): every existing hash stays valid, since the chain is not part of a row's hash. The heads of
the other chains are created by their first append.

Downgrading checks every chain under AUDIT_KEY (refusing to merge a broken one, which would
launder the tampering), then re-chains all rows, in id order, into the one chain of revision 0007
and drops the other heads. The canonical form is a frozen copy of backend/audit/services.py's.
"""

import hashlib
import hmac
import json
from datetime import UTC

import sqlalchemy as sa
from alembic import op
from flask import current_app

# revision identifiers, used by Alembic.
revision = "0010"
down_revision = "0009"
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
    sa.column("chain", sa.Integer),
    *(sa.column(name) for name in HASHED if name not in ("created_at", "details")),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("details", sa.JSON),
    sa.column("hash", sa.String),
)
head = sa.table("audit_head", sa.column("id", sa.Integer), sa.column("last_hash", sa.String))


def upgrade():
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("chain", sa.Integer(), server_default="1", nullable=False))


def _keyed(row, prev_hash: str) -> str:
    key = current_app.config.get("AUDIT_KEY")
    if not key:
        raise RuntimeError("AUDIT_KEY is not set: the audit chains cannot be merged")
    content = {key: row[key] for key in HASHED}
    created_at = content["created_at"]
    # SQLite keeps no zone (the app writes UTC); PostgreSQL answers in the session's zone.
    created_at = created_at.replace(tzinfo=UTC) if created_at.tzinfo is None else created_at
    content["created_at"] = created_at.astimezone(UTC).isoformat(timespec="microseconds")
    content["details"] = content["details"] or {}
    content["prev_hash"] = prev_hash
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hmac.new(key.encode(), canonical.encode(), hashlib.sha256).hexdigest()


def _batches(bind):
    last_id = 0
    while True:
        query = sa.select(events).where(events.c.id > last_id).order_by(events.c.id).limit(BATCH)
        batch = bind.execute(query).mappings().all()
        if not batch:
            return
        yield batch
        last_id = batch[-1]["id"]


def downgrade():
    bind = op.get_bind()
    postgresql = bind.dialect.name == "postgresql"
    if postgresql:  # revision 0003's append-only trigger; this transaction only
        op.execute("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only")
    expected: dict[int, str] = {}
    rewritten = GENESIS_HASH
    for batch in _batches(bind):
        changes = []
        for row in batch:
            previous = expected.get(row["chain"], GENESIS_HASH)
            if row["prev_hash"] != previous or row["hash"] != _keyed(row, previous):
                raise RuntimeError(
                    f"audit chain {row['chain']} broken at event #{row['id']}: refusing to merge "
                    "it, which would hide the change; investigate before migrating"
                )
            expected[row["chain"]] = row["hash"]
            changes.append({"row_id": row["id"], "new_prev": rewritten})
            rewritten = _keyed(row, rewritten)
            changes[-1]["new_hash"] = rewritten
        bind.execute(
            events.update()
            .where(events.c.id == sa.bindparam("row_id"))
            .values(prev_hash=sa.bindparam("new_prev"), hash=sa.bindparam("new_hash")),
            changes,
        )
    held = dict(bind.execute(sa.select(head.c.id, head.c.last_hash)).all())
    for chain in expected.keys() | held.keys():
        if held.get(chain) != expected.get(chain, GENESIS_HASH):
            raise RuntimeError(f"audit chain {chain} broken: its newest events were removed")
    bind.execute(head.delete().where(head.c.id != 1))
    bind.execute(head.update().where(head.c.id == 1).values(last_hash=rewritten))
    if postgresql:
        op.execute("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_column("chain")
