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
        sqlite_autoincrement=True,
    )
    op.create_index("ix_meaning_weights_model", "meaning_weights", ["model", "id"])
    if op.get_bind().dialect.name == "sqlite":
        # A database made at e4b9d2f7a1c6 before its ids were AUTOINCREMENT: made so now, as every worker's
        # matrix relies on ids never being used again.
        with op.batch_alter_table(
            "meaning_parts", recreate="always", table_kwargs={"sqlite_autoincrement": True}
        ) as batch:
            batch.alter_column("id", existing_type=sa.Integer(), nullable=False)


def downgrade():
    op.drop_index("ix_meaning_weights_model", table_name="meaning_weights")
    op.drop_table("meaning_weights")
