"""tag aliases (old slugs of renamed and merged tags), the regions list, and reminder notifications

Revision ID: b7e1d4c2a9f0
Revises: a7d3f5c1e9b2
Create Date: 2026-12-20 10:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "b7e1d4c2a9f0"
down_revision = "a7d3f5c1e9b2"
branch_labels = None
depends_on = None

# The kinds a notification may have before and after, copied here so this migration keeps
# doing what it did whatever kb.states becomes.
KINDS_BEFORE = ("mention", "reply", "moderation", "flag", "follow", "outcome")
KINDS_AFTER = (*KINDS_BEFORE, "reminder")


def _kinds(values):
    listed = ", ".join(f"'{value}'" for value in values)
    return f"kind IN ({listed})"


def _set_notification_kinds(values):
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_notifications_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_notifications_kind"), _kinds(values))


def upgrade():
    op.create_table(
        "tag_aliases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=120), nullable=False),
        sa.Column("tag_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tag_id"], ["tags.id"], name=op.f("fk_tag_aliases_tag_id_tags"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tag_aliases")),
        sa.UniqueConstraint("slug", name=op.f("uq_tag_aliases_slug")),
    )
    with op.batch_alter_table("tag_aliases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tag_aliases_tag_id"), ["tag_id"], unique=False)
    op.create_table(
        "regions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("synonyms", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_regions")),
        sa.UniqueConstraint("name", name=op.f("uq_regions_name")),
    )
    _set_notification_kinds(KINDS_AFTER)


def downgrade():
    op.execute(sa.text("DELETE FROM notifications WHERE kind = 'reminder'"))
    _set_notification_kinds(KINDS_BEFORE)
    op.drop_table("regions")
    with op.batch_alter_table("tag_aliases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tag_aliases_tag_id"))
    op.drop_table("tag_aliases")
