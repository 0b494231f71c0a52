"""corrections: certificate corrections; a certificate may be superseded by another

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 22:10:00

A vaccination keeps one unrevoked certificate (a partial unique index instead of a unique
constraint), since an approved correction issues a new one and revokes the old as superseded.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic. The lead re-chains after 0008 on merge.
revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

LIVE = sa.text("revoked_at IS NULL")


def upgrade():
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.add_column(sa.Column("superseded_by_id", sa.String(length=32), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_certificates_superseded_by_id_certificates"),
            "certificates",
            ["superseded_by_id"],
            ["id"],
            ondelete="RESTRICT",
        )
        batch_op.drop_constraint(batch_op.f("uq_certificates_vaccination_id"), type_="unique")
        batch_op.create_index(
            "uq_certificates_vaccination_live",
            ["vaccination_id"],
            unique=True,
            sqlite_where=LIVE,
            postgresql_where=LIVE,
        )
    op.create_table(
        "certificate_corrections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("certificate_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=120), nullable=True),
        sa.Column("date_of_birth", sa.Date(), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reviewed_by_id", sa.Integer(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rejection_reason", sa.String(length=500), nullable=True),
        sa.Column("new_certificate_id", sa.String(length=32), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'rejected')",
            name=op.f("ck_certificate_corrections_status"),
        ),
        sa.ForeignKeyConstraint(
            ["certificate_id"],
            ["certificates.id"],
            name=op.f("fk_certificate_corrections_certificate_id_certificates"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_certificate_corrections_member_id_members"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["new_certificate_id"],
            ["certificates.id"],
            name=op.f("fk_certificate_corrections_new_certificate_id_certificates"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_by_id"],
            ["users.id"],
            name=op.f("fk_certificate_corrections_reviewed_by_id_users"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_certificate_corrections_user_id_users"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificate_corrections")),
    )
    with op.batch_alter_table("certificate_corrections", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_certificate_corrections_certificate_id"),
            ["certificate_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_certificate_corrections_person", ["user_id", "member_id", "status"], unique=False
        )
        batch_op.create_index(
            "ix_certificate_corrections_status_id", ["status", "id"], unique=False
        )


def downgrade():
    superseded = op.get_bind().scalar(
        sa.text("SELECT count(*) FROM certificates WHERE superseded_by_id IS NOT NULL")
    )
    if superseded:
        raise RuntimeError(
            f"{superseded} certificates were superseded by corrections; a vaccination would "
            "have several certificates, which 0007 does not allow"
        )
    op.drop_table("certificate_corrections")
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_certificates_vaccination_live", sqlite_where=LIVE, postgresql_where=LIVE
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_certificates_vaccination_id"), ["vaccination_id"]
        )
        batch_op.drop_constraint(
            batch_op.f("fk_certificates_superseded_by_id_certificates"), type_="foreignkey"
        )
        batch_op.drop_column("superseded_by_id")
