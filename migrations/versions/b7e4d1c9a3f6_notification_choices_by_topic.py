"""notification choices by topic: in the app, mailed at once, in the digest

Revision ID: b7e4d1c9a3f6
Revises: d2a7c9e4f1b8
Create Date: 2026-12-21 12:00:00.000000

"""

import datetime as dt

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "b7e4d1c9a3f6"
down_revision = "d2a7c9e4f1b8"
branch_labels = None
depends_on = None

OLDER_SWITCH = {
    "panel_work": "mail_replies",
    "agreement_lost": "mail_replies",
    "finding_talk": "mail_mentions",
    "publication": "mail_replies",
    "consultations": "mail_replies",
    "receipts": "mail_replies",
}
"""Each topic and the older mail switch whose "off" it keeps (as `Topic.older_switch` in kb.notifications.topics)."""


def upgrade():
    op.create_table(
        "notification_choices",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=24), nullable=False),
        sa.Column("in_app", sa.Boolean(), nullable=False),
        sa.Column("delivery", sa.String(length=8), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("delivery IN ('now', 'digest', 'none')", name=op.f("ck_notification_choices_delivery")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_notification_choices_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "topic", name=op.f("pk_notification_choices")),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("in_app", sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column("for_digest", sa.Boolean(), server_default=sa.false(), nullable=False))
    _keep_older_switches_off()


def _keep_older_switches_off():
    """Someone who had switched mentions or replies mail off is not mailed the new topics at once: in the app only."""
    settings = sa.table(
        "notification_settings",
        sa.column("user_id", sa.Integer),
        sa.column("mail_mentions", sa.Boolean),
        sa.column("mail_replies", sa.Boolean),
    )
    choices = sa.table(
        "notification_choices",
        sa.column("user_id", sa.Integer),
        sa.column("topic", sa.String),
        sa.column("in_app", sa.Boolean),
        sa.column("delivery", sa.String),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    now = dt.datetime.now(dt.UTC)
    for topic, switch in OLDER_SWITCH.items():
        rows = sa.select(
            settings.c.user_id,
            sa.literal(topic, sa.String),
            sa.true(),
            sa.literal("none", sa.String),
            sa.literal(now, sa.DateTime(timezone=True)),
        ).where(settings.c[switch].is_(sa.false()))
        op.execute(choices.insert().from_select(["user_id", "topic", "in_app", "delivery", "updated_at"], rows))


def downgrade():
    # Items kept only for the digest were never listed; without the column they would be.
    op.execute(sa.text("DELETE FROM notifications WHERE in_app = false"))
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_column("for_digest")
        batch_op.drop_column("in_app")
    op.drop_table("notification_choices")
