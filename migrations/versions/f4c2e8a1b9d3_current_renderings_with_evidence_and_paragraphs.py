"""current renderings saved before a lesson's evidence of action and a paper's paragraphs were stored with them

Revision ID: f4c2e8a1b9d3
Revises: ffd3c7adc303
Create Date: 2026-12-16 10:00:00.000000

"""

from dataclasses import dataclass

import sqlalchemy as sa
from alembic import op

from kb.content.document import parse_document
from kb.entries.service import render_document
from kb.markdown import LinkTarget

# revision identifiers, used by Alembic.
revision = "f4c2e8a1b9d3"
down_revision = "ffd3c7adc303"
branch_labels = None
depends_on = None

_STAFF_ROLES = ("moderator", "admin")

# The rule for showing a link as it stood when this migration was written, frozen here so a
# later change to kb.permissions or kb.entries.vocabulary cannot change what a fresh install
# runs (`flask content rerender` renders everything again with the rule of the day).
_KIND_PLURALS = {"lesson": "lessons", "review": "reviews", "paper": "papers"}


@dataclass(frozen=True)
class LinkEnd:
    kind: str
    status: str
    visibility: str
    panel_review_id: int | None
    author_off_panel: bool = False


def link_is_shown(source, target):
    if target.status != "published":
        return False
    if target.visibility == "public":
        return True
    if target.visibility == "members":
        return source.visibility != "public"
    if target.visibility == "panel":
        return (
            source.visibility == "panel"
            and not source.author_off_panel
            and target.panel_review_id is not None
            and source.panel_review_id == target.panel_review_id
        )
    return False


def link_end(entry_id, kind, status, visibility, review_id):
    return LinkEnd(kind, status, visibility, entry_id if kind == "review" else review_id)


def entry_path(kind, slug):
    return f"/{_KIND_PLURALS[kind]}/{slug}"


def _link_targets(connection):
    """Every entry as a link target by slug, a merged duplicate's slug leading to what replaced it."""
    entries = sa.table(
        "entries",
        *(sa.column(name) for name in ("id", "slug", "kind", "title", "status", "visibility", "review_id")),
        sa.column("merged_into_id"),
    )
    rows = connection.execute(sa.select(entries)).mappings().all()
    by_id = {row["id"]: row for row in rows}
    merged_into = {row["id"]: row["merged_into_id"] for row in rows if row["merged_into_id"] is not None}

    def final(entry_id):
        seen = {entry_id}
        while entry_id in merged_into and merged_into[entry_id] not in seen:
            entry_id = merged_into[entry_id]
            seen.add(entry_id)
        return by_id[entry_id]

    return {row["slug"]: final(row["id"]) for row in rows}


def _source(connection, entry):
    """The entry's linking end as `kb.permissions.link_end_for` gives it, from stored rows."""
    end = link_end(entry["id"], entry["kind"], entry["status"], entry["visibility"], entry["review_id"])
    if entry["author_id"] is None or end.panel_review_id is None:
        return end
    users = sa.table("users", sa.column("id"), sa.column("role"), sa.column("active"))
    seats = sa.table("panel_memberships", sa.column("user_id"), sa.column("review_id"))
    author = connection.execute(sa.select(users).where(users.c.id == entry["author_id"])).mappings().first()
    if author is None or not author["active"]:
        off_panel = True
    else:
        seated = connection.execute(
            sa.select(seats.c.review_id).where(
                seats.c.user_id == author["id"], seats.c.review_id == end.panel_review_id
            )
        ).first()
        off_panel = author["role"] not in _STAFF_ROLES and seated is None
    return LinkEnd(end.kind, end.status, end.visibility, end.panel_review_id, off_panel)


def _resolver(source, targets):
    def resolve(slug):
        target = targets.get(slug)
        if target is None:
            return None
        end = link_end(target["id"], target["kind"], target["status"], target["visibility"], target["review_id"])
        return LinkTarget(entry_path(target["kind"], target["slug"]), target["title"], link_is_shown(source, end))

    return resolve


def _out_of_date(kind, document, rendered):
    """Whether a stored rendering lacks the lesson's evidence of action or the paper's anchored paragraphs."""
    if kind == "lesson":
        return bool(document.action_evidence) and "action_evidence" not in rendered
    if kind == "paper":
        return "paragraphs" not in rendered.get("body", {})
    return False


def upgrade():
    connection = op.get_bind()
    entries = sa.table(
        "entries",
        *(sa.column(name) for name in ("id", "slug", "kind", "status", "visibility", "review_id", "author_id")),
    )
    revisions = sa.table(
        "revisions",
        sa.column("id"),
        sa.column("entry_id"),
        sa.column("number"),
        sa.column("document"),
        sa.column("rendered", sa.JSON),
    )
    latest = (
        sa.select(revisions.c.entry_id, sa.func.max(revisions.c.number).label("number"))
        .group_by(revisions.c.entry_id)
        .subquery()
    )
    current = (
        sa.select(revisions, *(entries.c[name] for name in ("slug", "kind", "status", "visibility", "review_id")))
        .add_columns(entries.c.author_id)
        .join(latest, (latest.c.entry_id == revisions.c.entry_id) & (latest.c.number == revisions.c.number))
        .join(entries, entries.c.id == revisions.c.entry_id)
        .where(entries.c.kind.in_(("lesson", "paper")))
        .order_by(revisions.c.id)
    )
    targets = None
    for row in connection.execute(current).mappings().all():
        document = parse_document(row["document"], row["slug"]).document
        if document is None or not _out_of_date(row["kind"], document, row["rendered"] or {}):
            continue
        targets = targets if targets is not None else _link_targets(connection)
        entry = {**row, "id": row["entry_id"]}
        rendered, _ = render_document(document, _resolver(_source(connection, entry), targets))
        connection.execute(sa.update(revisions).where(revisions.c.id == row["id"]).values(rendered=rendered))


def downgrade():
    """Nothing to undo: the renderings are what saving the same documents stores."""
