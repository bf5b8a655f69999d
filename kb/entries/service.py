"""Verbs on entries: apply a document, record it as a revision, keep links and renderings current.

Services change models and flush; the caller (a route or a CLI command) commits once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from typing import Any

from markupsafe import Markup
from sqlalchemy import delete, func, select

from kb.consultations.copies import rerender_copies_linking_to
from kb.content.document import EntryDocument, parse_document
from kb.content.fields import SourceRef, normalise_tag
from kb.dates import PartialDate, utcnow
from kb.entries.models import Entry, EntryLink, Lesson, Paper, Review, Revision
from kb.entries.targets import LinkTargets, TargetInfo, targets_for
from kb.errors import InvalidInputError
from kb.extensions import db
from kb.markdown import LinkResolver, render
from kb.panels.rendering import rerender_findings_linking_to
from kb.permissions import link_end_for, link_resolver
from kb.states import EntryKind, EntryStatus, LinkRelation
from kb.taxonomy.models import Tag, TagAlias

MODEL_BY_KIND: dict[str, type[Entry]] = {"lesson": Lesson, "review": Review, "paper": Paper}


class KindChangeError(InvalidInputError):
    """Raised when a document would change the kind of an existing entry."""


def _stored(date: PartialDate | None) -> tuple[dt.date | None, str | None]:
    return (date.first_day, date.precision) if date else (None, None)


def _source_record(ref: SourceRef) -> dict[str, Any]:
    return {"title": ref.title, "publisher": ref.publisher, "date": str(ref.date) if ref.date else None, "url": ref.url}


def tag_label_from_slug(slug: str) -> str:
    """A readable label for a free tag: `cost-versus-quality` becomes `Cost versus quality`."""
    words = slug.replace("-", " ")
    return words[:1].upper() + words[1:]


def find_or_create_tags(slugs: list[str]) -> list[Tag]:
    """The tags with these slugs (or earlier slugs of theirs), creating free tags for any not yet known; no repeats."""
    slugs = [normalise_tag(slug) for slug in slugs]
    known = {tag.slug: tag for tag in db.session.scalars(select(Tag).where(Tag.slug.in_(slugs)))}
    # The earlier slug of a renamed or merged tag leads to the tag it became.
    renamed = select(TagAlias.slug, Tag).join(Tag, Tag.id == TagAlias.tag_id).where(TagAlias.slug.in_(slugs))
    known |= {slug: tag for slug, tag in db.session.execute(renamed).all() if slug not in known}
    for slug in slugs:
        if slug not in known:
            known[slug] = Tag(slug=slug, label=tag_label_from_slug(slug))
            db.session.add(known[slug])
    return list(dict.fromkeys(known[slug] for slug in slugs))


def apply_document(document: EntryDocument, entry: Entry | None = None) -> Entry:
    """Copy a document's fields and tags onto an entry (a new one when `entry` is None).

    Links and the revision are made by `record_revision`, once every target exists.
    Raises KindChangeError when the document's kind differs from the entry's.
    """
    if entry is None:
        entry = MODEL_BY_KIND[document.kind](slug=document.slug)
        db.session.add(entry)
    elif entry.kind != document.kind:
        raise KindChangeError(f"'{entry.slug}' is a {entry.kind}; a document cannot make it a {document.kind}")
    entry.title = document.title
    entry.summary = document.summary
    entry.status = document.status
    entry.visibility = document.visibility
    entry.region = document.region
    entry.event_date, entry.event_date_precision = _stored(document.event_date)
    entry.organisation = document.organisation
    entry.sources = [_source_record(ref) for ref in document.sources]
    entry.body = document.body
    with db.session.no_autoflush:
        entry.tags = find_or_create_tags(document.tags)
    _apply_kind_fields(entry, document)
    db.session.flush()
    return entry


def _apply_kind_fields(entry: Entry, document: EntryDocument) -> None:
    if isinstance(entry, Lesson):
        entry.driving_event = document.sections.get("driving_event", "")
        entry.lesson_text = document.sections.get("lesson", "")
        entry.recommendation = document.sections.get("recommendation", "")
        entry.evidence = document.sections.get("evidence", "")
        entry.maturity = document.maturity or "observation"
        entry.action_status = document.action_status or "identified"
        entry.action_owner = document.action_owner
        entry.action_due, entry.action_due_precision = _stored(document.action_due)
        entry.action_note = document.action_note
        entry.action_evidence = document.action_evidence
    elif isinstance(entry, Review):
        entry.commissioning_body = document.commissioning_body or ""
        entry.review_status = document.review_status or "commissioned"
        entry.terms_of_reference = document.terms_of_reference
    elif isinstance(entry, Paper):
        entry.meeting = document.meeting
        entry.meeting_date, entry.meeting_date_precision = _stored(document.meeting_date)
        entry.paper_type = document.paper_type or "report"
        entry.paper_status = document.paper_status or "final"


def document_targets(document: EntryDocument) -> LinkTargets:
    """Link targets for one document: the entries its texts, review, source and see-also name."""
    return targets_for(document.markdown_texts().values(), [document.review, document.source, *document.see_also])


def resolver_for(entry: Entry, targets: LinkTargets | Mapping[str, TargetInfo]) -> LinkResolver:
    """Resolve links in `entry`'s text, showing a target only where its readers may see it."""
    return link_resolver(link_end_for(entry), targets)


