"""documents attached to entries, their versions and their text by page

Revision ID: a3d9e5b7c214
Revises: f4c2e8a1b9d3
Create Date: 2026-12-17 09:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a3d9e5b7c214"
down_revision = "f4c2e8a1b9d3"
branch_labels = None
depends_on = None

_CURRENT = "replaced_by_id IS NULL AND removed_at IS NULL"


def upgrade():
    op.create_table(
        "documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("stored_name", sa.String(length=80), nullable=False),
        sa.Column("text_status", sa.String(length=16), nullable=False),
        sa.Column("text_message", sa.Text(), nullable=True),
        sa.Column("page_count", sa.Integer(), nullable=True),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("replaced_by_id", sa.Integer(), nullable=True),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "text_status IN ('pending', 'extracted', 'no_text', 'failed')", name=op.f("ck_documents_text_status")
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["entries.id"], name=op.f("fk_documents_entry_id_entries"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["replaced_by_id"],
            ["documents.id"],
            name=op.f("fk_documents_replaced_by_id_documents"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"], ["users.id"], name=op.f("fk_documents_uploaded_by_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
        sa.UniqueConstraint("stored_name", name=op.f("uq_documents_stored_name")),
    )
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_documents_entry_id"), ["entry_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_documents_replaced_by_id"), ["replaced_by_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_documents_sha256"), ["sha256"], unique=False)
        batch_op.create_index(batch_op.f("ix_documents_uploaded_by_id"), ["uploaded_by_id"], unique=False)
        batch_op.create_index(
            "uq_documents_current_filename",
            ["entry_id", "filename"],
            unique=True,
            sqlite_where=sa.text(_CURRENT),
            postgresql_where=sa.text(_CURRENT),
        )

    op.create_table(
        "document_pages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_document_pages_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_pages")),
        sa.UniqueConstraint("document_id", "number", name=op.f("uq_document_pages_document_id")),
    )
    with op.batch_alter_table("document_pages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_document_pages_document_id"), ["document_id"], unique=False)


def downgrade():
    with op.batch_alter_table("document_pages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_document_pages_document_id"))
    op.drop_table("document_pages")
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_index("uq_documents_current_filename")
        batch_op.drop_index(batch_op.f("ix_documents_uploaded_by_id"))
        batch_op.drop_index(batch_op.f("ix_documents_sha256"))
        batch_op.drop_index(batch_op.f("ix_documents_replaced_by_id"))
        batch_op.drop_index(batch_op.f("ix_documents_entry_id"))
    op.drop_table("documents")
