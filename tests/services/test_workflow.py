"""From draft to published: the contribution and moderation services, without HTTP."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import select

from kb.audit.models import AuditEvent
from kb.content.document import parse_document, serialise_document
from kb.contributions.service import (
    ContributionError,
    DocumentProblemsError,
    EditConflictError,
    FieldError,
    LessonFields,
    create_lesson,
    save_document,
    submit_entry,
    unique_slug,
    update_lesson,
)
from kb.dates import PartialDate
from kb.entries.models import Entry
from kb.entries.service import current_revision
from kb.extensions import db
from kb.moderation.lessons import publish_entry, reject_entry, return_entry, submitted_lessons
from kb.permissions import ANONYMOUS, PermissionDeniedError, can_view_entry, viewer_for
from tests.web import seed

FIELDS = LessonFields(
    title="Rota gaps went unreported for weeks",
    summary="Gaps in the clinical rota were known locally but never reached the commissioner.",
    sections={
        "driving_event": "In April the provider ran with **half** its clinicians on several nights.",
        "lesson": "Staffing gaps that are not reported cannot be fixed.",
        "recommendation": "Report rota gaps to the commissioner every week.",
        "evidence": "Minutes of the April contract meeting.",
    },
    tags=["provider-readiness", "rota-gaps"],
    region="South West",
    event_date=PartialDate(2013, 4),
)
PUBLIC_LESSON = seed.a_lesson_with_a_source_paper()


def events(entry: Entry, action: str) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.target_id == entry.id, AuditEvent.action == action)
    return list(db.session.scalars(query.order_by(AuditEvent.id)))


def by_slug(slug: str) -> Entry:
    entry = db.session.scalar(select(Entry).where(Entry.slug == slug))
    assert entry is not None
    return entry


def draft(cast, fields: LessonFields = FIELDS) -> Entry:
    entry = create_lesson(fields, actor=cast.author)
    db.session.commit()
    return entry


def submitted(cast) -> Entry:
    entry = create_lesson(FIELDS, actor=cast.author, submit=True)
    db.session.commit()
    return entry


# --- Writing ------------------------------------------------------------------------------


def test_a_new_lesson_is_a_draft_by_its_author(cast):
    entry = draft(cast)
    assert entry.kind == "lesson"
    assert entry.status == "draft"
    assert entry.visibility == "members"
    assert entry.author_id == cast.author.id
    assert entry.organisation == cast.author.organisation_name
    assert entry.slug == "rota-gaps-went-unreported-for-weeks"
    assert entry.status_changed_at is not None
    assert {tag.slug for tag in entry.tags} == {"provider-readiness", "rota-gaps"}
    revision = current_revision(entry)
    assert revision.number == 1
    assert revision.author_name == cast.author.display_name
    assert len(events(entry, "entry.create")) == 1


def test_the_stored_document_parses_back_to_the_same_text(cast):
    revision = current_revision(draft(cast))
    parsed = parse_document(revision.document, "lessons/x.md")
    assert parsed.problems == []
    document = parsed.document
    assert document.sections == FIELDS.sections
    assert document.status == "draft"
    assert document.visibility == "members"
    assert document.region == "South West"
    assert document.event_date == PartialDate(2013, 4)
    assert serialise_document(document) == revision.document
    assert "<strong>half</strong>" in revision.rendered["driving_event"]["html"]


def test_slugs_come_from_titles_and_never_collide(cast):
    first = draft(cast)
    second = draft(cast)
    assert second.slug == f"{first.slug}-2"
    assert unique_slug("Ça coûte cher: “quotes” & more!") == "ca-coute-cher-quotes-more"
    assert unique_slug("!!!") == "lesson"


def test_a_draft_is_seen_only_by_its_author_and_staff(cast):
    entry = draft(cast)
    assert can_view_entry(viewer_for(cast.author), entry)
    assert can_view_entry(viewer_for(cast.moderator), entry)
    assert not can_view_entry(viewer_for(cast.member), entry)
    assert not can_view_entry(ANONYMOUS, entry)


def test_a_member_cannot_link_to_what_they_cannot_see(cast):
    hidden = draft(cast)
    sections = dict(FIELDS.sections, evidence=f"See [[{hidden.slug}]].")
    with pytest.raises(FieldError) as caught:
        create_lesson(dataclasses.replace(FIELDS, sections=sections), actor=cast.member)
    assert caught.value.field == "evidence"
    assert hidden.slug in str(caught.value)
    sections["evidence"] = f"See [[{PUBLIC_LESSON.slug}]]."
    entry = create_lesson(dataclasses.replace(FIELDS, sections=sections), actor=cast.member)
    assert f'href="/lessons/{PUBLIC_LESSON.slug}"' in current_revision(entry).rendered["evidence"]["html"]


# --- Editing and conflicts -------------------------------------------------------------------


def test_an_edit_makes_a_revision_by_its_editor(cast):
    entry = draft(cast)
    changed = dataclasses.replace(FIELDS, title="Rota gaps were hidden", tags=["nhs-pathways"])
    revision = update_lesson(entry, changed, actor=cast.author, base_number=1, message="Sharper title")
    db.session.commit()
    assert revision.number == 2
    assert revision.message == "Sharper title"
    assert entry.title == "Rota gaps were hidden"
    assert entry.slug == "rota-gaps-went-unreported-for-weeks"
    assert [tag.slug for tag in entry.tags] == ["nhs-pathways"]
    assert len(events(entry, "entry.edit")) == 1


def test_an_edit_from_an_old_revision_is_refused(cast):
    entry = draft(cast)
    update_lesson(entry, dataclasses.replace(FIELDS, title="First editor"), actor=cast.author, base_number=1)
    db.session.commit()
    with pytest.raises(EditConflictError) as caught:
        update_lesson(entry, dataclasses.replace(FIELDS, title="Second editor"), actor=cast.author, base_number=1)
    db.session.rollback()
    assert caught.value.base.number == 1
    assert caught.value.current.number == 2
    assert by_slug(entry.slug).title == "First editor"
    update_lesson(entry, dataclasses.replace(FIELDS, title="Second editor"), actor=cast.author, base_number=2)
    db.session.commit()
    assert current_revision(entry).number == 3


def test_nobody_else_edits_a_members_lesson(cast):
    entry = draft(cast)
    with pytest.raises(PermissionDeniedError):
        update_lesson(entry, FIELDS, actor=cast.member, base_number=1)
    with pytest.raises(PermissionDeniedError):
        submit_entry(entry, actor=cast.member)
    with pytest.raises(PermissionDeniedError):
        save_document(entry, current_revision(entry).document, actor=cast.author, base_number=1)


def test_the_author_cannot_edit_once_submitted(cast):
    entry = submitted(cast)
    with pytest.raises(PermissionDeniedError):
        update_lesson(entry, FIELDS, actor=cast.author, base_number=1)


# --- Moderation ------------------------------------------------------------------------------


def test_publishing_makes_the_lesson_public_and_tells_the_author(seeded_app, cast, sent):
    seeded_app.config["SITE_URL"] = "https://kb.example.org"
    entry = draft(cast)
    submit_entry(entry, actor=cast.author)
    db.session.commit()
    assert entry.status == "submitted"
    assert submitted_lessons() == [entry]
    assert events(entry, "entry.submit")[0].new_value == "submitted"
    publish_entry(entry, actor=cast.moderator, visibility="public")
    db.session.commit()
    assert entry.status == "published"
    assert entry.visibility == "public"
    assert entry.published_at is not None
    assert can_view_entry(ANONYMOUS, entry)
    assert submitted_lessons() == []
    document = parse_document(current_revision(entry).document, "x.md").document
    assert (document.status, document.visibility) == ("published", "public")
    assert current_revision(entry).author_name == cast.moderator.display_name
    [published] = events(entry, "entry.publish")
    assert (published.old_value, published.new_value, published.actor_id) == (
        "submitted",
        "published",
        cast.moderator.id,
    )
    [visibility] = events(entry, "entry.visibility")
    assert (visibility.old_value, visibility.new_value) == ("members", "public")
    [mail] = sent
    assert mail.to == cast.author.email
    assert "published" in mail.subject
    assert f"https://kb.example.org/lessons/{entry.slug}" in mail.body


def test_only_moderators_decide(cast):
    entry = submitted(cast)
    for actor in (cast.author, cast.member, cast.panel):
        with pytest.raises(PermissionDeniedError):
            publish_entry(entry, actor=actor, visibility="public")
        with pytest.raises(PermissionDeniedError):
            reject_entry(entry, actor=actor, reason="No.")


def test_only_a_submitted_lesson_is_decided(cast):
    entry = draft(cast)
    with pytest.raises(ContributionError, match="not waiting"):
        publish_entry(entry, actor=cast.moderator, visibility="public")


def test_returning_needs_a_reason_and_the_author_can_submit_again(cast, sent):
    entry = submitted(cast)
    with pytest.raises(ContributionError, match="reason"):
        return_entry(entry, actor=cast.moderator, reason="  ")
    return_entry(entry, actor=cast.moderator, reason="Say which April meeting.")
    db.session.commit()
    assert entry.status == "returned"
    assert entry.status_note == "Say which April meeting."
    [returned] = events(entry, "entry.return")
    assert returned.new_value == "returned: Say which April meeting."
    [mail] = sent
    assert "Say which April meeting." in mail.body
    assert f"/lessons/{entry.slug}/edit" in mail.body
    base = current_revision(entry).number
    sections = dict(FIELDS.sections, evidence="Minutes of the contract meeting of 9 April 2013.")
    update_lesson(
        entry, dataclasses.replace(FIELDS, sections=sections), actor=cast.author, base_number=base, submit=True
    )
    db.session.commit()
    assert entry.status == "submitted"
    assert entry.status_note is None
    assert len(events(entry, "entry.submit")) == 2


def test_rejecting_ends_the_way_and_tells_the_author_why(cast, sent):
    entry = submitted(cast)
    reject_entry(entry, actor=cast.moderator, reason="This is already covered by another lesson.")
    db.session.commit()
    assert entry.status == "rejected"
    assert entry.status_note == "This is already covered by another lesson."
    assert not can_view_entry(viewer_for(cast.member), entry)
    assert can_view_entry(viewer_for(cast.author), entry)
    [rejected] = events(entry, "entry.reject")
    assert rejected.old_value == "submitted"
    [mail] = sent
    assert "already covered" in mail.body
    with pytest.raises(PermissionDeniedError):
        update_lesson(entry, FIELDS, actor=cast.author, base_number=current_revision(entry).number)


def test_publishing_to_a_panel_needs_its_review(cast):
    entry = submitted(cast)
    with pytest.raises(ContributionError, match="review"):
        publish_entry(entry, actor=cast.moderator, visibility="panel")
    publish_entry(entry, actor=cast.moderator, visibility="panel", review=cast.review)
    db.session.commit()
    assert entry.review_id == cast.review.id
    assert can_view_entry(viewer_for(cast.panel), entry)
    assert not can_view_entry(viewer_for(cast.other_panel), entry)
    assert not can_view_entry(viewer_for(cast.member), entry)


def test_publishing_renders_links_to_the_lesson_again(cast):
    entry = submitted(cast)
    mentioning = by_slug(PUBLIC_LESSON.slug)
    revision = current_revision(mentioning)
    text = revision.document.replace("## Evidence\n\n", f"## Evidence\n\nSee also [[{entry.slug}]].\n\n")
    save_document(mentioning, text, actor=cast.moderator, base_number=revision.number)
    db.session.commit()
    assert f'href="{entry.path}"' not in current_revision(mentioning).rendered["evidence"]["html"]
    publish_entry(entry, actor=cast.moderator, visibility="public")
    db.session.commit()
    assert f'href="{entry.path}"' in current_revision(mentioning).rendered["evidence"]["html"]


# --- The document editor ---------------------------------------------------------------------


def test_the_document_editor_audits_status_and_visibility(cast, sent):
    entry = submitted(cast)
    revision = current_revision(entry)
    text = revision.document.replace("status: submitted", "status: published").replace(
        "visibility: members", "visibility: public"
    )
    save_document(entry, text, actor=cast.admin, base_number=revision.number, message="Published by hand")
    db.session.commit()
    assert (entry.status, entry.visibility) == ("published", "public")
    assert current_revision(entry).message == "Published by hand"
    assert current_revision(entry).author_name == cast.admin.display_name
    [status] = events(entry, "entry.status")
    assert (status.old_value, status.new_value) == ("submitted", "published")
    [visibility] = events(entry, "entry.visibility")
    assert (visibility.old_value, visibility.new_value) == ("members", "public")
    assert [mail.to for mail in sent] == [cast.author.email]


def test_document_problems_name_their_lines(cast):
    entry = by_slug(PUBLIC_LESSON.slug)
    revision = current_revision(entry)
    lines = revision.document.split("\n")
    maturity_line = next(number for number, line in enumerate(lines, 1) if line.startswith("maturity:"))
    text = revision.document.replace(f"maturity: {PUBLIC_LESSON.maturity}", "maturity: wisdom")
    with pytest.raises(DocumentProblemsError) as caught:
        save_document(entry, text, actor=cast.moderator, base_number=revision.number)
    [problem] = caught.value.problems
    assert problem.line == maturity_line
    assert "wisdom" in problem.message
    assert current_revision(entry).number == revision.number


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda text, slug: text.replace(f"slug: {slug}", "slug: another-slug"), "cannot change"),
        (lambda text, slug: text.replace("## Evidence\n\n", "## Evidence\n\n[[no-such-entry]]\n\n"), "no-such-entry"),
    ],
)
def test_the_document_editor_keeps_slugs_and_links_sound(cast, change, expected):
    entry = by_slug(PUBLIC_LESSON.slug)
    revision = current_revision(entry)
    with pytest.raises(DocumentProblemsError) as caught:
        save_document(entry, change(revision.document, entry.slug), actor=cast.moderator, base_number=revision.number)
    assert any(expected in problem.message and problem.line > 1 for problem in caught.value.problems)


def test_the_document_editor_refuses_a_stale_base(cast):
    entry = by_slug(PUBLIC_LESSON.slug)
    revision = current_revision(entry)
    save_document(
        entry,
        revision.document.replace("## Lesson\n\n", "## Lesson\n\nFirst. "),
        actor=cast.moderator,
        base_number=revision.number,
    )
    db.session.commit()
    with pytest.raises(EditConflictError):
        save_document(entry, revision.document, actor=cast.admin, base_number=revision.number)
