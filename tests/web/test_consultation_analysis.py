"""The analysis, CSV, response and outcome pages: who may open them, what they show, and their forms."""

from __future__ import annotations

import csv
import io

import pytest
from flask import Flask
from sqlalchemy import event, select

from kb.consultations.models import AnswerTheme, Consultation, OutcomeChange, Response
from kb.extensions import db
from kb.notifications.models import Notification
from kb.panels.models import Citation
from tests.accounts import Cast, client_for, csrf_token, make_user, page_text, post_form
from tests.outcome_factory import answer, make_consultation, make_finding, text_answer


def analysis_path(consultation: Consultation) -> str:
    return f"/consultations/{consultation.id}/analysis"


@pytest.fixture
def answered(cast: Cast) -> Consultation:
    """A closed consultation on the panel's review with two submitted responses and one draft."""
    consultation = make_consultation(cast.review)
    answer(consultation, cast.member, scale="agree", choice="Move the date", text="Staffing was thin at night.")
    answer(
        consultation,
        cast.author,
        scale="strongly-disagree",
        text="The directory of services was wrong.",
        organisation_type="ambulance-service",
        region="London",
        organisation_name="Capital Ambulance",
    )
    answer(consultation, cast.other_panel, scale="disagree", text="A DRAFT NOBODY SHOULD READ", status="draft")
    return consultation


# --- Who may open what ---------------------------------------------------------------------------


@pytest.mark.parametrize(("who", "status"), [("panel", 200), ("moderator", 200), ("admin", 200)])
def test_the_panel_and_staff_open_the_analysis(seeded_app: Flask, cast: Cast, answered: Consultation, who, status):
    response = client_for(seeded_app, getattr(cast, who)).get(analysis_path(answered))
    assert response.status_code == status


@pytest.mark.parametrize("who", ["member", "other_panel", "author", None])
def test_everyone_else_gets_404_for_analysis_csv_and_editor(
    seeded_app: Flask, cast: Cast, answered: Consultation, who: str | None
):
    client = client_for(seeded_app, getattr(cast, who) if who else None)
    for path in ("analysis", "responses.csv", "outcome", "outcome/edit"):
        assert client.get(f"/consultations/{answered.id}/{path}").status_code == 404, path


def test_a_consultation_on_an_entry_one_may_not_see_is_404_everywhere(seeded_app: Flask, cast: Cast) -> None:
    consultation = make_consultation(cast.review)
    mine = answer(consultation, cast.member, text="Mine.")
    cast.review.visibility = "panel"
    db.session.commit()
    client = client_for(seeded_app, cast.member)
    assert client.get(f"/consultations/{consultation.id}/responses/{mine.id}").status_code == 404
    assert client.get(f"/consultations/{consultation.id}/outcome").status_code == 404


def test_before_the_close_the_analysis_says_when_it_opens(seeded_app: Flask, cast: Cast) -> None:
    consultation = make_consultation(cast.review, closed=False)
    answer(consultation, cast.member, scale="agree", text="Early words.")
    client = client_for(seeded_app, cast.panel)
    response = client.get(analysis_path(consultation))
    text = page_text(response)
    assert response.status_code == 200
    assert "The analysis opens when the consultation closes" in text
    assert "Early words." not in text
    csv_response = client.get(f"/consultations/{consultation.id}/responses.csv")
    assert csv_response.status_code == 303
    assert csv_response.headers["Location"].endswith(analysis_path(consultation))


# --- The analysis page ---------------------------------------------------------------------------


def test_analysis_counts_submitted_responses_only_with_charts_and_tables(
    seeded_app: Flask, cast: Cast, answered: Consultation
):
    html = page_text(client_for(seeded_app, cast.panel).get(analysis_path(answered)))
    assert "2 responses were submitted" in html
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg" class="kb-chart" role="img"') == 6
    assert "Question 1: answers by organisation type" in html
    assert "Question 2: answers by region" in html
    assert '<th scope="row" class="nhsuk-table__header">Ambulance service</th>' in html
    assert "Staffing was thin at night." in html
    assert "A DRAFT NOBODY SHOULD READ" not in html


