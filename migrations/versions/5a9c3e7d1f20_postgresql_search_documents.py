"""PostgreSQL search documents (tsvector with weights, GIN index) and spelling words

Created only on PostgreSQL: on SQLite search uses the Whoosh index, and this migration
does nothing.

Revision ID: 5a9c3e7d1f20
Revises: e71b826cb46c
Create Date: 2026-12-01 13:30:00.000000

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = '5a9c3e7d1f20'
down_revision = 'e71b826cb46c'
branch_labels = None
depends_on = None


def _on_postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade():
    if not _on_postgresql():
        return
    op.create_table(
        'search_documents',
        sa.Column('entry_id', sa.Integer(), nullable=False),
        sa.Column('document', postgresql.TSVECTOR(), nullable=False),
        sa.Column('region', sa.String(length=200), server_default='', nullable=False),
        sa.Column('year', sa.String(length=4), nullable=False),
        sa.Column('sort_date', sa.DateTime(), nullable=False),
        sa.Column('tags', postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column('themes', postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column('fingerprint', sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint('entry_id', name=op.f('pk_search_documents')),
    )
    op.create_index('ix_search_documents_document', 'search_documents', ['document'], postgresql_using='gin')
    op.create_index('ix_search_documents_tags', 'search_documents', ['tags'], postgresql_using='gin')
    op.create_index('ix_search_documents_sort_date', 'search_documents', ['sort_date'])
    op.create_table(
        'search_words',
        sa.Column('word', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('word', name=op.f('pk_search_words')),
    )


def downgrade():
    if not _on_postgresql():
        return
    op.drop_table('search_words')
    op.drop_index('ix_search_documents_sort_date', table_name='search_documents')
    op.drop_index('ix_search_documents_tags', table_name='search_documents')
    op.drop_index('ix_search_documents_document', table_name='search_documents')
    op.drop_table('search_documents')
