"""entries' parts and their vectors, for search by meaning

Revision ID: e4b9d2f7a1c6
Revises: c3f1a7e9d2b4
Create Date: 2026-12-30 10:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "e4b9d2f7a1c6"
down_revision = "c3f1a7e9d2b4"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "meaning_parts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=300), nullable=False),
        sa.Column("anchor", sa.String(length=300), nullable=False),
        sa.Column("model", sa.String(length=80), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["entry_id"], ["entries.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_meaning_parts_entry", "meaning_parts", ["entry_id", "position"])


def downgrade():
    op.drop_index("ix_meaning_parts_entry", table_name="meaning_parts")
    op.drop_table("meaning_parts")