def test_analysis_searches_free_text_on_the_same_page(seeded_app: Flask, cast: Cast, answered: Consultation) -> None:
    client = client_for(seeded_app, cast.panel)
    html = page_text(client.get(analysis_path(answered) + "?q=DIRECTORY+services"))
    assert "The directory of services was wrong." in html
    assert "Staffing was thin at night." not in html
    assert 'value="DIRECTORY services"' in html


def test_tagging_and_filtering_by_theme(seeded_app: Flask, cast: Cast, answered: Consultation) -> None:
    client = client_for(seeded_app, cast.panel)
    target = text_answer(db.session.scalars(select(Response).where(Response.user_id == cast.member.id)).one())
    path = f"/consultations/{answered.id}/answers/{target.id}/themes"
    sent = post_form(client, path, {"label": "Staffing", "q": "night"}, page=analysis_path(answered))
    assert sent.status_code == 303
    assert sent.headers["Location"].endswith(f"{analysis_path(answered)}?q=night#answer-{target.id}")
    filtered = page_text(client.get(analysis_path(answered) + "?theme=Staffing"))
    assert "Staffing was thin at night." in filtered
    assert "The directory of services was wrong." not in filtered
    assert "Staffing (1" in filtered

    removed = post_form(client, path + "/remove", {"label": "Staffing"}, page=analysis_path(answered))
    assert removed.status_code == 303
    db.session.expire_all()
    assert target.themes == []


def test_an_empty_theme_shows_the_page_again_with_a_message(
    seeded_app: Flask, cast: Cast, answered: Consultation
) -> None:
    client = client_for(seeded_app, cast.panel)
    target = text_answer(db.session.scalars(select(Response).where(Response.user_id == cast.member.id)).one())
    page = analysis_path(answered)
    response = post_form(client, f"/consultations/{answered.id}/answers/{target.id}/themes", {"label": "  "}, page=page)
    assert response.status_code == 400
    assert "Enter a theme to tag the answer with." in page_text(response)
    long = "x" * 90
    response = post_form(client, f"/consultations/{answered.id}/answers/{target.id}/themes", {"label": long}, page=page)
    assert response.status_code == 400
    assert f'value="{long}"' in page_text(response)


def test_tagging_a_draft_answer_or_as_a_member_is_404(seeded_app: Flask, cast: Cast, answered: Consultation) -> None:
    draft = text_answer(db.session.scalars(select(Response).where(Response.status == "draft")).one())
    client = client_for(seeded_app, cast.panel)
    token = csrf_token(client.get(analysis_path(answered)).get_data(as_text=True))
    path = f"/consultations/{answered.id}/answers/{draft.id}/themes"
    assert client.post(path, data={"csrf_token": token, "label": "X"}).status_code == 404
    member = client_for(seeded_app, cast.member)
    token = csrf_token(member.get("/").get_data(as_text=True))
    submitted = text_answer(db.session.scalars(select(Response).where(Response.user_id == cast.member.id)).one())
    path = f"/consultations/{answered.id}/answers/{submitted.id}/themes"
    assert member.post(path, data={"csrf_token": token, "label": "X"}).status_code == 404


# --- CSV -----------------------------------------------------------------------------------------