def render_document(document: EntryDocument, resolve: LinkResolver) -> tuple[dict[str, Any], list[str]]:
    """Render every Markdown text of a document; returns the stored form and linked slugs."""
    rendered: dict[str, Any] = {}
    mentioned: list[str] = []
    for key, text in document.markdown_texts().items():
        prefix = "" if key == "body" else f"{key.replace('_', '-')}-"
        # A paper's paragraphs can be cited one by one, so its text carries stable paragraph anchors.
        anchored = document.kind == EntryKind.PAPER and key == "body"
        result = render(text, resolve, anchor_prefix=prefix, paragraph_anchors=anchored)
        rendered[key] = {
            "html": result.html,
            "headings": [{"level": h.level, "anchor": h.anchor, "title": h.title} for h in result.headings],
            "missing_links": result.missing_links,
        }
        if anchored:
            rendered[key]["paragraphs"] = [{"anchor": p.anchor, "text": p.text} for p in result.paragraphs]
        mentioned.extend(slug for slug in result.links if slug not in mentioned)
    return rendered, mentioned


def shown_rendering(rendered: dict[str, Any]) -> dict[str, Any]:
    """A rendering from `render_document` (stored or fresh) for a page: each part's HTML as Markup.

    `render_document` keeps only what kb.markdown's sanitiser returns, so its HTML passes
    the templates' escaping as it is; stored as JSON it comes back as plain text, and this
    is the one place it is marked safe again.
    """
    return {key: {**part, "html": Markup(part.get("html", ""))} for key, part in rendered.items()}  # noqa: S704


def _replace_links(entry: Entry, document: EntryDocument, mentioned: list[str], targets: LinkTargets) -> None:
    wanted: list[tuple[str, str]] = []
    if document.source:
        wanted.append((document.source, "source"))
    wanted.extend((slug, "see_also") for slug in document.see_also)
    wanted.extend((slug, "mention") for slug in mentioned)
    # Delete in SQL first: the unit of work would insert the new rows before deleting the
    # old ones, and a link kept from the last revision would collide with itself.
    db.session.execute(delete(EntryLink).where(EntryLink.source_id == entry.id))
    # Two slugs may lead to one entry (a merged duplicate and what it was merged into).
    links = dict.fromkeys((targets[slug].id, relation) for slug, relation in wanted if slug in targets)
    db.session.add_all(
        EntryLink(source_id=entry.id, target_id=target_id, relation=relation, position=position)
        for position, (target_id, relation) in enumerate(links)
        if target_id != entry.id
    )
    db.session.expire(entry, ["outgoing_links"])


def current_revisions(entry_ids: Collection[int] | None = None) -> dict[int, Revision]:
    """The current revision of each entry (of every entry when `entry_ids` is None), in one query."""
    latest = select(Revision.entry_id, func.max(Revision.number).label("number")).group_by(Revision.entry_id)
    if entry_ids is not None:
        latest = latest.where(Revision.entry_id.in_(entry_ids))
    newest = latest.subquery()
    query = select(Revision).join(
        newest, (Revision.entry_id == newest.c.entry_id) & (Revision.number == newest.c.number)
    )
    return {revision.entry_id: revision for revision in db.session.scalars(query)}


