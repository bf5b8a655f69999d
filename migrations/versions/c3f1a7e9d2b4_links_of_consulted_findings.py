"""the entries each consultation's copy of a finding links to; existing copies rendered once with their links

Revision ID: c3f1a7e9d2b4
Revises: a8e3f5c1d7b2
Create Date: 2026-12-23 10:00:00.000000

"""

from dataclasses import dataclass

import sqlalchemy as sa
from alembic import op

from kb.markdown import LinkTarget, render

# revision identifiers, used by Alembic.
revision = "c3f1a7e9d2b4"
down_revision = "a8e3f5c1d7b2"
branch_labels = None
depends_on = None

# The rule for showing a link as it stood when this migration was written, frozen here so a
# later change to kb.permissions cannot change what a fresh install runs. The consulted
# entry's author is taken to be off its panel, which only ever hides more; `flask --app kb
# content rerender` renders every copy again with the exact rule of the day.
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


def link_end(row, off_panel=False):
    review_id = row["id"] if row["kind"] == "review" else row["review_id"]
    return LinkEnd(row["kind"], row["status"], row["visibility"], review_id, off_panel)


def _entries(connection):
    """Every entry by id, and by slug the entry its links lead to (a merged duplicate's, what replaced it)."""
    columns = ("id", "slug", "kind", "title", "status", "visibility", "review_id", "merged_into_id")
    entries = sa.table("entries", *(sa.column(name) for name in columns))
    rows = connection.execute(sa.select(entries)).mappings().all()
    by_id = {row["id"]: row for row in rows}

    def final(entry_id):
        seen = {entry_id}
        while (next_id := by_id[entry_id]["merged_into_id"]) is not None and next_id not in seen:
            entry_id = next_id
            seen.add(entry_id)
        return by_id[entry_id]

    return by_id, {row["slug"]: final(row["id"]) for row in rows}


def _resolver(source, targets):
    def resolve(slug):
        target = targets.get(slug)
        if target is None:
            return None
        path = f"/{_KIND_PLURALS[target['kind']]}/{target['slug']}"
        return LinkTarget(path, target["title"], link_is_shown(source, link_end(target)))

    return resolve


def _fill_copies(connection):
    """Render every copy for its consultation's readers and record the entries its texts link to."""
    by_id, targets = _entries(connection)
    consultations = sa.table("consultations", sa.column("id"), sa.column("entry_id"))
    entry_of = dict(connection.execute(sa.select(consultations.c.id, consultations.c.entry_id)).all())
    columns = ("id", "consultation_id", "number", "body", "recommendations", "body_html", "recommendations_html")
    copies = sa.table("consulted_findings", *(sa.column(name) for name in columns))
    links = sa.table("consulted_finding_links", sa.column("copy_id"), sa.column("entry_id"))
    for row in connection.execute(sa.select(copies)).mappings().all():
        consulted = by_id.get(entry_of.get(row["consultation_id"]))
        if consulted is None:
            continue
        resolve = _resolver(link_end(consulted, off_panel=True), targets)
        body = render(row["body"] or "", resolve, anchor_prefix=f"f{row['number']}-")
        recommendations = render(row["recommendations"] or "", resolve, anchor_prefix=f"r{row['number']}-")
        connection.execute(
            sa.update(copies)
            .where(copies.c.id == row["id"])
            .values(body_html=body.html, recommendations_html=recommendations.html)
        )
        ids = sorted({targets[slug]["id"] for slug in body.links + recommendations.links if slug in targets})
        if ids:
            connection.execute(sa.insert(links), [{"copy_id": row["id"], "entry_id": i} for i in ids])


def upgrade():
    op.create_table(
        "consulted_finding_links",
        sa.Column("copy_id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["copy_id"],
            ["consulted_findings.id"],
            name=op.f("fk_consulted_finding_links_copy_id_consulted_findings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["entries.id"], name=op.f("fk_consulted_finding_links_entry_id_entries"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("copy_id", "entry_id", name=op.f("pk_consulted_finding_links")),
    )
    with op.batch_alter_table("consulted_finding_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consulted_finding_links_entry_id"), ["entry_id"], unique=False)
    _fill_copies(op.get_bind())


def downgrade():
    with op.batch_alter_table("consulted_finding_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consulted_finding_links_entry_id"))
    op.drop_table("consulted_finding_links")
