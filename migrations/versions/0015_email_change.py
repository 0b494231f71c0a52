"""email change: a one-time code bound to the address it confirms

Revision ID: 0015_email_change
Revises: 0012
Create Date: 2026-12-02 01:40:00
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0015_email_change"
down_revision = "0014_sessions"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("one_time_codes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("target", sa.Text(), nullable=True))


def downgrade():
    # Live email-change codes mean nothing without their address: they go with it.
    op.execute("DELETE FROM one_time_codes WHERE purpose = 'email_change'")
    with op.batch_alter_table("one_time_codes", schema=None) as batch_op:
        batch_op.drop_column("target")
