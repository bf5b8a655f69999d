"""What the staff editors show and send: each kind's form, filled from a document, and a document from a form.

A structured edit starts from the entry's current document and changes only the fields
its form shows, so everything else (see-also lists, a lesson's action, attachments, keys
added later) is kept as it was. These helpers read models and change nothing.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from werkzeug.datastructures import MultiDict
from wtforms import SelectChoice

from kb.content.document import EntryDocument
from kb.content.fields import SourceRef
from kb.contributions import pages
from kb.contributions.service import clean_text
from kb.contributions.staff_forms import PaperForm, ReviewForm, SourceForm, StaffForm, StaffLessonForm
from kb.dates import BadDateError, PartialDate
from kb.entries.models import Entry, Revision
from kb.entries.vocabulary import LESSON_SECTIONS
from kb.moderation.lessons import reviews_for_panels
from kb.states import EntryKind
from kb.text import one_line

FORM_BY_KIND: dict[str, type[StaffForm]] = {
    EntryKind.LESSON: StaffLessonForm,
    EntryKind.REVIEW: ReviewForm,
    EntryKind.PAPER: PaperForm,
}


def review_choices(excluding: Entry | None = None) -> list[SelectChoice]:
    """Every review, by title, as menu choices (the entry itself left out)."""
    return [
        SelectChoice(review.slug, review.title)
        for review in reviews_for_panels()
        if excluding is None or review.id != excluding.id
    ]


def staff_form(
    kind: str,
    groups: pages.TagGroups,
    *,
    data: dict[str, Any] | None = None,
    entry: Entry | None = None,
    formdata: MultiDict[str, str] | None = None,
) -> StaffForm:
    """The staff form for `kind` with its menus filled.

    `formdata` (a kept draft) or `data` (the stored entry) fills it on GET; without either it reads the request.
    """
    form_class = FORM_BY_KIND[kind]
    if formdata is not None:
        form = form_class(formdata=formdata)
    else:
        form = form_class(data=data) if data is not None else form_class()
    if isinstance(form, StaffLessonForm):
        form.tags.choices = [SelectChoice(tag.slug, tag.label) for _, tags in groups for tag in tags]
        pages.offer_regions(form, entry.region if entry else None)
    form.offer_statuses(entry.status if entry else None)
    form.offer_reviews(review_choices(entry))
    if data is not None or not form.sources.entries:
        form.pad_sources()
    return form


def _date_text(date: PartialDate | None) -> str:
    return str(date) if date else ""


def form_data(document: EntryDocument, revision: Revision | None, groups: pages.TagGroups) -> dict[str, Any]:
    """The staff form's starting values from an entry's document."""
    controlled = {tag.slug for _, tags in groups for tag in tags}
    data: dict[str, Any] = {
        "title": document.title,
        "summary": document.summary,
        "status": document.status,
        "visibility": document.visibility,
        "review": document.review or "",
        "sources": [
            {"title": ref.title, "publisher": ref.publisher or "", "date": _date_text(ref.date), "url": ref.url or ""}
            for ref in document.sources
        ],
        "base_revision": str(revision.number) if revision else "",
    }
    if document.kind == EntryKind.LESSON:
        data |= {key: document.sections.get(key, "") for key in LESSON_SECTIONS}
        data |= {
            "tags": [tag for tag in document.tags if tag in controlled],
            "free_tags": ", ".join(tag for tag in document.tags if tag not in controlled),
            "region": document.region or "",
            "event_date": _date_text(document.event_date),
            "maturity": document.maturity,
        }
    elif document.kind == EntryKind.REVIEW:
        data |= {
            "commissioning_body": document.commissioning_body or "",
            "review_status": document.review_status,
            "terms_of_reference": document.terms_of_reference or "",
            "body": document.body,
        }
    else:
        data |= {
            "meeting": document.meeting or "",
            "meeting_date": _date_text(document.meeting_date),
            "paper_type": document.paper_type,
            "paper_status": document.paper_status,
            "body": document.body,
        }
    return data


def _date(text: str | None) -> PartialDate | None:
    """A partial date from a form, or None when empty or unreadable (the form's own check says why)."""
    try:
        return PartialDate.parse(text.strip()) if text and text.strip() else None
    except BadDateError:
        return None


def _source(row: SourceForm) -> SourceRef:
    return SourceRef(
        title=one_line(row.title.data),
        publisher=one_line(row.publisher.data) or None,
        date=_date(row.date.data),
        url=(row.url.data or "").strip() or None,
    )


def document_from_form(form: StaffForm, base: EntryDocument) -> EntryDocument:
    """`base` with the form's fields put in; every field the form does not show is kept."""
    changes: dict[str, Any] = {
        "title": one_line(form.title.data),
        "summary": one_line(form.summary.data),
        "status": form.status.data or base.status,
        "visibility": form.visibility.data or base.visibility,
        "sources": [_source(row.form) for row in form.sources if not row.form.is_blank()],
    }
    if isinstance(form, StaffLessonForm):
        fields = pages.lesson_fields(form)
        changes |= {
            "sections": dict(fields.sections),
            "tags": list(dict.fromkeys(fields.tags)),
            "region": fields.region,
            "event_date": fields.event_date,
            "maturity": form.maturity.data or base.maturity,
            "review": form.review.data or None,
        }
    elif isinstance(form, ReviewForm):
        changes |= {
            "commissioning_body": one_line(form.commissioning_body.data),
            "review_status": form.review_status.data or base.review_status,
            "terms_of_reference": clean_text(form.terms_of_reference.data) or None,
            "body": clean_text(form.body.data),
        }
    else:
        meeting_date = _date(form.meeting_date.data)
        changes |= {
            "meeting": one_line(form.meeting.data) or None,
            "meeting_date": meeting_date,
            # A paper is dated by its meeting (lists, the year filter), unless its file gives another date.
            "event_date": meeting_date if base.event_date in (None, base.meeting_date) else base.event_date,
            "paper_type": form.paper_type.data or base.paper_type,
            "paper_status": form.paper_status.data or base.paper_status,
            "review": form.review.data or None,
            "body": clean_text(form.body.data),
        }
    return dataclasses.replace(base, **changes)


def new_document(kind: str, slug: str) -> EntryDocument:
    """An empty document of `kind` for a new entry, for `document_from_form` to fill."""
    return EntryDocument(kind=str(kind), slug=slug, title="", summary="")  # a plain string, as YAML writes it


def valid_form(form: StaffForm) -> bool:
    """Validate the form and each filled source row; a panel audience needs a review."""
    valid = form.validate()
    return form.validate_review_for_panel() and valid
