"""What the contribution pages show: tag choices, filled forms, conflicts and moderation forms.

These helpers read models and build what templates need; they change nothing. The
routes in `kb.contributions.routes` parse requests, call a service and commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import request
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import MultiDict
from wtforms import SelectChoice

from kb.contributions.forms import LessonForm, PublishForm, ReasonForm, split_free_tags
from kb.contributions.service import EditConflictError, LessonFields, clean_text
from kb.dates import BadDateError, PartialDate
from kb.entries.diff import Diff, diff_texts
from kb.entries.models import Entry, Lesson, Revision
from kb.extensions import db
from kb.moderation.lessons import reviews_for_panels
from kb.pages import whole_number
from kb.taxonomy.models import Tag, Theme
from kb.taxonomy.regions import region_choices
from kb.text import one_line

RESTRICTED_FIELDS = ("status", "visibility", "author", "author_id", "slug", "organisation", "review", "published_at")
"""Names a crafted lesson form might carry; kb sets these itself and ignores what is posted."""

TagGroups = list[tuple[Theme, list[Tag]]]
"""The controlled tags grouped by theme, as the lesson form offers them."""


def tag_groups() -> TagGroups:
    """The controlled tags, grouped by theme in the themes' order."""
    themes = db.session.scalars(select(Theme).options(selectinload(Theme.tags)).order_by(Theme.position, Theme.label))
    return [(theme, list(theme.tags)) for theme in themes if theme.tags]


def lesson_form(
    groups: TagGroups,
    data: dict[str, Any] | None = None,
    *,
    formdata: MultiDict[str, str] | None = None,
    stored_region: str | None = None,
) -> LessonForm:
    """The lesson form offering the controlled tags; on GET filled from `data`, or a kept draft's `formdata`.

    The region select offers the regions list; a region the lesson already has that the
    list lacks (`stored_region`) is offered too, marked, so saving never drops it.
    """
    if formdata is not None:
        form = LessonForm(formdata=formdata)
    else:
        form = LessonForm(data=data) if data is not None else LessonForm()
    form.tags.choices = [SelectChoice(tag.slug, tag.label) for _, tags in groups for tag in tags]
    offer_regions(form, stored_region)
    return form


def offer_regions(form: LessonForm, stored_region: str | None) -> None:
    """Fill the region select from the regions list, offering a stored region the list lacks, marked."""
    listed = region_choices()
    form.region.choices = [("", "Not given"), *((name, name) for name in listed)]
    form.unlisted_region = stored_region if stored_region and stored_region not in listed else None
    if form.unlisted_region:
        form.region.choices.append((form.unlisted_region, f"{form.unlisted_region} (not in the list)"))


def lesson_form_data(entry: Lesson, revision: Revision | None) -> dict[str, Any]:
    """The lesson form's starting values from a saved lesson."""
    controlled = [tag.slug for tag in entry.tags if tag.theme_id is not None]
    free = [tag.slug for tag in entry.tags if tag.theme_id is None]
    return {
        "title": entry.title,
        "summary": entry.summary,
        "driving_event": entry.driving_event,
        "lesson": entry.lesson_text,
        "recommendation": entry.recommendation,
        "evidence": entry.evidence,
        "tags": controlled,
        "free_tags": ", ".join(free),
        "region": entry.region or "",
        "event_date": str(entry.event_day) if entry.event_day else "",
        "base_revision": str(revision.number) if revision else "",
    }


def lesson_fields(form: LessonForm) -> LessonFields:
    """What the form holds, cleaned; a date that does not parse is left out (the form says why)."""
    try:
        event_date = PartialDate.parse(form.event_date.data.strip()) if (form.event_date.data or "").strip() else None
    except BadDateError:
        event_date = None
    tags = list(form.tags.data or []) + split_free_tags(form.free_tags.data or "")
    return LessonFields(
        title=one_line(form.title.data),
        summary=one_line(form.summary.data),
        sections={key: clean_text(text) for key, text in form.section_texts().items()},
        tags=list(dict.fromkeys(tags)),
        region=one_line(form.region.data) or None,
        event_date=event_date,
    )


def base_number(value: str | None) -> int | None:
    """The revision number a form says it started from, or None when missing or garbled (`-1`, `1e3`, 2**63).

    Garbled counts as not matching the current revision, so the save is shown as a conflict, never overwriting.
    """
    return whole_number(value)


def ignored_fields() -> list[str]:
    """Restricted names present in the posted form; they are ignored and the person is told."""
    return [name for name in RESTRICTED_FIELDS if name in request.form]


@dataclass
class ConflictView:
    """Someone else's change since the editor began: from `base` to `current`, as a diff."""

    base: Revision | None
    current: Revision
    diff: Diff


def conflict_view(conflict: EditConflictError) -> ConflictView:
    """The diff from the revision the editor started from to the current one."""
    before = conflict.base.document if conflict.base else ""
    return ConflictView(conflict.base, conflict.current, diff_texts(before, conflict.current.document))


@dataclass
class ModerationForms:
    """The three decisions a moderator can take on one submitted entry."""

    publish: PublishForm
    return_: ReasonForm
    reject: ReasonForm


def review_choices() -> list[SelectChoice]:
    """The choices of the publish form's review menu."""
    reviews = reviews_for_panels()
    return [SelectChoice("", "Choose a review"), *(SelectChoice(review.slug, review.title) for review in reviews)]


def moderation_forms(
    entry: Entry, posted: str | None = None, reviews: list[SelectChoice] | None = None
) -> ModerationForms:
    """Forms for one entry, told apart by prefixes; `reviews` saves a query per entry on a list.

    The `posted` one ("publish", "return" or "reject") reads the request; the others start empty.
    """

    def source(name: str) -> dict[str, Any]:
        return {} if posted == name else {"formdata": None}

    publish = PublishForm(prefix=f"publish-{entry.id}", **source("publish"))
    publish.review.choices = reviews if reviews is not None else review_choices()
    return ModerationForms(
        publish=publish,
        return_=ReasonForm(prefix=f"return-{entry.id}", **source("return")),
        reject=ReasonForm(prefix=f"reject-{entry.id}", **source("reject")),
    )
