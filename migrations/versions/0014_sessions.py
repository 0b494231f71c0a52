"""sessions: one row per access token (list, end, last seen, new-client notice); revoked_tokens
goes, since a token is accepted only while its session row is live

Tokens issued before this revision have no session row and are refused after it: everyone signs
in once more. The downgrade keeps the sign-outs: every ended session whose token has not expired
becomes a revoked_tokens row again.

Revision ID: 0014_sessions
Revises: 0012
Create Date: 2026-12-02 01:45:00
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0014_sessions"
down_revision = "0013_encryption"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("jti", sa.String(length=64), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("client_address", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_sessions_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sessions")),
        sa.UniqueConstraint("jti", name=op.f("uq_sessions_jti")),
    )
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.create_index("ix_sessions_user_id_issued_at", ["user_id", "issued_at"])
        batch_op.create_index(batch_op.f("ix_sessions_expires_at"), ["expires_at"])
    op.drop_table("revoked_tokens")


def downgrade():
    op.create_table(
        "revoked_tokens",
        sa.Column("jti", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_revoked_tokens_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("jti", name=op.f("pk_revoked_tokens")),
    )
    with op.batch_alter_table("revoked_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_revoked_tokens_expires_at"), ["expires_at"])
        batch_op.create_index(batch_op.f("ix_revoked_tokens_user_id"), ["user_id"])
    # Sign-outs stay sign-outs: the older code refuses a token only by its revocation row.
    op.execute(
        "INSERT INTO revoked_tokens (jti, user_id, expires_at)"
        " SELECT jti, user_id, expires_at FROM sessions"
        " WHERE ended_at IS NOT NULL AND expires_at > CURRENT_TIMESTAMP"
    )
    op.drop_table("sessions")
