"""Drafting, agreeing and publishing findings through the service, and who may read them."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from kb.audit.models import AuditEvent
from kb.entries.models import Review
from kb.extensions import db
from kb.panels import queries
from kb.panels.models import Finding
from kb.panels.service import (
    FindingConflictError,
    FindingError,
    FindingText,
    agree_finding,
    create_finding,
    edit_finding,
    propose_agreement,
    publish_findings,
    reinstate_finding,
    withdraw_finding,
)
from kb.permissions import ANONYMOUS, PermissionDeniedError, can_view_finding, viewer_for, visible_findings
from kb.users.models import User
from tests.accounts import Cast, make_user

TEXT = FindingText("Go-live dates came before readiness", "Providers said they were not ready.", "Agree a test.")


def _draft(cast: Cast, title: str = TEXT.title) -> Finding:
    finding = create_finding(cast.review, FindingText(title, TEXT.body, TEXT.recommendations), actor=cast.panel)
    db.session.commit()
    return finding


def _actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def _second_member(cast: Cast) -> User:
    return make_user("second-panel@example.org", panels=(cast.review,))


def test_findings_are_numbered_per_review_with_a_first_revision(cast: Cast) -> None:
    first, second = _draft(cast), _draft(cast, "Second")
    other = create_finding(cast.other_review, TEXT, actor=cast.other_panel)
    db.session.commit()
    assert (first.number, second.number, other.number) == (1, 2, 1)
    assert first.status == "draft"
    assert [(r.number, r.author_id, r.title) for r in first.revisions] == [(1, cast.panel.id, TEXT.title)]
    assert "finding.create" in _actions()


def test_only_the_panel_and_staff_draft(cast: Cast) -> None:
    for outsider in (cast.member, cast.other_panel, cast.author):
        with pytest.raises(PermissionDeniedError):
            create_finding(cast.review, TEXT, actor=outsider)
    assert create_finding(cast.review, TEXT, actor=cast.moderator).number == 1


def test_a_title_is_needed_and_markers_are_refused(cast: Cast) -> None:
    with pytest.raises(FindingError, match="title"):
        create_finding(cast.review, FindingText("", "x", ""), actor=cast.panel)
    with pytest.raises(FindingError, match="line 2, still has a conflict marker"):
        create_finding(cast.review, FindingText("T", "a\n=======\nb", ""), actor=cast.panel)


def test_every_save_is_a_revision_and_bumps_the_number(cast: Cast) -> None:
    finding = _draft(cast)
    revision = edit_finding(
        finding,
        FindingText(TEXT.title, "Changed.", TEXT.recommendations),
        actor=cast.moderator,
        base_number=1,
        message="Shorter",
    )
    db.session.commit()
    assert revision is not None
    assert revision.number == 2
    assert revision.message == "Shorter"
    assert finding.revision_number == 2
    assert finding.body == "Changed."
    assert [r.number for r in queries.revisions_of(finding)] == [2, 1]
    assert queries.revision_of(finding, 1).body == TEXT.body
    assert _actions()[-1] == "finding.edit"


def test_an_unchanged_save_makes_no_revision(cast: Cast) -> None:
    finding = _draft(cast)
    assert edit_finding(finding, TEXT, actor=cast.panel, base_number=1) is None
    assert finding.revision_number == 1


def test_a_save_from_an_old_revision_never_overwrites(cast: Cast) -> None:
    finding = _draft(cast)
    edit_finding(finding, FindingText(TEXT.title, "Theirs.", ""), actor=cast.moderator, base_number=1)
    db.session.commit()
    with pytest.raises(FindingConflictError) as raised:
        edit_finding(finding, FindingText(TEXT.title, "Yours.", ""), actor=cast.panel, base_number=1)
    assert raised.value.base.number == 1
    assert raised.value.current.number == 2
    assert finding.body == "Theirs."
    assert finding.revision_number == 2
    with pytest.raises(FindingConflictError):
        edit_finding(finding, FindingText(TEXT.title, "Yours.", ""), actor=cast.panel, base_number=None)


def test_agreement_needs_a_second_panel_member(cast: Cast) -> None:
    finding = _draft(cast)
    with pytest.raises(FindingError, match="propose it first"):
        agree_finding(finding, actor=cast.moderator)
    propose_agreement(finding, actor=cast.panel)
    with pytest.raises(FindingError, match="another panel member"):
        agree_finding(finding, actor=cast.panel)
    with pytest.raises(PermissionDeniedError):
        agree_finding(finding, actor=cast.other_panel)
    second = _second_member(cast)
    agree_finding(finding, actor=second)
    db.session.commit()
    assert finding.status == "agreed"
    assert finding.agreed_by_id == second.id
    assert _actions()[-2:] == ["finding.propose", "finding.agree"]


def test_a_moderator_may_agree_a_panel_members_proposal(cast: Cast) -> None:
    finding = _draft(cast)
    propose_agreement(finding, actor=cast.panel)
    agree_finding(finding, actor=cast.moderator)
    assert finding.status == "agreed"


def test_proposing_twice_is_refused(cast: Cast) -> None:
    finding = _draft(cast)
    propose_agreement(finding, actor=cast.panel)
    with pytest.raises(FindingError, match="already been proposed"):
        propose_agreement(finding, actor=cast.moderator)


def test_an_edit_clears_a_pending_proposal(cast: Cast) -> None:
    finding = _draft(cast)
    propose_agreement(finding, actor=cast.panel)
    edit_finding(finding, FindingText(TEXT.title, "New.", ""), actor=cast.moderator, base_number=1)
    assert finding.agreement_proposed_by_id is None
    assert finding.status == "draft"
    with pytest.raises(FindingError, match="propose it first"):
        agree_finding(finding, actor=_second_member(cast))


def test_editing_an_agreed_finding_returns_it_to_draft(cast: Cast) -> None:
    finding = _draft(cast)
    propose_agreement(finding, actor=cast.panel)
    agree_finding(finding, actor=cast.moderator)
    edit_finding(finding, FindingText(TEXT.title, "New.", ""), actor=cast.panel, base_number=1)
    assert finding.status == "draft"
    assert finding.agreed_by_id is None


def _agreed(cast: Cast, title: str = TEXT.title) -> Finding:
    finding = _draft(cast, title)
    propose_agreement(finding, actor=cast.panel)
    agree_finding(finding, actor=cast.moderator)
    return finding


def test_publishing_needs_every_finding_agreed(cast: Cast) -> None:
    with pytest.raises(FindingError, match="no findings"):
        publish_findings(cast.review, actor=cast.panel)
    _agreed(cast)
    _draft(cast, "Still a draft")
    with pytest.raises(FindingError, match="Not yet agreed: 2"):
        publish_findings(cast.review, actor=cast.panel)
    assert cast.review.review_status != "published"


def test_a_withdrawn_finding_stays_but_neither_publishes_nor_holds_up_the_others(cast: Cast) -> None:
    agreed, stray = _agreed(cast), _draft(cast, "A draft the panel set aside")
    with pytest.raises(PermissionDeniedError):
        withdraw_finding(stray, actor=cast.member)
    withdraw_finding(stray, actor=cast.panel)
    assert stray.status == "withdrawn"
    with pytest.raises(FindingError, match="withdrawn"):
        propose_agreement(stray, actor=cast.panel)
    reinstate_finding(stray, actor=cast.panel)
    assert stray.status == "draft"
    withdraw_finding(stray, actor=cast.panel)
    assert publish_findings(cast.review, actor=cast.panel) == [agreed]
    db.session.commit()
    assert stray.status == "withdrawn"
    assert not can_view_finding(ANONYMOUS, stray)
    assert can_view_finding(ANONYMOUS, agreed)
    with pytest.raises(FindingError, match="cannot be withdrawn"):
        withdraw_finding(agreed, actor=cast.panel)
    assert _actions()[-4:-1] == ["finding.withdraw", "finding.reinstate", "finding.withdraw"]


def test_publishing_publishes_the_findings_and_the_review(cast: Cast) -> None:
    first, second = _agreed(cast), _agreed(cast, "Second")
    revisions_before = len(cast.review.revisions)
    with pytest.raises(PermissionDeniedError):
        publish_findings(cast.review, actor=cast.other_panel)
    published = publish_findings(cast.review, actor=cast.panel)
    db.session.commit()
    assert published == [first, second]
    assert {first.status, second.status} == {"published"}
    assert first.published_at is not None
    review = db.session.get(Review, cast.review.id)
    assert review.review_status == "published"
    assert len(review.revisions) == revisions_before + 1
    assert "review_status: published" in review.revisions[-1].document
    assert _actions()[-1] == "review.publish"
    with pytest.raises(FindingError, match="already published"):
        publish_findings(cast.review, actor=cast.panel)
    with pytest.raises(FindingError, match="published"):
        edit_finding(first, FindingText("x", "", ""), actor=cast.panel, base_number=first.revision_number)


def test_who_reads_findings(cast: Cast) -> None:
    draft = _draft(cast)
    people = {
        "panel": (cast.panel, True),
        "moderator": (cast.moderator, True),
        "admin": (cast.admin, True),
        "member": (cast.member, False),
        "other panel": (cast.other_panel, False),
    }
    for name, (user, expected) in people.items():
        viewer = viewer_for(user)
        assert can_view_finding(viewer, draft) is expected, name
        assert bool(queries.findings_of(viewer, cast.review)) is expected, name
    assert not can_view_finding(ANONYMOUS, draft)
    assert db.session.scalars(select(Finding).where(visible_findings(ANONYMOUS))).all() == []


def test_published_findings_are_read_by_the_reviews_readers(cast: Cast) -> None:
    _agreed(cast)
    _agreed(cast, "Second")
    publish_findings(cast.review, actor=cast.panel)
    db.session.commit()
    later = _draft(cast, "A later draft")
    for viewer in (ANONYMOUS, viewer_for(cast.member), viewer_for(cast.other_panel)):
        assert [f.number for f in queries.findings_of(viewer, cast.review)] == [1, 2]
        assert not can_view_finding(viewer, later)
    assert [f.number for f in queries.findings_of(viewer_for(cast.panel), cast.review)] == [1, 2, 3]


def test_two_saves_of_the_same_revision_at_once_cannot_both_land(cast: Cast, seeded_app: Flask) -> None:
    finding = _draft(cast)
    assert finding.revision_number == 1
    # Another request saves revision 2 while this session still holds revision 1 as current.
    with seeded_app.app_context():
        db.session.remove()
        other = db.session.get(Finding, finding.id)
        edit_finding(
            other, FindingText(TEXT.title, "Theirs.", ""), actor=db.session.merge(cast.moderator), base_number=1
        )
        db.session.commit()
        db.session.remove()
    with pytest.raises(IntegrityError):
        edit_finding(finding, FindingText(TEXT.title, "Yours.", ""), actor=cast.panel, base_number=1)
    db.session.rollback()
    db.session.expire_all()
    assert db.session.get(Finding, finding.id).body == "Theirs."
