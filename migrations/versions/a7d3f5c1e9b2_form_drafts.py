"""form drafts: what was typed into a long form, kept across a sign-in and while typing

Revision ID: a7d3f5c1e9b2
Revises: c8f2a6d4e915
Create Date: 2026-12-07 08:00:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "a7d3f5c1e9b2"
down_revision = "c8f2a6d4e915"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "form_drafts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("client_address", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_form_drafts_owner_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_form_drafts")),
        sa.UniqueConstraint("owner_id", "path", name=op.f("uq_form_drafts_owner_id")),
        sa.UniqueConstraint("token", name=op.f("uq_form_drafts_token")),
    )
    with op.batch_alter_table("form_drafts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_form_drafts_client_address"), ["client_address"], unique=False)
        batch_op.create_index(batch_op.f("ix_form_drafts_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_form_drafts_updated_at"), ["updated_at"], unique=False)


def downgrade():
    with op.batch_alter_table("form_drafts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_form_drafts_updated_at"))
        batch_op.drop_index(batch_op.f("ix_form_drafts_owner_id"))
        batch_op.drop_index(batch_op.f("ix_form_drafts_client_address"))
    op.drop_table("form_drafts")