def current_revision(entry: Entry) -> Revision | None:
    """The entry's latest revision."""
    return current_revisions([entry.id]).get(entry.id)


def assign_review(entry: Entry, document: EntryDocument, targets: LinkTargets) -> None:
    """Point a paper or lesson at the review its document names (none when that is not a review)."""
    review = targets.get(document.review) if document.review and entry.kind != EntryKind.REVIEW else None
    entry.review_id = review.id if review is not None and review.kind == EntryKind.REVIEW else None


def record_revision(
    entry: Entry,
    document: EntryDocument,
    document_text: str,
    *,
    author_name: str,
    message: str,
    author_id: int | None = None,
    targets: LinkTargets | None = None,
) -> Revision:
    """Make the entry's next revision: store the document, render it once, relink.

    `targets` (from `link_targets`) saves a query per entry when many are saved at once.
    """
    targets = targets if targets is not None else document_targets(document)
    assign_review(entry, document, targets)
    rendered, mentioned = render_document(document, resolver_for(entry, targets))
    _replace_links(entry, document, mentioned, targets)
    latest = db.session.scalar(select(func.max(Revision.number)).where(Revision.entry_id == entry.id)) or 0
    now = utcnow()
    revision = Revision(
        entry_id=entry.id,
        number=latest + 1,
        created_at=now,
        author_name=author_name,
        author_id=author_id,
        message=message,
        document=document_text,
        rendered=rendered,
    )
    db.session.add(revision)
    entry.updated_at = now
    if entry.status == EntryStatus.PUBLISHED and entry.published_at is None:
        entry.published_at = now
    db.session.flush()
    return revision


def past_rendering(entry: Entry, revision: Revision) -> dict[str, Any]:
    """A past revision's text rendered with today's links.

    Only current revisions are kept up to date when a linked entry is hidden or renamed,
    so a past one is rendered afresh when shown: it never reveals an entry hidden since.
    """
    document = parse_document(revision.document, entry.slug).document
    if document is None:
        return revision.rendered
    rendered, _ = render_document(document, resolver_for(entry, document_targets(document)))
    return rendered


def rerender_entry(entry: Entry, revision: Revision, targets: LinkTargets) -> bool:
    """Render the entry's current revision again with today's targets, and relink its mentions.

    Returns False (changing nothing) when the stored document no longer parses.
    """
    document = parse_document(revision.document, entry.slug).document
    if document is None:
        return False
    revision.rendered, mentioned = render_document(document, resolver_for(entry, targets))
    _replace_links(entry, document, mentioned, targets)
    return True


def rerender_entries_linking_to(changed: list[Entry], targets: LinkTargets | None = None) -> int:
    """Render again the current text of entries (findings, copies of findings) whose links point at `changed` entries.

    A target's title, status or visibility decides how links to it appear, so when those
    change, the stored rendering of every entry mentioning it is brought up to date, of
    every finding mentioning it or belonging to it (a review's visibility decides who reads
    its published findings), and of every consultation's copy of a finding mentioning it or
    put to members about it. Returns how many entries were rendered again.
    """
    changed_ids = {entry.id for entry in changed}
    # Entries are picked by id, not by DISTINCT over whole rows: PostgreSQL cannot compare JSON columns.
    linking = select(EntryLink.source_id).where(
        EntryLink.target_id.in_(changed_ids), EntryLink.relation == LinkRelation.MENTION
    )
    sources = db.session.scalars(
        select(Entry).where(Entry.id.in_(linking), Entry.id.not_in(changed_ids)).order_by(Entry.id)
    ).all()
    revisions = current_revisions([source.id for source in sources])
    if targets is None:
        targets = targets_for(revision.document for revision in revisions.values())
    for source in sources:
        revision = revisions.get(source.id)
        if revision is None:
            continue
        document = parse_document(revision.document, source.slug).document
        if document is not None:
            revision.rendered, _ = render_document(document, resolver_for(source, targets))
    rerender_findings_linking_to(changed_ids, targets)
    rerender_copies_linking_to(changed_ids, targets)
    db.session.flush()
    return len(sources)
