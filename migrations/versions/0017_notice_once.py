"""sessions.new_client: what the new-client check found ("first" or "noticed"), so that the
checks of one account see each other's decisions and a new client is noticed exactly once

Sessions from before this revision keep NULL: the check orders them by id, as it did.

Revision ID: 0017_notice_once
Revises: 0016_center
Create Date: 2026-12-03 10:00:00
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0017_notice_once"
down_revision = "0016_center"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("new_client", sa.String(length=8), nullable=True))


def downgrade():
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_column("new_client")
