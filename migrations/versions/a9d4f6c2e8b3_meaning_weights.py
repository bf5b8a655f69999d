"""token weights for search by meaning (each token's inverse document frequency over all parts)

Revision ID: a9d4f6c2e8b3
Revises: b7e3c9d1a5f2
Create Date: 2026-12-07 19:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a9d4f6c2e8b3"
down_revision = "b7e3c9d1a5f2"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "meaning_weights",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(length=80), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("parts", sa.Integer(), nullable=False),
        sa.Column("weights", sa.LargeBinary(), nullable=False),
        sa.Column("made_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_meaning_weights_model", "meaning_weights", ["model", "id"])


def downgrade():
    op.drop_index("ix_meaning_weights_model", table_name="meaning_weights")
    op.drop_table("meaning_weights")
