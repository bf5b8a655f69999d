"""consultation opening notices: tell all members, and when the opening was told

Revision ID: a8e3f5c1d7b2
Revises: b7e4d1c9a3f6
Create Date: 2026-12-22 10:00:00.000000

"""

import datetime as dt

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a8e3f5c1d7b2"
down_revision = "b7e4d1c9a3f6"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("consultations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tell_all_members", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("opening_told_at", sa.DateTime(timezone=True), nullable=True))
    # Consultations already open (or closed) are not announced now: they opened before there was anyone to tell.
    consultations = sa.table(
        "consultations", sa.column("opens_at", sa.DateTime(timezone=True)), sa.column("opening_told_at", sa.DateTime)
    )
    op.execute(
        consultations.update()
        .where(consultations.c.opens_at <= dt.datetime.now(dt.UTC))
        .values(opening_told_at=consultations.c.opens_at)
    )


def downgrade():
    with op.batch_alter_table("consultations", schema=None) as batch_op:
        batch_op.drop_column("opening_told_at")
        batch_op.drop_column("tell_all_members")
