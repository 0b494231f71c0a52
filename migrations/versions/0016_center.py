"""center: dose tallies (by day and center, month and center, day and vaccine); staff NIDs

Revision ID: 0016_center
Revises: 0015_email_change
Create Date: 2026-12-02 01:45:00
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0016_center"
down_revision = "0015_email_change"
branch_labels = None
depends_on = None

# The tallies start from the doses already given (the service keeps them exact from here on);
# an early approval without a date counts on the day it was registered.
DAY = "COALESCE(vaccination_date, date(created_at))"
FILL_BY_CENTER = (
    "INSERT INTO dose_tallies_by_center (day, center_id, doses)"
    f" SELECT {DAY}, center_id, count(*) FROM vaccinations"
    f" WHERE status = 'approved' GROUP BY {DAY}, center_id"
)
FILL_BY_VACCINE = (
    "INSERT INTO dose_tallies_by_vaccine (day, vaccine_id, dose_number, doses)"
    f" SELECT {DAY}, vaccine_id, dose_number, count(*) FROM vaccinations"
    f" WHERE status = 'approved' GROUP BY {DAY}, vaccine_id, dose_number"
)


FILL_BY_CENTER_MONTH = (
    "INSERT INTO dose_tallies_by_center_month (month, center_id, doses)"
    " SELECT {month}, center_id, sum(doses) FROM dose_tallies_by_center GROUP BY {month}, center_id"
)
MONTH = {
    "postgresql": "CAST(date_trunc('month', day) AS date)",
    "sqlite": "date(day, 'start of month')",
}


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("staff_nid", sa.Text(), nullable=True))
    op.create_table(
        "dose_tallies_by_center",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("center_id", sa.Integer(), nullable=False),
        sa.Column("doses", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["center_id"],
            ["centers.id"],
            name=op.f("fk_dose_tallies_by_center_center_id_centers"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("day", "center_id", name=op.f("pk_dose_tallies_by_center")),
    )
    op.create_table(
        "dose_tallies_by_vaccine",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("vaccine_id", sa.Integer(), nullable=False),
        sa.Column("dose_number", sa.Integer(), nullable=False),
        sa.Column("doses", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["vaccine_id"],
            ["vaccines.id"],
            name=op.f("fk_dose_tallies_by_vaccine_vaccine_id_vaccines"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint(
            "day", "vaccine_id", "dose_number", name=op.f("pk_dose_tallies_by_vaccine")
        ),
    )
    op.create_table(
        "dose_tallies_by_center_month",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("center_id", sa.Integer(), nullable=False),
        sa.Column("doses", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["center_id"],
            ["centers.id"],
            name=op.f("fk_dose_tallies_by_center_month_center_id_centers"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("month", "center_id", name=op.f("pk_dose_tallies_by_center_month")),
    )
    op.execute(FILL_BY_CENTER)
    op.execute(FILL_BY_VACCINE)
    op.execute(FILL_BY_CENTER_MONTH.format(month=MONTH[op.get_bind().dialect.name]))


def downgrade():
    op.drop_table("dose_tallies_by_center_month")
    op.drop_table("dose_tallies_by_vaccine")
    op.drop_table("dose_tallies_by_center")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("staff_nid")
