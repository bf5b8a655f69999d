"""pending second factors kept on the server; comment drafts' client address; names folded to one line

Revision ID: b8d41f6a2c93
Revises: 7c4e2a9b1d36
Create Date: 2026-12-08 10:00:00.000000

"""

import re

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "b8d41f6a2c93"
down_revision = "7c4e2a9b1d36"
branch_labels = None
depends_on = None

# What kb.text calls forbidden in one line (controls, CR and LF, lone surrogates) and invisible
# (zero-width, bidi), copied so that this migration keeps working whatever kb.text becomes.
_NOT_IN_A_NAME = re.compile(
    "[\x00-\x08\x0a-\x1f\x7f-\x9f\ud800-\udfff\u00ad\u034f\u061c\u115f\u1160\u3164\uffa0\u180e"
    "\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
)


def _fold(text):
    return " ".join(_NOT_IN_A_NAME.sub(" ", text.replace("\t", " ")).split())


def _fold_names(table, column):
    """Fold names stored before names were checked (a line break broke every mail naming them)."""
    connection = op.get_bind()
    names = sa.table(table, sa.column("id", sa.Integer), sa.column(column, sa.String))
    taken = {value for (value,) in connection.execute(sa.select(names.c[column]))}
    for row_id, value in connection.execute(sa.select(names.c.id, names.c[column])).all():
        folded = _fold(value or "") or f"{table} {row_id}"
        if folded == value:
            continue
        if folded in taken:  # organisation names are unique
            folded = f"{folded} ({row_id})"
        taken.add(folded)
        connection.execute(sa.update(names).where(names.c.id == row_id).values({column: folded}))


def upgrade():
    op.create_table(
        "pending_second_factors",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("secret", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_pending_second_factors_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_second_factors")),
    )
    with op.batch_alter_table("pending_second_factors", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pending_second_factors_expires_at"), ["expires_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_pending_second_factors_user_id"), ["user_id"], unique=False)

    with op.batch_alter_table("comment_drafts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("client_address", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_comment_drafts_client_address"), ["client_address"], unique=False)

    _fold_names("users", "display_name")
    _fold_names("organisations", "name")


def downgrade():
    with op.batch_alter_table("comment_drafts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_comment_drafts_client_address"))
        batch_op.drop_column("client_address")

    with op.batch_alter_table("pending_second_factors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pending_second_factors_user_id"))
        batch_op.drop_index(batch_op.f("ix_pending_second_factors_expires_at"))

    op.drop_table("pending_second_factors")
