"""encryption: personal fields encrypted at rest (AES-256-GCM), blind indexes for lookups

Revision ID: 0013_encryption
Revises: 0012
Create Date: 2026-12-02 01:40:00

The clear columns become text holding `kid:nonce:ciphertext` (backend/privacy/crypto.py) under
the app's DATA_ENCRYPTION_KEY, in place: each table's values are rewritten in batches of BATCH
rows. Unique constraints move from the values to their blind indexes (HMAC-SHA256 under
BLIND_INDEX_KEY), which are filled in the same pass. The downgrade decrypts everything back
(any configured key, current or retired) and restores the clear columns and constraints; a
member purged after this revision (NID and date of birth gone) gets placeholders the old schema
accepts: "purged-<id>" and 1900-01-01.
"""

from alembic import op
import sqlalchemy as sa

from backend.privacy.crypto import keyring
from backend.privacy.fields import index_of


# revision identifiers, used by Alembic.
revision = "0013_encryption"
down_revision = "0012"
branch_labels = None
depends_on = None

BATCH = 500
# table -> [(column, its clear type, nullable in the old schema)]
ENCRYPTED = {
    "users": [
        ("email", sa.String(length=254), False),
        ("address", sa.String(length=255), True),
        ("nid", sa.String(length=20), True),
        ("phone_number", sa.String(length=16), True),
        ("date_of_birth", sa.Date(), True),
    ],
    "members": [("nid", sa.String(length=20), False), ("date_of_birth", sa.Date(), False)],
    "certificate_corrections": [("date_of_birth", sa.Date(), True)],
    "certificates": [("token", sa.String(length=4000), False)],
}
# table -> {index column: (encrypted column, kind)}
INDEXES = {
    "users": {
        "email_index": ("email", "email"),
        "nid_index": ("nid", "nid"),
        "phone_index": ("phone_number", "phone"),
    },
    "members": {"nid_index": ("nid", "nid")},
}
UNIQUE = {"users": ["email", "nid"], "members": ["nid"]}


def _using(column: str, type_) -> dict:
    return {"postgresql_using": f"{column}::{'date' if isinstance(type_, sa.Date) else 'text'}"}


def _rewrite(table: str, columns: list[str], change) -> None:
    """Call `change(row) -> {column: value}` on every row of `table`, BATCH rows at a time."""
    connection = op.get_bind()
    key = "id"
    last = None
    select = f"SELECT {key}, {', '.join(columns)} FROM {table}"
    while True:
        where = "" if last is None else f" WHERE {key} > :last"
        rows = connection.execute(
            sa.text(f"{select}{where} ORDER BY {key} LIMIT {BATCH}"), {"last": last}
        ).all()
        if not rows:
            return
        updates = [
            {"row_id": row[0], **change(dict(zip(columns, row[1:], strict=True)))} for row in rows
        ]
        names = sorted(set(updates[0]) - {"row_id"})
        assignments = ", ".join(f"{name} = :{name}" for name in names)
        connection.execute(
            sa.text(f"UPDATE {table} SET {assignments} WHERE {key} = :row_id"), updates
        )
        last = rows[-1][0]


def upgrade():
    ring = keyring()
    for table, columns in ENCRYPTED.items():
        indexes = INDEXES.get(table, {})
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in UNIQUE.get(table, []):
                batch_op.drop_constraint(f"uq_{table}_{column}", type_="unique")
            for name, type_, _ in columns:
                batch_op.alter_column(
                    name, existing_type=type_, type_=sa.Text(), nullable=True, **_using(name, type_)
                )
            for index in indexes:
                batch_op.add_column(sa.Column(index, sa.String(length=64), nullable=True))
        names = [name for name, _, _ in columns]

        def seal(row, table=table, indexes=indexes):
            sealed = {
                name: None if value is None else ring.encrypt(str(value), f"{table}.{name}")
                for name, value in row.items()
            }
            for index, (name, kind) in indexes.items():
                sealed[index] = index_of(kind, row[name]) if row[name] is not None else None
            return sealed

        _rewrite(table, names, seal)
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, _, nullable in columns:
                # A purged member keeps only the NID's index (backend/privacy/purge.py).
                keep_null = nullable or table == "members"
                if not keep_null:
                    batch_op.alter_column(name, existing_type=sa.Text(), nullable=False)
            for index in indexes:
                if index == "phone_index":
                    batch_op.create_index("ix_users_phone_index", ["phone_index"], unique=False)
                else:
                    batch_op.create_unique_constraint(f"uq_{table}_{index}", [index])


def _clear_name(name: str, type_) -> str:
    """Where a column's clear value goes down: dates into a new column (see `downgrade`)."""
    return f"{name}_clear" if isinstance(type_, sa.Date) else name


def downgrade():
    # SQLite rebuilds a table to change a column's type and CASTs the values: text to DATE
    # gives a number (1960). So dates go into a new DATE column, which then takes the name.
    ring = keyring()
    for table, columns in ENCRYPTED.items():
        indexes = INDEXES.get(table, {})
        names = [name for name, _, _ in columns]
        dates = [(name, nullable) for name, type_, nullable in columns if isinstance(type_, sa.Date)]
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, _ in dates:
                batch_op.add_column(sa.Column(f"{name}_clear", sa.Date(), nullable=True))

        def unseal(row, table=table, columns=columns):
            clear = {}
            for name, type_, nullable in columns:
                value, target = row[name], _clear_name(name, type_)
                if value is not None:
                    clear[target] = ring.decrypt(value, f"{table}.{name}")
                elif nullable:
                    clear[target] = None
                else:  # a purged member: placeholders the old NOT NULL columns accept
                    clear[target] = "1900-01-01" if isinstance(type_, sa.Date) else "purged"
            return clear

        _rewrite(table, names, unseal)
        if table == "members":
            op.execute("UPDATE members SET nid = 'purged-' || id WHERE nid = 'purged'")
        with op.batch_alter_table(table, schema=None) as batch_op:
            for index in indexes:
                if index == "phone_index":
                    batch_op.drop_index("ix_users_phone_index")
                else:
                    batch_op.drop_constraint(f"uq_{table}_{index}", type_="unique")
                batch_op.drop_column(index)
            for name, type_, nullable in columns:
                if isinstance(type_, sa.Date):
                    batch_op.drop_column(name)
                else:
                    batch_op.alter_column(
                        name, existing_type=sa.Text(), type_=type_, nullable=nullable
                    )
            for column in UNIQUE.get(table, []):
                batch_op.create_unique_constraint(f"uq_{table}_{column}", [column])
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, nullable in dates:
                batch_op.alter_column(
                    f"{name}_clear",
                    new_column_name=name,
                    existing_type=sa.Date(),
                    nullable=nullable,
                )
