"""findings cite a page of a document: the document version and page number on a citation

Revision ID: c8f2a6d4e915
Revises: b6e1d4f8a273
Create Date: 2026-12-07 12:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "c8f2a6d4e915"
down_revision = "b6e1d4f8a273"
branch_labels = None
depends_on = None

# The kinds a citation may have, copied here so this migration keeps doing what it did.
KINDS_BEFORE = ("entry", "paragraph", "comment", "response")
KINDS_AFTER = ("entry", "paragraph", "page", "comment", "response")


def _condition(values):
    listed = ", ".join(f"'{value}'" for value in values)
    return f"kind IN ({listed})"


def upgrade():
    with op.batch_alter_table("citations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("document_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("page_number", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_citations_document_id"), ["document_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_citations_document_id_documents"), "documents", ["document_id"], ["id"], ondelete="SET NULL"
        )
        batch_op.drop_constraint(op.f("ck_citations_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_citations_kind"), _condition(KINDS_AFTER))


def downgrade():
    op.execute(sa.text("DELETE FROM citations WHERE kind = 'page'"))
    with op.batch_alter_table("citations", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_citations_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_citations_kind"), _condition(KINDS_BEFORE))
        batch_op.drop_constraint(batch_op.f("fk_citations_document_id_documents"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_citations_document_id"))
        batch_op.drop_column("page_number")
        batch_op.drop_column("document_id")
