"""list indexes in page order: (status|center_id, created_at, id) and (city_key, name, id)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 04:15:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('vaccinations', schema=None) as batch_op:
        batch_op.create_index('ix_vaccinations_status_created_at_id', ['status', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_vaccinations_center_id_created_at_id', ['center_id', 'created_at', 'id'], unique=False)
        batch_op.drop_index('ix_vaccinations_status_created_at')
        batch_op.drop_index('ix_vaccinations_center_id_created_at')
    with op.batch_alter_table('centers', schema=None) as batch_op:
        batch_op.create_index('ix_centers_city_key_name_id', ['city_key', 'name', 'id'], unique=False)
        batch_op.drop_index('ix_centers_city_key')


def downgrade():
    with op.batch_alter_table('centers', schema=None) as batch_op:
        batch_op.create_index('ix_centers_city_key', ['city_key'], unique=False)
        batch_op.drop_index('ix_centers_city_key_name_id')
    with op.batch_alter_table('vaccinations', schema=None) as batch_op:
        batch_op.create_index('ix_vaccinations_center_id_created_at', ['center_id', 'created_at'], unique=False)
        batch_op.create_index('ix_vaccinations_status_created_at', ['status', 'created_at'], unique=False)
        batch_op.drop_index('ix_vaccinations_center_id_created_at_id')
        batch_op.drop_index('ix_vaccinations_status_created_at_id')
