"""Verbs on contributions: write, edit and submit lessons, and edit any entry as a document.

Every change goes through one doorway, `store_document`: the entry's new state is written
as a canonical document, parsed back (so the stored revision always round-trips), applied
to the entry and recorded as a revision with its author. An edit names the revision it
started from; when the entry has moved on since, `EditConflictError` stops the save so
nothing is silently overwritten. Services check permissions themselves, change models,
queue audit events and flush; the route commits once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from kb.audit.service import record_event
from kb.content.attachments import attachment_refs
from kb.content.document import (
    EntryDocument,
    ParseResult,
    parse_document,
    serialise_document,
)
from kb.content.fields import AttachmentRef, Problem, normalise_tag
from kb.contributions.notices import tell_status_changed
from kb.dates import PartialDate, utcnow
from kb.documents.queries import current_documents
from kb.entries import limits
from kb.entries.models import Entry, Lesson, Revision
from kb.entries.queries import revision_of
from kb.entries.service import (
    KindChangeError,
    apply_document,
    current_revision,
    record_revision,
    render_document,
    rerender_entries_linking_to,
    resolver_for,
    shown_rendering,
)
from kb.entries.targets import TargetInfo, named_slugs, targets_for
from kb.entries.vocabulary import KIND_PLURALS, LESSON_SECTIONS
from kb.errors import ConflictError, InvalidInputError
from kb.extensions import db
from kb.markdown import INTERNAL_LINK
from kb.permissions import require, viewer_for, visible_entries
from kb.states import EntryKind
from kb.taxonomy.models import Tag
from kb.users.models import User

SLUG_MAX = 80


class ContributionError(InvalidInputError):
    """Something asked for cannot be done; the message says why, for the person."""


class FieldError(ContributionError):
    """A problem with one field of the lesson form, named by `field`."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class DocumentProblemsError(ContributionError):
    """A document that cannot be saved; each problem names its line."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(problem) for problem in problems))
        self.problems = problems


class EditConflictError(ConflictError):
    """The entry changed after the editor opened it: `base` is what they started from."""

    def __init__(self, base: Revision | None, current: Revision) -> None:
        super().__init__(f"revision {current.number} was saved after revision {base.number if base else 'none'}")
        self.base = base
        self.current = current


@dataclass
class LessonFields:
    """What a member writes for a lesson, already cleaned."""

    title: str
    summary: str
    sections: dict[str, str]
    tags: list[str]
    region: str | None = None
    event_date: PartialDate | None = None


def clean_text(text: str | None) -> str:
    """Text from a form: one kind of line ending, no white space around it."""
    return (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def slug_from_title(title: str) -> str:
    """A readable slug from a title: ASCII letters and digits joined by single hyphens, case folded one way."""
    slug = normalise_tag(title)
    if len(slug) > SLUG_MAX:
        slug = slug[:SLUG_MAX].rsplit("-", 1)[0]
    return slug or "lesson"


def unique_slug(title: str) -> str:
    """A slug from `title` that no entry has yet: `-2`, `-3`... are added when needed."""
    base = slug_from_title(title)
    taken = set(db.session.scalars(select(Entry.slug).where(Entry.slug.like(f"{base}%"))))
    slug, number = base, 2
    while slug in taken:
        slug, number = f"{base}-{number}", number + 1
    return slug


def current_document(entry: Entry) -> tuple[Revision, EntryDocument]:
    """The entry's current revision and its document; raises ContributionError when unreadable."""
    revision = current_revision(entry)
    parsed = parse_document(revision.document, entry.slug) if revision else None
    if revision is None or parsed is None or parsed.document is None:
        raise ContributionError(f"'{entry.slug}' has no readable saved revision to start from.")
    return revision, parsed.document


def check_base(entry: Entry, base_number: int | None) -> Revision | None:
    """The current revision, when the edit started from it; else raises EditConflictError."""
    current = current_revision(entry)
    if current is not None and current.number != base_number:
        base = revision_of(entry, base_number) if base_number else None
        raise EditConflictError(base, current)
    return current


def _document_path(document: EntryDocument) -> str:
    return f"{KIND_PLURALS.get(document.kind, document.kind)}/{document.slug}.md"


def store_document(
    document: EntryDocument, entry: Entry | None, *, actor: User | None, message: str
) -> tuple[Entry, Revision]:
    """Save `document` as the entry's next revision (a new entry when `entry` is None).

    The document is written in canonical form and parsed back first, so the revision
    always reads back to the same state. A revision without an actor (the content
    import's merges) is recorded as the system's. Raises DocumentProblemsError when it
    does not parse, KindChangeError when it would change the entry's kind.
    """
    text = serialise_document(document)
    result: ParseResult = parse_document(text, _document_path(document))
    if result.document is None:
        raise DocumentProblemsError(result.problems)
    entry = apply_document(result.document, entry)
    revision = record_revision(
        entry,
        result.document,
        text,
        author_name=actor.display_name if actor else "system",
        author_id=actor.id if actor else None,
        message=message,
    )
    return entry, revision


