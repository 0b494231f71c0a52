"""Re-encrypting stored values under the current data key, a batch at a time.

Safe while the service runs: the app decrypts with the current and the retired keys, each batch
is its own short transaction, and a value is replaced only if it is still the one that was read
(a request that rewrote it meanwhile wrote it under the current key already). Resumable: only
values not under the current key are selected, so a second run picks up where one stopped and
is a no-op once everything is rotated.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Table, Text, and_, func, not_, or_, select, type_coerce, update

from backend.extensions import db
from backend.privacy.crypto import keyring
from backend.privacy.fields import EncryptedText


@dataclass
class Batch:
    """One committed batch: the table and how many values were re-encrypted."""

    table: str
    values: int


def encrypted_columns() -> dict[Table, list]:
    """Every table with encrypted columns, and those columns."""
    found = {}
    for table in db.metadata.sorted_tables:
        columns = [column for column in table.c if isinstance(column.type, EncryptedText)]
        if columns:
            found[table] = columns
    return found


def _stale(value, current: str):
    """SQL: a stored value (raw text) that is set and not under the current key."""
    return and_(value.is_not(None), not_(value.startswith(current, autoescape=True)))


def rotate(batch_size: int = 500) -> Iterator[Batch]:
    """Re-encrypt every value not under the current key; yields after each committed batch."""
    ring = keyring()
    current = ring.current_id + ":"
    for table, columns in encrypted_columns().items():
        (key,) = table.primary_key.columns
        raw = [type_coerce(column, Text) for column in columns]
        stale = or_(*(_stale(value, current) for value in raw))
        last = None
        while True:
            query = select(key, *raw).where(stale).order_by(key).limit(batch_size)
            if last is not None:
                query = query.where(key > last)
            rows = db.session.execute(query).all()
            if not rows:
                db.session.commit()
                break
            changed = 0
            for row in rows:
                for column, stored in zip(columns, row[1:], strict=True):
                    if stored is None or ring.is_current(stored):
                        continue
                    context = f"{table.name}.{column.name}"
                    fresh = ring.encrypt(ring.decrypt(stored, context), context)
                    db.session.execute(
                        update(table)
                        .where(key == row[0], type_coerce(column, Text) == stored)
                        .values({column.name: type_coerce(fresh, Text)})
                    )
                    changed += 1
            db.session.commit()
            last = rows[-1][0]
            yield Batch(table.name, changed)


def remaining() -> dict[str, int]:
    """How many values per table are not under the current key (0 when rotation is done)."""
    current = keyring().current_id + ":"
    counts = {}
    for table, columns in encrypted_columns().items():
        stale = [type_coerce(column, Text) for column in columns]
        counts[table.name] = sum(
            db.session.scalar(select(func.count()).select_from(table).where(_stale(value, current)))
            for value in stale
        )
    db.session.commit()
    return counts
