"""a CHECK constraint on every column that holds a state, so the database refuses an unknown one

Revision ID: ffd3c7adc303
Revises: d5a7c3e9f412
Create Date: 2026-12-10 10:00:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "ffd3c7adc303"
down_revision = "d5a7c3e9f412"
branch_labels = None
depends_on = None

# The states each column may hold, copied from kb.states as they are now, so that this
# migration keeps doing what it did whatever kb.states becomes.
ENTRY_STATUSES = ("draft", "submitted", "returned", "rejected", "published", "hidden", "removed", "merged")
FINDING_STATUSES = ("draft", "agreed", "published", "withdrawn")
STATES: dict[str, dict[str, tuple[str, ...]]] = {
    "entries": {
        "kind": ("lesson", "review", "paper"),
        "status": ENTRY_STATUSES,
        "visibility": ("public", "members", "panel", "draft"),
    },
    "lessons": {
        "maturity": ("observation", "insight", "lesson", "learned"),
        "action_status": ("identified", "accepted", "action-planned", "actioned", "verified", "not-accepted"),
    },
    "reviews": {"review_status": ("commissioned", "in-progress", "consulting", "published")},
    "papers": {
        "paper_type": ("agenda", "minutes", "discussion-paper", "briefing", "report"),
        "paper_status": ("draft", "final"),
    },
    "entry_links": {"relation": ("source", "see_also", "mention")},
    "organisations": {
        "type": (
            "gp-federation",
            "out-of-hours-provider",
            "ambulance-service",
            "commissioner",
            "national-body",
            "provider",
            "professional-body",
            "patient-group",
        ),
    },
    "users": {"role": ("member", "moderator", "admin")},
    "comments": {"status": ("visible", "hidden", "removed")},
    "flags": {
        "reason": ("off-topic", "inaccurate", "personal-data", "abusive", "other"),
        "resolution": ("hidden", "restored", "dismissed", "removed"),
    },
    "findings": {"status": FINDING_STATUSES},
    "citations": {"kind": ("entry", "paragraph", "comment", "response")},
    "consultation_questions": {"kind": ("text", "scale", "choice")},
    "consultation_responses": {"status": ("draft", "submitted")},
    "recurrences": {"decision": ("confirmed", "rejected")},
    "follows": {"target_type": ("entry", "theme", "review")},
    "notifications": {"kind": ("mention", "reply", "moderation", "flag", "follow", "outcome")},
}


def _condition(column, values):
    listed = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({listed})"


def _refuse_unknown_states():
    """Stop, naming them, if stored rows hold states outside the lists (nothing is changed then)."""
    connection = op.get_bind()
    unknown = []
    for table, columns in STATES.items():
        for column, values in columns.items():
            rows = sa.table(table, sa.column(column, sa.String))
            found = connection.execute(
                sa.select(rows.c[column]).where(rows.c[column].is_not(None), rows.c[column].not_in(values)).distinct()
            ).scalars()
            unknown += [f"{table}.{column} = {value!r}" for value in found]
    if unknown:
        raise RuntimeError("Stored states kb does not know; correct them, then migrate again: " + "; ".join(unknown))


def _recreate_users_email_index(action):
    """SQLite's batch mode rebuilds `users` without its index on lower(email): drop it, then make it again."""
    if op.get_bind().dialect.name != "sqlite":
        return
    if action == "drop":
        op.drop_index("uq_users_email_lower", table_name="users")
    else:
        op.create_index("uq_users_email_lower", "users", [sa.text("lower(email)")], unique=True)


def upgrade():
    _refuse_unknown_states()
    _recreate_users_email_index("drop")
    for table, columns in STATES.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column, values in columns.items():
                batch_op.create_check_constraint(op.f(f"ck_{table}_{column}"), _condition(column, values))
    _recreate_users_email_index("create")


def downgrade():
    _recreate_users_email_index("drop")
    for table, columns in reversed(STATES.items()):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.drop_constraint(op.f(f"ck_{table}_{column}"), type_="check")
    _recreate_users_email_index("create")