def visible_targets(actor: User, texts: Iterable[str]) -> dict[str, TargetInfo]:
    """Link targets the texts name that the actor may see; the others answer as if they did not exist."""
    texts = list(texts)
    targets = targets_for(texts)
    named = {slug: target for slug in named_slugs(texts) if (target := targets.get(slug)) is not None}
    ids = {target.id for target in named.values()}
    visible = set(db.session.scalars(select(Entry.id).where(Entry.id.in_(ids), visible_entries(viewer_for(actor)))))
    return {slug: target for slug, target in named.items() if target.id in visible}


def _check_links(fields: LessonFields, actor: User) -> None:
    """Raise FieldError for a `[[slug]]` the actor cannot link to (unknown, or hidden from them)."""
    targets = visible_targets(actor, fields.sections.values())
    for key, text in fields.sections.items():
        for match in INTERNAL_LINK.finditer(text):
            if match.group(1) not in targets:
                label = LESSON_SECTIONS[key]
                raise FieldError(key, f"{label}: there is no entry '{match.group(1)}' to link to with [[…]].")


def _lesson_document(fields: LessonFields, base: EntryDocument) -> EntryDocument:
    return dataclasses.replace(
        base,
        title=fields.title,
        summary=fields.summary,
        sections={key: fields.sections.get(key, "") for key in LESSON_SECTIONS},
        tags=list(dict.fromkeys(fields.tags)),
        region=fields.region or None,
        event_date=fields.event_date,
    )


def new_lesson_document(fields: LessonFields, *, slug: str, actor: User, status: str = "draft") -> EntryDocument:
    """The document of a new lesson by `actor`: members-only once published, until a moderator says otherwise."""
    base = EntryDocument(
        kind="lesson",
        slug=slug,
        title="",
        summary="",
        status=status,
        visibility="members",
        organisation=actor.organisation_name or None,
        maturity="observation",
        action_status="identified",
    )
    return _lesson_document(fields, base)


def preview_lesson(fields: LessonFields, *, actor: User, entry: Entry | None = None) -> dict[str, Any]:
    """Render the lesson's sections as they would be stored, with the site's one sanitiser, for the page."""
    document = new_lesson_document(fields, slug=entry.slug if entry else "preview", actor=actor)
    source = entry or Lesson(kind="lesson", status="draft", visibility="members", review_id=None)
    rendered, _ = render_document(
        document, resolver_for(source, visible_targets(actor, document.markdown_texts().values()))
    )
    return shown_rendering(rendered)


def mark_status(entry: Entry, note: str | None) -> None:
    """Record when the entry's status changed, and the reason given (None clears it)."""
    entry.status_note = note
    entry.status_changed_at = utcnow()


def create_lesson(fields: LessonFields, *, actor: User, submit: bool = False) -> Lesson:
    """Save a new lesson by `actor` as a draft, or submitted for publication when `submit`.

    Raises PermissionDeniedError, FieldError for a link it cannot make, DocumentProblemsError.
    """
    require(actor, "entry.create")
    _check_links(fields, actor)
    status = "submitted" if submit else "draft"
    document = new_lesson_document(fields, slug=unique_slug(fields.title), actor=actor, status=status)
    message = "Written and submitted for publication" if submit else "Draft written"
    entry, _ = store_document(document, None, actor=actor, message=message)
    assert isinstance(entry, Lesson), "a lesson document makes a Lesson"
    entry.author_id = actor.id
    mark_status(entry, None)
    record_event("entry.create", actor=actor, target=entry, new=status)
    if submit:
        record_event("entry.submit", actor=actor, target=entry, old="draft", new="submitted")
    db.session.flush()
    return entry


def update_lesson(
    entry: Entry, fields: LessonFields, *, actor: User, base_number: int | None, message: str = "", submit: bool = False
) -> Revision:
    """Save an edit of a lesson's fields; with `submit`, send it for publication too.

    Raises PermissionDeniedError, EditConflictError when the lesson changed since
    `base_number`, FieldError, DocumentProblemsError.
    """
    require(actor, "entry.edit", entry)
    if submit:
        require(actor, "entry.submit", entry)
    if entry.kind != EntryKind.LESSON:
        raise ContributionError("Only a lesson can be edited with the lesson form.")
    check_base(entry, base_number)
    _check_links(fields, actor)
    _, base = current_document(entry)
    document = _lesson_document(fields, base)
    old_status = entry.status
    if submit:
        document.status = "submitted"
    summary = message or ("Edited and submitted for publication" if submit else "Edited")
    _, revision = store_document(document, entry, actor=actor, message=summary)
    record_event("entry.edit", actor=actor, target=entry, new=f"revision {revision.number}")
    if submit:
        mark_status(entry, None)
        record_event("entry.submit", actor=actor, target=entry, old=old_status, new="submitted")
    db.session.flush()
    return revision


