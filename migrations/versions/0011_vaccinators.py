"""vaccinators: role 3 attached to a center; doses given (batch, vaccinator, time); code attempts

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 22:10:00.000000

The statistics index covers approved doses by day, center, vaccine and dose number.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

GIVEN = sa.text("status = 'approved'")


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("center_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_users_center_id"), ["center_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_users_center_id_centers"),
            "centers",
            ["center_id"],
            ["id"],
            ondelete="RESTRICT",
        )
        batch_op.drop_constraint(op.f("ck_users_role"), type_="check")
        batch_op.create_check_constraint(op.f("ck_users_role"), "role_id IN (1, 2, 3)")
        batch_op.create_check_constraint(
            op.f("ck_users_center_id"), "(role_id = 3) = (center_id IS NOT NULL)"
        )

    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("failed_codes", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.create_check_constraint(op.f("ck_appointments_failed_codes"), "failed_codes >= 0")

    with op.batch_alter_table("vaccinations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("batch", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("administered_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("administered_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_vaccinations_administered_by_id_users"),
            "users",
            ["administered_by_id"],
            ["id"],
            ondelete="RESTRICT",
        )
        batch_op.create_index(
            "ix_vaccinations_given_date_center_vaccine_dose",
            ["vaccination_date", "center_id", "vaccine_id", "dose_number"],
            unique=False,
            sqlite_where=GIVEN,
            postgresql_where=GIVEN,
        )


def downgrade():
    vaccinators = op.get_bind().scalar(sa.text("SELECT count(*) FROM users WHERE role_id = 3"))
    if vaccinators:
        raise RuntimeError(f"{vaccinators} vaccinator accounts exist; close and export them first")
    with op.batch_alter_table("vaccinations", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_vaccinations_given_date_center_vaccine_dose",
            sqlite_where=GIVEN,
            postgresql_where=GIVEN,
        )
        batch_op.drop_constraint(
            batch_op.f("fk_vaccinations_administered_by_id_users"), type_="foreignkey"
        )
        batch_op.drop_column("administered_at")
        batch_op.drop_column("administered_by_id")
        batch_op.drop_column("batch")

    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_appointments_failed_codes"), type_="check")
        batch_op.drop_column("failed_codes")

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_users_center_id"), type_="check")
        batch_op.drop_constraint(op.f("ck_users_role"), type_="check")
        batch_op.create_check_constraint(op.f("ck_users_role"), "role_id IN (1, 2)")
        batch_op.drop_constraint(batch_op.f("fk_users_center_id_centers"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_users_center_id"))
        batch_op.drop_column("center_id")
