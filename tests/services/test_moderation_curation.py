"""Curation through the service: merging duplicates, featuring, locking, a lesson's maturity and action status."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from kb.audit.models import AuditEvent
from kb.comments.models import Comment
from kb.content.document import parse_document
from kb.documents.models import Document
from kb.documents.queries import current_documents, entry_documents_history
from kb.documents.service import free_filename
from kb.entries.models import EntryLink, Lesson
from kb.entries.queries import featured_entries, merged_from, merged_target
from kb.entries.service import current_revision
from kb.extensions import db
from kb.moderation import curation
from kb.moderation.models import Flag
from kb.moderation.queries import locked, recently_merged
from kb.moderation.revisions import save_entry_state
from kb.moderation.service import ModerationError, raise_flag
from kb.notifications.models import Follow
from kb.panels.citation_view import shown_citations
from kb.panels.citations import add_citation
from kb.permissions import PermissionDeniedError, can_view_entry, viewer_for
from kb.search.service import SearchRequest, search
from tests.accounts import Cast
from tests.citation_factory import draft_finding
from tests.document_rows import add_document, replace_document
from tests.factories import add_comment, entry

DUPLICATE = "procurement-weighted-towards-cost"
TARGET = "north-west-contract-won-on-cheaper-bid"
MEMBERS_LESSON = "good-idea-badly-implemented"


def audit(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def links_of(entry_id: int) -> set[tuple[int, int, str]]:
    rows = db.session.execute(
        select(EntryLink.source_id, EntryLink.target_id, EntryLink.relation).where(
            (EntryLink.source_id == entry_id) | (EntryLink.target_id == entry_id)
        )
    )
    return {tuple(row) for row in rows}


@pytest.fixture
def told(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    calls: list[dict] = []
    monkeypatch.setattr(
        "kb.notifications.service.moderation_decided",
        lambda recipient, **kwargs: calls.append({"recipient": recipient, **kwargs}),
    )
    monkeypatch.setattr("kb.notifications.service.flag_raised", lambda flag: None)
    return calls


# --- Merging -------------------------------------------------------------------------------------


def test_merging_moves_comments_links_flags_follows_and_tags(cast: Cast, told) -> None:
    duplicate, target = entry(DUPLICATE), entry(TARGET)
    duplicate.author_id = cast.author.id
    db.session.commit()
    top = add_comment(duplicate, cast.member, "First comment on the duplicate.")
    reply = add_comment(duplicate, cast.panel, "A reply.", parent=top)
    raise_flag(duplicate, actor=cast.panel, reason="abusive", comment=reply)
    raise_flag(duplicate, actor=cast.member, reason="inaccurate")
    raise_flag(duplicate, actor=cast.other_panel, reason="inaccurate")
    raise_flag(target, actor=cast.other_panel, reason="off-topic")
    db.session.add_all(
        [
            Follow(user_id=cast.member.id, target_type="entry", target_id=duplicate.id),
            Follow(user_id=cast.panel.id, target_type="entry", target_id=duplicate.id),
            Follow(user_id=cast.panel.id, target_type="entry", target_id=target.id),
        ]
    )
    db.session.commit()
    duplicate_links = links_of(duplicate.id)
    target_links = links_of(target.id)
    assert duplicate_links, "the seed lesson should have links to move"
    tags_before = {tag.slug for tag in target.tags} | {tag.slug for tag in duplicate.tags}

    curation.merge_entry(duplicate, target, actor=cast.moderator)
    db.session.commit()
    db.session.expire_all()

    duplicate, target = entry(DUPLICATE), entry(TARGET)
    assert (duplicate.status, duplicate.merged_into_id) == ("merged", target.id)
    assert parse_document(current_revision(duplicate).document, duplicate.slug).document.status == "merged"
    # Comments keep their thread on the target.
    moved = list(db.session.scalars(select(Comment).where(Comment.id.in_((top.id, reply.id))).order_by(Comment.id)))
    assert [comment.entry_id for comment in moved] == [target.id, target.id]
    assert moved[1].parent_id == top.id
    assert moved[1].thread_path.startswith(moved[0].thread_path)
    # Links: every one now involves the target instead, with none to itself and none twice.
    expected = set()
    for source_id, target_id, relation in duplicate_links | target_links:
        moved_link = (
            target.id if source_id == duplicate.id else source_id,
            target.id if target_id == duplicate.id else target_id,
            relation,
        )
        if moved_link[0] != moved_link[1]:
            expected.add(moved_link)
    assert links_of(target.id) == expected
    assert links_of(duplicate.id) == set()
    # Flags: on the comment they follow it; on the entry they become the target's, except a repeat.
    comment_flag = db.session.scalar(select(Flag).where(Flag.comment_id == reply.id))
    assert comment_flag.entry_id == target.id
    entry_flags = {
        (flag.reporter_id, flag.entry_id, flag.target_key, flag.resolution)
        for flag in db.session.scalars(select(Flag).where(Flag.comment_id.is_(None)))
    }
    assert entry_flags == {
        (cast.member.id, target.id, f"entry:{target.id}", None),
        (cast.other_panel.id, target.id, f"entry:{target.id}", None),
        (cast.other_panel.id, duplicate.id, f"entry:{duplicate.id}", "dismissed"),
    }
    # Follows: moved, without a second follow for someone who already followed the target.
    follows = set(db.session.execute(select(Follow.user_id, Follow.target_id).where(Follow.target_type == "entry")))
    assert follows == {(cast.member.id, target.id), (cast.panel.id, target.id)}
    # Tags: the target has its own and the duplicate's, saved in its document.
    assert {tag.slug for tag in target.tags} == tags_before
    assert set(parse_document(current_revision(target).document, target.slug).document.tags) == tags_before
    # Audited, and the duplicate's author told, about the entry they can still see.
    event = audit("entry.merge")[-1]
    assert (event.target_id, event.old_value, event.new_value) == (duplicate.id, "published", f"merged into {TARGET}")
    assert told[-1]["recipient"].id == cast.author.id
    assert told[-1]["entry"].id == target.id


def test_a_merged_duplicate_leads_to_its_target_for_those_who_may_see_it(cast: Cast, told) -> None:
    members_only = entry(MEMBERS_LESSON)
    duplicate = entry(DUPLICATE)
    duplicate.author_id = cast.author.id
    earlier = {found.id for found in curation.merged_into(duplicate)}  # lessons the seed content merged into it
    curation.merge_entry(duplicate, members_only, actor=cast.moderator)
    db.session.commit()
    assert not can_view_entry(viewer_for(cast.author), duplicate)
    assert not can_view_entry(None, duplicate)
    assert merged_target(viewer_for(cast.member), DUPLICATE).id == members_only.id
    assert merged_target(None, DUPLICATE) is None
    assert merged_target(viewer_for(cast.member), TARGET) is None
    assert {found.id for found, _ in merged_from(viewer_for(cast.moderator), members_only)} == {duplicate.id, *earlier}
    assert merged_from(viewer_for(cast.member), members_only) == []
    assert next(found.id for found in recently_merged(viewer_for(cast.moderator))) == duplicate.id


def test_merging_again_sends_earlier_duplicates_to_the_final_entry(cast: Cast, told) -> None:
    first, second, final = entry(DUPLICATE), entry(TARGET), entry("north-west-service-failed-within-hours")
    curation.merge_entry(first, second, actor=cast.moderator)
    curation.merge_entry(second, final, actor=cast.moderator)
    db.session.commit()
    assert first.merged_into_id == final.id
    assert merged_target(None, DUPLICATE).id == final.id


def test_merges_that_make_no_sense_are_refused(cast: Cast, told) -> None:
    lesson, review = entry(DUPLICATE), cast.review
    with pytest.raises(ModerationError, match="into itself"):
        curation.merge_entry(lesson, lesson, actor=cast.moderator)
    with pytest.raises(ModerationError, match="cannot be merged"):
        curation.merge_entry(lesson, review, actor=cast.moderator)
    with pytest.raises(PermissionDeniedError):
        curation.merge_entry(lesson, entry(TARGET), actor=cast.member)
    curation.merge_entry(lesson, entry(TARGET), actor=cast.moderator)
    with pytest.raises(ModerationError):
        curation.merge_entry(entry(MEMBERS_LESSON), lesson, actor=cast.moderator)
    assert [event.target_id for event in audit("entry.merge")] == [lesson.id]


# --- Featuring and locking -----------------------------------------------------------------------


def test_featured_entries_newest_first_and_only_those_the_viewer_may_see(cast: Cast, told) -> None:
    public, members_only = entry(DUPLICATE), entry(MEMBERS_LESSON)
    curation.feature_entry(public, actor=cast.moderator)
    db.session.commit()
    curation.feature_entry(members_only, actor=cast.moderator)
    db.session.commit()
    assert [found.slug for found in featured_entries(None)] == [DUPLICATE]
    assert [found.slug for found in featured_entries(viewer_for(cast.member))] == [MEMBERS_LESSON, DUPLICATE]
    with pytest.raises(ModerationError, match="already featured"):
        curation.feature_entry(public, actor=cast.moderator)
    curation.unfeature_entry(public, actor=cast.moderator)
    db.session.commit()
    assert [found.slug for found in featured_entries(viewer_for(cast.member))] == [MEMBERS_LESSON]
    assert [event.action for event in audit("entry.feature") + audit("entry.unfeature")] == [
        "entry.feature",
        "entry.feature",
        "entry.unfeature",
    ]
    with pytest.raises(PermissionDeniedError):
        curation.feature_entry(public, actor=cast.member)


def test_only_published_entries_are_featured(cast: Cast, told) -> None:
    draft = entry("who-decides-a-service-is-ready-to-go-live")
    with pytest.raises(ModerationError, match="Only published"):
        curation.feature_entry(draft, actor=cast.moderator)


def test_locking_and_unlocking_a_discussion(cast: Cast, told) -> None:
    lesson = entry(DUPLICATE)
    curation.set_locked(lesson, True, actor=cast.moderator)
    db.session.commit()
    assert lesson.locked
    assert [found.id for found in locked(viewer_for(cast.moderator))] == [lesson.id]
    with pytest.raises(ModerationError, match="already locked"):
        curation.set_locked(lesson, True, actor=cast.moderator)
    curation.set_locked(lesson, False, actor=cast.admin)
    db.session.commit()
    assert not lesson.locked
    assert [event.action for event in audit("entry.lock") + audit("entry.unlock")] == ["entry.lock", "entry.unlock"]


# --- Maturity and action status ------------------------------------------------------------------


def test_setting_maturity_saves_a_revision_and_audits_old_and_new(cast: Cast, told) -> None:
    lesson = entry(DUPLICATE)
    assert isinstance(lesson, Lesson)
    old = lesson.maturity
    new = "insight" if old != "insight" else "lesson"
    number = current_revision(lesson).number
    curation.set_maturity(lesson, new, actor=cast.moderator)
    db.session.commit()
    assert lesson.maturity == new
    revision = current_revision(lesson)
    assert revision.number == number + 1
    assert parse_document(revision.document, lesson.slug).document.maturity == new
    event = audit("entry.maturity")[-1]
    assert (event.target_id, event.old_value, event.new_value) == (lesson.id, old, new)
    with pytest.raises(ModerationError, match="already"):
        curation.set_maturity(lesson, new, actor=cast.moderator)
    with pytest.raises(ModerationError, match="Choose one"):
        curation.set_maturity(lesson, "ripe", actor=cast.moderator)
    with pytest.raises(ModerationError, match="learned only once action on it is verified"):
        curation.set_maturity(lesson, "learned", actor=cast.moderator)


def test_setting_action_status(cast: Cast, told) -> None:
    lesson = entry(DUPLICATE)
    old = lesson.action_status
    assert old == "identified"
    with pytest.raises(ModerationError, match="verified only after it is recorded as actioned"):
        curation.set_action_status(lesson, "verified", actor=cast.moderator)
    with pytest.raises(ModerationError, match="Choose the organisation that owns the action"):
        curation.set_action_status(lesson, "action-planned", actor=cast.moderator)
    new = "accepted"
    curation.set_action_status(lesson, new, actor=cast.moderator)
    db.session.commit()
    assert lesson.action_status == new
    assert parse_document(current_revision(lesson).document, lesson.slug).document.action_status == new
    event = audit("entry.action-status")[-1]
    assert (event.old_value, event.new_value) == (old, new)
    with pytest.raises(ModerationError, match="Only lessons"):
        curation.set_action_status(cast.review, "verified", actor=cast.moderator)
    with pytest.raises(PermissionDeniedError):
        curation.set_action_status(lesson, "accepted", actor=cast.author)


def test_a_merged_comment_is_found_through_the_target(cast: Cast, told) -> None:
    duplicate, target = entry(DUPLICATE), entry(TARGET)
    add_comment(duplicate, cast.member, "The word zephmergedqx is only here.")
    assert [hit.entry.slug for hit in search(viewer_for(None), SearchRequest(text="zephmergedqx")).hits] == [DUPLICATE]
    curation.merge_entry(duplicate, target, actor=cast.moderator)
    db.session.commit()
    assert [hit.entry.slug for hit in search(viewer_for(None), SearchRequest(text="zephmergedqx")).hits] == [TARGET]


def test_texts_naming_a_merged_duplicate_link_to_its_target_and_keep_doing_so(cast: Cast, told) -> None:
    from kb.contributions.service import save_document

    paper = entry("nhs-alliance-discussion-paper")
    duplicate, target = entry(DUPLICATE), entry(TARGET)
    assert (paper.id, duplicate.id, "mention") in links_of(paper.id)

    curation.merge_entry(duplicate, target, actor=cast.moderator)
    db.session.commit()
    db.session.expire_all()
    paper, target = entry("nhs-alliance-discussion-paper"), entry(TARGET)
    assert f'href="{target.path}"' in str(current_revision(paper).rendered)
    assert f'href="/lessons/{DUPLICATE}"' not in str(current_revision(paper).rendered)

    # Saving the linking paper again rebuilds its links from its text: they still lead to the target.
    revision = current_revision(paper)
    save_document(paper, revision.document, actor=cast.moderator, base_number=revision.number, message="Re-save")
    db.session.commit()
    assert (paper.id, target.id, "mention") in links_of(paper.id)
    assert not any(target_id == entry(DUPLICATE).id for _, target_id, _ in links_of(paper.id))


def test_comments_never_reach_more_readers_through_a_merge(cast: Cast, told) -> None:
    members_only, public = entry(MEMBERS_LESSON), entry(DUPLICATE)
    add_comment(members_only, cast.member, "Said among members only.")
    with pytest.raises(ModerationError, match="fewer readers"):
        curation.merge_entry(members_only, public, actor=cast.moderator)
    # Into an entry with the same readers, or fewer, it goes ahead.
    narrower = entry("north-west-service-failed-within-hours")
    narrower.visibility = "members"
    db.session.commit()
    curation.merge_entry(members_only, narrower, actor=cast.moderator)
    db.session.commit()
    assert entry(MEMBERS_LESSON).status == "merged"


def test_a_duplicate_without_comments_merges_into_a_wider_entry(cast: Cast, told) -> None:
    curation.merge_entry(entry(MEMBERS_LESSON), entry(DUPLICATE), actor=cast.moderator)
    db.session.commit()
    assert entry(MEMBERS_LESSON).merged_into_id == entry(DUPLICATE).id


def test_the_audience_rule(cast: Cast) -> None:
    from kb.permissions import audience_contains

    public, members = entry(DUPLICATE), entry(MEMBERS_LESSON)
    assert audience_contains(public, members)
    assert not audience_contains(members, public)
    hidden = entry(TARGET)
    hidden.status = "hidden"
    assert audience_contains(members, hidden)  # its readers are staff and its author, a member
    hidden.author_id = cast.panel.id
    db.session.flush()
    db.session.expire(hidden, ["author"])
    panel_entry = entry("north-west-service-failed-within-hours")
    panel_entry.visibility, panel_entry.review_id = "panel", cast.other_review.id
    assert not audience_contains(panel_entry, hidden)  # the hidden entry's author sits on another panel
    db.session.rollback()


def test_the_merged_authors_notice_names_the_target_only_if_they_may_read_it(cast: Cast, told) -> None:
    duplicate, hidden_target = entry(DUPLICATE), entry(TARGET)
    duplicate.author_id = cast.member.id
    save_entry_state(hidden_target, actor=cast.moderator, message="Hidden", status="hidden")
    db.session.commit()
    curation.merge_entry(duplicate, hidden_target, actor=cast.moderator)
    db.session.commit()
    notice = told[-1]
    assert notice["recipient"].id == cast.member.id
    assert hidden_target.title not in notice["message"]
    assert notice["entry"].id == duplicate.id
    # A redirect reveals the target only to those who could have read the duplicate and may read the target.
    assert merged_target(viewer_for(cast.member), DUPLICATE) is None
    assert merged_target(viewer_for(cast.moderator), DUPLICATE).id == hidden_target.id


def test_a_merged_or_removed_entry_takes_no_new_comments(cast: Cast, told) -> None:
    from kb.comments.service import CommentLockedError, post_comment

    duplicate = entry(DUPLICATE)
    curation.merge_entry(duplicate, entry(TARGET), actor=cast.moderator)
    db.session.commit()
    with pytest.raises(CommentLockedError, match="merged"):
        post_comment(entry(DUPLICATE), "Too late", actor=cast.moderator)


# --- Merging an entry's documents ----------------------------------------------------------------


def test_merging_moves_documents_with_their_history_and_page_citations_still_lead_to_the_page(
    cast: Cast, told, client
) -> None:
    duplicate, target = entry(DUPLICATE), entry(TARGET)
    kept = add_document(target, "Target's own minutes", ["Target page."], filename="minutes.pdf")
    old = add_document(duplicate, "Minutes of May", ["Cover.", "The cited page."], filename="minutes.pdf")
    new = replace_document(old, "Minutes of May, corrected", ["Cover.", "The cited page, corrected."])
    other = add_document(duplicate, "Annex", ["Annex text."], filename="annex.pdf")
    finding = draft_finding(cast)
    citation = add_citation(finding, actor=cast.panel, kind="page", document=new, page=2)
    db.session.commit()

    curation.merge_entry(duplicate, target, actor=cast.moderator)
    db.session.commit()
    db.session.expire_all()
    target = entry(TARGET)
    assert [document.id for document in entry_documents_history(entry(DUPLICATE))] == []
    assert {document.id for document in entry_documents_history(target)} == {kept.id, old.id, new.id, other.id}
    listed = [(document.id, document.filename) for document in current_documents(target)]
    assert listed == [(kept.id, "minutes.pdf"), (new.id, f"new-{old.filename}"), (other.id, "annex.pdf")]

    [shown] = shown_citations(viewer_for(None), [citation])
    assert shown.link == f"{target.path}/documents/{new.id}#page-2"
    page = client.get(shown.link.split("#")[0])
    assert page.status_code == 200
    assert 'id="page-2"' in page.get_data(as_text=True)


def test_a_merged_document_whose_name_the_target_lists_is_renamed(cast: Cast, told) -> None:
    duplicate, target = entry(DUPLICATE), entry(TARGET)
    add_document(target, "Minutes", ["Target page."], filename="minutes.pdf")
    add_document(target, "Minutes again", ["Target page."], filename="minutes-2.pdf")
    moved = add_document(duplicate, "Minutes of May", ["May."], filename="minutes.pdf")
    curation.merge_entry(duplicate, target, actor=cast.moderator)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Document, moved.id).filename == "minutes-3.pdf"
    assert [document.filename for document in current_documents(entry(TARGET))] == [
        "minutes.pdf",
        "minutes-2.pdf",
        "minutes-3.pdf",
    ]
    assert free_filename("a" * 196 + ".pdf", {"a" * 196 + ".pdf"}) == "a" * 194 + "-2.pdf"


def test_documents_never_reach_more_readers_through_a_merge(cast: Cast, told) -> None:
    members_only, public = entry(MEMBERS_LESSON), entry(DUPLICATE)
    document = add_document(members_only, "Members' notes", ["Only for members."])
    with pytest.raises(ModerationError, match="has documents meant for fewer readers"):
        curation.merge_entry(members_only, public, actor=cast.moderator)
    db.session.rollback()
    assert db.session.get(Document, document.id).entry_id == members_only.id
    assert entry(MEMBERS_LESSON).status != "merged"


def test_a_merged_documents_page_is_found_through_the_target(cast: Cast, told) -> None:
    duplicate, target = entry(DUPLICATE), entry(TARGET)
    add_document(duplicate, "Minutes of May", ["Cover.", "The word quillmergedzx is only on page 2."])
    found = search(viewer_for(None), SearchRequest(text="quillmergedzx")).hits
    assert [hit.entry.slug for hit in found] == [DUPLICATE]
    curation.merge_entry(duplicate, target, actor=cast.moderator)
    db.session.commit()
    [hit] = search(viewer_for(None), SearchRequest(text="quillmergedzx")).hits
    assert hit.entry.slug == TARGET
    [page] = hit.pages
    assert page.number == 2
    assert page.link.startswith(f"{entry(TARGET).path}/documents/")
