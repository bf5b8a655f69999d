"""panel work together: finding holders, discussion on findings, corrections, panel notifications

Revision ID: d2a7c9e4f1b8
Revises: c5f2a8d3e6b1
Create Date: 2026-12-21 10:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "d2a7c9e4f1b8"
down_revision = "c5f2a8d3e6b1"
branch_labels = None
depends_on = None

# The kinds a notification may have before and after, copied here so this migration keeps
# doing what it did whatever kb.states becomes.
KINDS_BEFORE = ("mention", "reply", "moderation", "flag", "follow", "outcome", "reminder")
KINDS_ADDED = (
    "finding_new",
    "proposed",
    "agreed",
    "agreement_lost",
    "finding_comment",
    "published",
    "correction",
    "consultation",
    "receipt",
)


def _kinds(values):
    listed = ", ".join(f"'{value}'" for value in values)
    return f"kind IN ({listed})"


def _set_notification_kinds(values):
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_notifications_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_notifications_kind"), _kinds(values))


def upgrade():
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("holder_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_findings_holder_id"), ["holder_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_findings_holder_id_users"), "users", ["holder_id"], ["id"], ondelete="SET NULL"
        )
    op.execute(sa.text("UPDATE findings SET holder_id = created_by_id"))
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("finding_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("resolved_by_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_comments_finding_id"), ["finding_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_comments_finding_id_findings"), "findings", ["finding_id"], ["id"], ondelete="CASCADE"
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_comments_resolved_by_id_users"), "users", ["resolved_by_id"], ["id"], ondelete="SET NULL"
        )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("finding_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_notifications_finding_id"), ["finding_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_notifications_finding_id_findings"), "findings", ["finding_id"], ["id"], ondelete="CASCADE"
        )
    _set_notification_kinds((*KINDS_BEFORE, *KINDS_ADDED))
    op.create_table(
        "finding_corrections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("finding_id", sa.Integer(), nullable=False),
        sa.Column("revision_number", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("note_html", sa.Text(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("corrected_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["finding_id"], ["findings.id"], name=op.f("fk_finding_corrections_finding_id_findings"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_finding_corrections_author_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_finding_corrections")),
    )
    with op.batch_alter_table("finding_corrections", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_finding_corrections_finding_id"), ["finding_id"], unique=False)


def downgrade():
    with op.batch_alter_table("finding_corrections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_finding_corrections_finding_id"))
    op.drop_table("finding_corrections")
    added = ", ".join(f"'{kind}'" for kind in KINDS_ADDED)
    op.execute(sa.text(f"DELETE FROM notifications WHERE kind IN ({added})"))
    _set_notification_kinds(KINDS_BEFORE)
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_notifications_finding_id_findings"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_notifications_finding_id"))
        batch_op.drop_column("finding_id")
    op.execute(sa.text("DELETE FROM comments WHERE finding_id IS NOT NULL"))
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_comments_resolved_by_id_users"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_comments_finding_id_findings"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_comments_finding_id"))
        batch_op.drop_column("resolved_by_id")
        batch_op.drop_column("resolved_at")
        batch_op.drop_column("finding_id")
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_findings_holder_id_users"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_findings_holder_id"))
        batch_op.drop_column("holder_id")
