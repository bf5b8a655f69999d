"""stored renderings of findings, their revisions and consultation texts; the entries findings link to

Revision ID: d5a7c3e9f412
Revises: b8d41f6a2c93
Create Date: 2026-12-09 10:00:00.000000

"""

from dataclasses import dataclass

from alembic import op
import sqlalchemy as sa

from kb.markdown import LinkTarget, render


# revision identifiers, used by Alembic.
revision = "d5a7c3e9f412"
down_revision = "b8d41f6a2c93"
branch_labels = None
depends_on = None

_RENDERED = {
    "findings": ("body", "recommendations"),
    "finding_revisions": ("body", "recommendations"),
    "consulted_findings": ("body", "recommendations"),
    "consultations": ("introduction", "we_asked", "you_said"),
    "outcome_changes": ("you_said", "we_did"),
}

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


def _resolver(source, targets):
    def resolve(slug):
        target = targets.get(slug)
        if target is None:
            return None
        end = link_end(target["id"], target["kind"], target["status"], target["visibility"], target["review_id"])
        return LinkTarget(entry_path(target["kind"], target["slug"]), target["title"], link_is_shown(source, end))

    return resolve


def _fill_findings(connection):
    """Render every finding and revision for its readers, and record the entries each links to.

    A published finding's readers are its review's; its review's author is taken to be off the
    panel, which only ever hides more (`flask content rerender` renders with the exact rule).
    """
    targets = _link_targets(connection)
    entries = sa.table("entries", sa.column("id"), sa.column("visibility"))
    findings = sa.table(
        "findings",
        *(sa.column(name) for name in ("id", "review_id", "number", "status", "body", "recommendations")),
        sa.column("body_html"),
        sa.column("recommendations_html"),
    )
    revisions = sa.table(
        "finding_revisions",
        *(sa.column(name) for name in ("id", "finding_id", "number", "body", "recommendations")),
        sa.column("body_html"),
        sa.column("recommendations_html"),
    )
    links = sa.table("finding_links", sa.column("finding_id"), sa.column("entry_id"))
    visibility = dict(connection.execute(sa.select(entries.c.id, entries.c.visibility)).all())
    by_finding = {}
    for row in connection.execute(sa.select(findings)).mappings().all():
        panel = LinkEnd("finding", "published", "panel", row["review_id"])
        public = LinkEnd("finding", "published", visibility.get(row["review_id"], "panel"), row["review_id"], True)
        linked = _render_row(connection, findings, row, public if row["status"] == "published" else panel, targets, "f")
        by_finding[row["id"]] = (panel, linked)
    for row in connection.execute(sa.select(revisions)).mappings().all():
        panel, linked = by_finding[row["finding_id"]]
        linked |= _render_row(connection, revisions, row, panel, targets, "r")
    for finding_id, (_, linked) in by_finding.items():
        ids = sorted({targets[slug]["id"] for slug in linked if slug in targets})
        if ids:
            connection.execute(sa.insert(links), [{"finding_id": finding_id, "entry_id": i} for i in ids])


def _render_row(connection, table, row, source, targets, letter):
    resolve = _resolver(source, targets)
    body = render(row["body"] or "", resolve, anchor_prefix=f"{letter}{row['number']}-text-")
    recommendations = render(row["recommendations"] or "", resolve, anchor_prefix=f"{letter}{row['number']}-rec-")
    connection.execute(
        sa.update(table)
        .where(table.c.id == row["id"])
        .values(body_html=body.html, recommendations_html=recommendations.html)
    )
    return set(body.links + recommendations.links)


def _fill_consultations(connection):
    """Render the consultations' texts as kb.consultations.models does when they are saved."""
    for name in ("consultations", "consulted_findings", "outcome_changes"):
        texts = _RENDERED[name]
        extra = ("number",) if name == "consulted_findings" else ()
        columns = ("id", *texts, *extra, *(f"{text}_html" for text in texts))
        table = sa.table(name, *(sa.column(column) for column in columns))
        for row in connection.execute(sa.select(table)).mappings().all():
            values = {}
            for text in texts:
                if name == "consulted_findings":
                    prefix = f"{'f' if text == 'body' else 'r'}{row['number']}-"
                else:
                    prefix = "intro-" if text == "introduction" else ""
                values[f"{text}_html"] = render(row[text] or "", anchor_prefix=prefix).html
            connection.execute(sa.update(table).where(table.c.id == row["id"]).values(values))


def upgrade():
    for table, texts in _RENDERED.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for text in texts:
                batch_op.add_column(sa.Column(f"{text}_html", sa.Text(), nullable=False, server_default=""))
    op.create_table(
        "finding_links",
        sa.Column("finding_id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["entries.id"], name=op.f("fk_finding_links_entry_id_entries"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["finding_id"], ["findings.id"], name=op.f("fk_finding_links_finding_id_findings"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("finding_id", "entry_id", name=op.f("pk_finding_links")),
    )
    with op.batch_alter_table("finding_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_finding_links_entry_id"), ["entry_id"], unique=False)

    connection = op.get_bind()
    _fill_findings(connection)
    _fill_consultations(connection)


def downgrade():
    with op.batch_alter_table("finding_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_finding_links_entry_id"))
    op.drop_table("finding_links")
    for table, texts in _RENDERED.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for text in texts:
                batch_op.drop_column(f"{text}_html")