def test_csv_has_one_row_per_submitted_response(seeded_app: Flask, cast: Cast, answered: Consultation) -> None:
    response = client_for(seeded_app, cast.panel).get(f"/consultations/{answered.id}/responses.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.get_data().decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body[1:], newline="")))
    assert len(rows) == 3
    assert rows[0][6] == "Q1. The findings describe what happened."
    assert {row[3] for row in rows[1:]} == {"Test out-of-hours provider", "Capital Ambulance"}
    assert "A DRAFT NOBODY SHOULD READ" not in body


# --- One response --------------------------------------------------------------------------------


def test_a_response_is_read_by_its_author_and_the_panel_only(
    seeded_app: Flask, cast: Cast, answered: Consultation
) -> None:
    mine = db.session.scalars(select(Response).where(Response.user_id == cast.member.id)).one()
    draft = db.session.scalars(select(Response).where(Response.status == "draft")).one()
    path = f"/consultations/{answered.id}/responses/{mine.id}"
    own = client_for(seeded_app, cast.member).get(path)
    assert own.status_code == 200
    assert "Your response" in page_text(own)
    assert "Staffing was thin at night." in page_text(own)
    panel = page_text(client_for(seeded_app, cast.panel).get(path))
    assert "Member" in panel
    assert "Move the date" in panel
    assert "Agree" in panel
    assert client_for(seeded_app, cast.author).get(path).status_code == 404
    assert client_for(seeded_app).get(path).status_code == 404
    draft_path = f"/consultations/{answered.id}/responses/{draft.id}"
    assert client_for(seeded_app, cast.panel).get(draft_path).status_code == 404
    assert "This is a draft" in page_text(client_for(seeded_app, cast.other_panel).get(draft_path))
    other = make_consultation(cast.review, title="Other")
    assert client_for(seeded_app, cast.member).get(f"/consultations/{other.id}/responses/{mine.id}").status_code == 404


def test_a_response_shows_the_findings_citing_it(seeded_app: Flask, cast: Cast, answered: Consultation) -> None:
    mine = db.session.scalars(select(Response).where(Response.user_id == cast.member.id)).one()
    finding = make_finding(cast.review, number=3)
    db.session.add(Citation(finding_id=finding.id, kind="response", response_id=mine.id))
    db.session.commit()
    path = f"/consultations/{answered.id}/responses/{mine.id}"
    assert f"Cited by finding 3 of {cast.review.title}" in page_text(client_for(seeded_app, cast.panel).get(path))
    assert "Cited by finding" not in page_text(client_for(seeded_app, cast.member).get(path))


# --- We asked, you said, we did ------------------------------------------------------------------


def _editor_data(consultation: Consultation, **changes: str) -> dict[str, str]:
    return {"we_asked": "We asked about the findings.", "you_said": "You said staffing.", "then": "save", **changes}


def test_writing_linking_and_publishing_the_outcome(seeded_app: Flask, cast: Cast, answered: Consultation) -> None:
    panel = client_for(seeded_app, cast.panel)
    mine = db.session.scalars(select(Response).where(Response.user_id == cast.member.id)).one()
    finding = make_finding(cast.review, number=2, title="Night staffing was short")
    edit = f"/consultations/{answered.id}/outcome/edit"
    editor = page_text(panel.get(edit))
    assert f"Response {mine.id} (Test out-of-hours provider): “Staffing was thin at night.”" in editor
    assert "Finding 2: Night staffing was short" in editor
    data = _editor_data(
        answered,
        **{
            "changes-0-you_said": "Nights were short of staff.",
            "changes-0-we_did": "We added **night cover** to finding 2.",
            "changes-0-responses": str(mine.id),
            "changes-0-findings": str(finding.id),
        },
    )
    saved = post_form(panel, edit, data)
    assert saved.status_code == 303
    draft_page = page_text(panel.get(f"/consultations/{answered.id}/outcome"))
    assert "<strong>night cover</strong>" in draft_page
    assert "Only the panel sees this page" in draft_page
    assert client_for(seeded_app, cast.member).get(f"/consultations/{answered.id}/outcome").status_code == 404

    published = post_form(
        panel, f"/consultations/{answered.id}/outcome/publish", {}, page=f"/consultations/{answered.id}/outcome"
    )
    assert published.status_code == 303
    told = db.session.scalars(select(Notification).where(Notification.kind == "outcome")).all()
    assert {n.user_id for n in told} == {cast.member.id, cast.author.id}

    member = client_for(seeded_app, cast.member)
    notifications = page_text(member.get("/notifications"))
    assert f"The panel has reported back on “{answered.title}”" in notifications
    page = page_text(member.get(f"/consultations/{answered.id}/outcome"))
    assert "Came from 1 response, including" in page
    assert "Read your response" in page
    assert "Capital Ambulance" not in page
    assert "Test out-of-hours provider" not in page
    assert "The responses behind change" not in page
    assert "Finding 2 as consulted on" not in page
    assert "A finding the panel is still drafting" in page
    author_page = page_text(client_for(seeded_app, cast.author).get(f"/consultations/{answered.id}/outcome"))
    assert "Came from 1 response." in author_page
    assert "including" not in author_page
    panel_page = page_text(panel.get(f"/consultations/{answered.id}/outcome"))
    assert "The responses behind change 1" in panel_page
    assert "Finding 2: Night staffing was short" in panel_page


def test_a_change_without_what_was_done_comes_back_with_its_text(
    seeded_app: Flask, cast: Cast, answered: Consultation
) -> None:
    panel = client_for(seeded_app, cast.panel)
    edit = f"/consultations/{answered.id}/outcome/edit"
    response = post_form(panel, edit, _editor_data(answered, **{"changes-0-you_said": "Half a thought kept here"}))
    assert response.status_code == 400
    text = page_text(response)
    assert "Say what was done, or tick “Remove this change”." in text
    assert "Half a thought kept here" in text
    assert "We asked about the findings." in text
    assert answered.changes == []


def test_a_forged_link_is_refused_without_losing_text(seeded_app: Flask, cast: Cast, answered: Consultation) -> None:
    panel = client_for(seeded_app, cast.panel)
    draft = db.session.scalars(select(Response).where(Response.status == "draft")).one()
    data = _editor_data(answered, **{"changes-0-we_did": "Did it.", "changes-0-responses": str(draft.id)})
    response = post_form(panel, f"/consultations/{answered.id}/outcome/edit", data)
    assert response.status_code == 400
    assert "Did it." in page_text(response)
    data["changes-0-responses"] = "not-a-number"
    assert post_form(panel, f"/consultations/{answered.id}/outcome/edit", data).status_code == 400


def test_an_expired_form_comes_back_with_its_text(seeded_app: Flask, cast: Cast, answered: Consultation) -> None:
    panel = client_for(seeded_app, cast.panel)
    data = {"csrf_token": "stale", **_editor_data(answered, **{"changes-0-we_did": "Kept words."})}
    response = panel.post(f"/consultations/{answered.id}/outcome/edit", data=data, follow_redirects=True)
    assert response.status_code == 200
    assert "This form expired" in page_text(response)
    assert "Kept words." in page_text(response)


def test_save_and_add_another_offers_a_new_block(seeded_app: Flask, cast: Cast, answered: Consultation) -> None:
    panel = client_for(seeded_app, cast.panel)
    edit = f"/consultations/{answered.id}/outcome/edit"
    response = post_form(panel, edit, {**_editor_data(answered, **{"changes-0-we_did": "First."}), "then": "add"})
    assert response.status_code == 303
    page = page_text(panel.get(edit))
    assert "Change 1" in page
    assert 'id="new-change"' in page
    assert "changes-1-we_did" in page


def test_publishing_before_the_close_says_why(seeded_app: Flask, cast: Cast) -> None:
    consultation = make_consultation(cast.review, closed=False)
    panel = client_for(seeded_app, cast.panel)
    outcome_path = f"/consultations/{consultation.id}/outcome"
    response = post_form(panel, outcome_path + "/publish", {}, page=outcome_path, follow_redirects=True)
    assert "can be published only after the consultation closes" in page_text(response)
    db.session.expire_all()
    assert consultation.outcome_published_at is None


# --- A fixed number of queries -------------------------------------------------------------------


def _queries_for(client, path: str) -> int:
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert client.get(path).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return len(statements)


def _more_respondents(consultation: Consultation, start: int, stop: int) -> list[Response]:
    made = []
    for index in range(start, stop):
        person = make_user(f"respondent-{index}@example.org")
        made.append(answer(consultation, person, scale="agree", choice="Not sure", text=f"Answer number {index}."))
    for response in made:
        text_answer(response).themes.append(AnswerTheme(label=f"Theme {response.id % 3}"))
    db.session.commit()
    return made


def test_pages_cost_the_same_queries_whatever_the_number_of_responses(seeded_app: Flask, cast: Cast) -> None:
    consultation = make_consultation(cast.review)
    finding = make_finding(cast.review)
    client = client_for(seeded_app, cast.panel)
    base = f"/consultations/{consultation.id}"
    paths = (f"{base}/analysis", f"{base}/responses.csv", f"{base}/outcome", f"{base}/outcome/edit")

    def grow(start: int, stop: int) -> dict[str, int]:
        made = _more_respondents(consultation, start, stop)
        for response in made:
            change = OutcomeChange(consultation_id=consultation.id, position=response.id, we_did="Did.")
            change.responses = [response]
            change.findings = [finding]
            db.session.add(change)
        db.session.commit()
        client.get(paths[0])
        return {path: _queries_for(client, path) for path in paths}

    small = grow(0, 2)
    large = grow(2, 10)
    assert large == small
