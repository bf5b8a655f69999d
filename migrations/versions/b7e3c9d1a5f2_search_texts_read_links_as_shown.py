"""index again the entries whose texts or comments hold [[links]], now read as their pages show them

Revision ID: b7e3c9d1a5f2
Revises: e4b9d2f7a1c6
Create Date: 2026-12-07 18:30:00.000000

"""

import datetime as dt

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "b7e3c9d1a5f2"
down_revision = "e4b9d2f7a1c6"
branch_labels = None
depends_on = None

_search_queue = sa.table(
    "search_queue",
    sa.column("entry_id", sa.Integer),
    sa.column("queued_at", sa.DateTime(timezone=True)),
    sa.column("attempts", sa.Integer),
)


def upgrade():
    """Queue, for the next drain, every entry a `[[` appears in (any revision) or in a comment on it."""
    linked = sa.text(
        "SELECT entry_id FROM revisions WHERE document LIKE :pattern "
        "UNION SELECT entry_id FROM comments WHERE body LIKE :pattern"
    ).bindparams(pattern="%[[%")
    bind = op.get_bind()
    entry_ids = sorted({row[0] for row in bind.execute(linked)})
    if entry_ids:
        now = dt.datetime.now(dt.UTC)
        bind.execute(
            _search_queue.insert(), [{"entry_id": entry_id, "queued_at": now, "attempts": 0} for entry_id in entry_ids]
        )


def downgrade():
    """Nothing to undo: the queue rows are drained or harmless."""