def submit_entry(entry: Entry, *, actor: User) -> Revision:
    """Send the author's draft or returned lesson for publication, unchanged.

    Raises PermissionDeniedError unless `actor` is its author and it is a draft or returned.
    """
    require(actor, "entry.submit", entry)
    _, document = current_document(entry)
    old_status = entry.status
    document.status = "submitted"
    _, revision = store_document(document, entry, actor=actor, message="Submitted for publication")
    mark_status(entry, None)
    record_event("entry.submit", actor=actor, target=entry, old=old_status, new="submitted")
    db.session.flush()
    return revision


def _line_of(text: str, key: str) -> int:
    return next((number for number, line in enumerate(text.split("\n"), 1) if line.startswith(f"{key}:")), 1)


def document_problems(slug: str, kind: str, text: str, result: ParseResult) -> list[Problem]:
    """Checks beyond the file format for the entry `slug` of `kind`: same slug and kind, links to entries that exist."""
    path = f"{KIND_PLURALS[kind]}/{slug}.md"
    document = result.document
    assert document is not None
    problems = []
    if document.slug != slug:
        problems.append(Problem(path, _line_of(text, "slug"), f"slug: the slug stays '{slug}'; it cannot change"))
    if document.kind != kind:
        problems.append(Problem(path, _line_of(text, "kind"), f"kind: this is a {kind}; its kind cannot change"))
    # The member's form holds a lesson to these limits; the document editor holds every entry to them too.
    title_problem = limits.title_problem(document.title)
    if title_problem:
        problems.append(Problem(path, _line_of(text, "title"), f"title: {title_problem}"))
    controlled = set(db.session.scalars(select(Tag.slug).where(Tag.theme_id.is_not(None))))
    for problem in limits.tag_problems(document.tags, controlled):
        problems.append(Problem(path, _line_of(text, "tags"), f"tags: {problem}"))
    known = dict(db.session.execute(select(Entry.slug, Entry.kind)).all())
    for reference in result.references:
        if reference.slug not in known:
            problems.append(Problem(path, reference.line, f"link to unknown entry '{reference.slug}'"))
    if document.review and document.review in known and known[document.review] != "review":
        line = _line_of(text, "review")
        problems.append(Problem(path, line, f"review: '{document.review}' is a {known[document.review]}, not a review"))
    return problems


def attachments_problem(entry: Entry, text: str, listed: list[AttachmentRef]) -> Problem | None:
    """A problem when `listed` (a saved document's `attachments:`) is not the list of `entry`'s current documents.

    Files are added, replaced and removed on the entry's Documents page, so the list a
    whole-document save stores always names them as they are.
    """
    refs = attachment_refs(entry, current_documents(entry))
    if listed == refs:
        return None
    names = ", ".join(ref.file for ref in refs) or "none"
    return Problem(
        f"{KIND_PLURALS[entry.kind]}/{entry.slug}.md",
        _line_of(text, "attachments"),
        f"attachments: the list must name this entry's documents as they are now ({names}), with their titles. "
        "Add, replace or remove documents on the entry's Documents page, and leave this list as it was.",
    )


def save_document(entry: Entry, text: str, *, actor: User, base_number: int | None, message: str = "") -> Revision:
    """Save a moderator's or admin's edit of the whole document, front matter included.

    Status and visibility changes are audited with their old and new values, and links
    to the entry are rendered again when its title, status or visibility changed.
    Its `attachments:` must name the entry's current documents (`attachments_problem`).
    Raises PermissionDeniedError, EditConflictError, DocumentProblemsError (with lines).
    """
    require(actor, "entry.edit", entry)
    require(actor, "entry.set-restricted-fields", entry)
    check_base(entry, base_number)
    text = clean_text(text) + "\n"
    result = parse_document(text, f"{KIND_PLURALS[entry.kind]}/{entry.slug}.md", default_slug=entry.slug)
    if result.document is None:
        raise DocumentProblemsError(result.problems)
    problems = document_problems(entry.slug, entry.kind, text, result)
    listed = attachments_problem(entry, text, result.document.attachments)
    if problems or listed:
        raise DocumentProblemsError([*problems, *([listed] if listed else [])])
    before = (entry.title, entry.status, entry.visibility, entry.review_id)
    try:
        _, revision = store_document(result.document, entry, actor=actor, message=message or "Edited")
    except KindChangeError as error:
        raise DocumentProblemsError([Problem(entry.slug, _line_of(text, "kind"), str(error))]) from None
    record_event("entry.edit", actor=actor, target=entry, new=f"revision {revision.number}")
    if before[1] != entry.status:
        record_event("entry.status", actor=actor, target=entry, old=before[1], new=entry.status)
        mark_status(entry, None)
        tell_status_changed(entry, actor=actor, old_status=before[1])
    if before[2] != entry.visibility:
        record_event("entry.visibility", actor=actor, target=entry, old=before[2], new=entry.visibility)
    if before != (entry.title, entry.status, entry.visibility, entry.review_id):
        rerender_entries_linking_to([entry])
    db.session.flush()
    return revision
