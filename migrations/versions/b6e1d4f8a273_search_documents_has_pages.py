"""search documents say whether they hold pages of documents

Only on PostgreSQL, where search uses these tables: a results page reads document pages
only for the entries whose row says they have some. Existing rows hold none.

Revision ID: b6e1d4f8a273
Revises: a3d9e5b7c214
Create Date: 2026-12-07 11:40:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "b6e1d4f8a273"
down_revision = "a3d9e5b7c214"
branch_labels = None
depends_on = None


def _on_postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade():
    if not _on_postgresql():
        return
    op.add_column("search_documents", sa.Column("has_pages", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    if not _on_postgresql():
        return
    op.drop_column("search_documents", "has_pages")
