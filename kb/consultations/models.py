"""Consultations, their questions, members' responses and answers, and the report back ("you said, we did")."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from markupsafe import Markup
from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.orm.attributes import instance_state

from kb.dates import utcnow
from kb.entries.targets import targets_for
from kb.extensions import Model, db
from kb.markdown import LinkResolver, render
from kb.permissions_links import TargetLookup, link_end_for, link_resolver
from kb.states import QuestionKind, ResponseStatus, allowed

if TYPE_CHECKING:
    from kb.entries.models import Entry
    from kb.panels.models import Finding
    from kb.users.models import User

QUESTION_KINDS: dict[str, str] = QuestionKind.labels()
SCALE_OPTIONS: dict[str, str] = {
    "strongly-agree": "Strongly agree",
    "agree": "Agree",
    "neither": "Neither agree nor disagree",
    "disagree": "Disagree",
    "strongly-disagree": "Strongly disagree",
}
"""The five points of an agree/disagree question, in the order they are offered and counted."""
RESPONSE_STATUSES: dict[str, str] = ResponseStatus.labels()


class Consultation(Model):
    """Questions put to members about one entry (a paper, or a review's draft findings) for a set time.

    Times are stored in UTC; it is open from `opens_at` (inclusive) until `closes_at`
    (exclusive). Who may read it follows the consulted entry.
    """

    __tablename__ = "consultations"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    introduction: Mapped[str] = mapped_column(Text, default="")
    introduction_html: Mapped[str] = mapped_column(Text, default="")
    opens_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    closes_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    reminder_sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    """When the two-days-before-close reminder was claimed for sending; never sent twice."""
    tell_all_members: Mapped[bool] = mapped_column(default=False, server_default=false())
    """Whether every member who may read it is told when it opens, not only those following what it is about."""
    opening_told_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    """When the opening notice was claimed for sending (`kb.consultations.opening`); never sent twice."""
    we_asked: Mapped[str] = mapped_column(Text, default="")
    you_said: Mapped[str] = mapped_column(Text, default="")
    we_asked_html: Mapped[str] = mapped_column(Text, default="")
    you_said_html: Mapped[str] = mapped_column(Text, default="")
    outcome_published_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    """When the "We asked, you said, we did" page was published; respondents are told then."""

    entry: Mapped[Entry] = relationship("Entry")
    created_by: Mapped[User | None] = relationship("User")
    questions: Mapped[list[Question]] = relationship(
        back_populates="consultation", order_by="Question.position", cascade="all, delete-orphan"
    )
    consulted_findings: Mapped[list[ConsultedFinding]] = relationship(
        back_populates="consultation", order_by="ConsultedFinding.position", cascade="all, delete-orphan"
    )
    responses: Mapped[list[Response]] = relationship(back_populates="consultation", cascade="all, delete-orphan")
    changes: Mapped[list[OutcomeChange]] = relationship(
        back_populates="consultation", order_by="OutcomeChange.position", cascade="all, delete-orphan"
    )


class ConsultedFinding(Model):
    """A draft finding put to members, as its text stood when the consultation was set up."""

    __tablename__ = "consulted_findings"

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id", ondelete="CASCADE"), index=True)
    finding_id: Mapped[int | None] = mapped_column(ForeignKey("findings.id", ondelete="SET NULL"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    number: Mapped[int]
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    recommendations: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    recommendations_html: Mapped[str] = mapped_column(Text, default="")

    consultation: Mapped[Consultation] = relationship(back_populates="consulted_findings")
    finding: Mapped[Finding | None] = relationship("Finding")
    links: Mapped[list[ConsultedFindingLink]] = relationship(cascade="all, delete-orphan")


class ConsultedFindingLink(Model):
    """An entry that the copy of a finding links to with `[[slug]]`.

    When that entry's title, address, status or visibility changes, the copy's stored
    renderings are made again (`kb.consultations.copies.rerender_copies_linking_to`).
    """

    __tablename__ = "consulted_finding_links"

    copy_id: Mapped[int] = mapped_column(ForeignKey("consulted_findings.id", ondelete="CASCADE"), primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"), primary_key=True, index=True)


class Question(Model):
    """One question: free text, a five-point agree/disagree scale, or one choice of several `options`."""

    __tablename__ = "consultation_questions"
    __table_args__ = (CheckConstraint(allowed("kind", QuestionKind), name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[str] = mapped_column(String(16))
    prompt: Mapped[str] = mapped_column(Text)
    hint: Mapped[str] = mapped_column(Text, default="")
    options: Mapped[list[str]] = mapped_column(JSON, default=list)
    required: Mapped[bool] = mapped_column(default=False)

    consultation: Mapped[Consultation] = relationship(back_populates="questions")


class Response(Model):
    """One member's answers to a consultation: a draft until submitted, editable until the close.

    The organisation's name, type and region are copied at submission, so the analysis
    counts people as they were when they answered.
    """

    __tablename__ = "consultation_responses"
    __table_args__ = (
        UniqueConstraint("consultation_id", "user_id"),
        CheckConstraint(allowed("status", ResponseStatus), name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    organisation_name: Mapped[str] = mapped_column(String(200), default="")
    organisation_type: Mapped[str] = mapped_column(String(32), default="")
    region: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    consultation: Mapped[Consultation] = relationship(back_populates="responses")
    user: Mapped[User | None] = relationship("User")
    answers: Mapped[list[Answer]] = relationship(back_populates="response", cascade="all, delete-orphan")


class Answer(Model):
    """The answer to one question: `text` for free text, `choice` (a scale key or an option) otherwise."""

    __tablename__ = "consultation_answers"
    __table_args__ = (UniqueConstraint("response_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("consultation_responses.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("consultation_questions.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text, default="")
    choice: Mapped[str | None] = mapped_column(String(200))

    response: Mapped[Response] = relationship(back_populates="answers")
    question: Mapped[Question] = relationship("Question")
    themes: Mapped[list[AnswerTheme]] = relationship(
        back_populates="answer", order_by="AnswerTheme.label", cascade="all, delete-orphan"
    )


class AnswerTheme(Model):
    """A theme the panel tagged a free-text answer with while analysing it."""

    __tablename__ = "consultation_answer_themes"
    __table_args__ = (UniqueConstraint("answer_id", "label"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    answer_id: Mapped[int] = mapped_column(ForeignKey("consultation_answers.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(80))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    answer: Mapped[Answer] = relationship(back_populates="themes")


change_responses = Table(
    "outcome_change_responses",
    db.metadata,
    Column("change_id", ForeignKey("outcome_changes.id", ondelete="CASCADE"), primary_key=True),
    Column("response_id", ForeignKey("consultation_responses.id", ondelete="CASCADE"), primary_key=True, index=True),
)
change_findings = Table(
    "outcome_change_findings",
    db.metadata,
    Column("change_id", ForeignKey("outcome_changes.id", ondelete="CASCADE"), primary_key=True),
    Column("finding_id", ForeignKey("findings.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class OutcomeChange(Model):
    """One "you said, we did" item: what was heard, what changed, and the responses and findings behind it."""

    __tablename__ = "outcome_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    you_said: Mapped[str] = mapped_column(Text, default="")
    we_did: Mapped[str] = mapped_column(Text)
    you_said_html: Mapped[str] = mapped_column(Text, default="")
    we_did_html: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    consultation: Mapped[Consultation] = relationship(back_populates="changes")
    responses: Mapped[list[Response]] = relationship(secondary=change_responses)
    findings: Mapped[list[Finding]] = relationship("Finding", secondary=change_findings)


# --- Stored renderings ---------------------------------------------------------------------------
# Each Markdown text above is rendered (and sanitised, by kb.markdown) once, whenever it is
# saved, into the `*_html` column beside it; pages print that, never rendering per view. The
# copy of a finding resolves its `[[slug]]` links as the finding does, for the consultation's
# readers (those of the consulted entry): a link shows its target's title only when every
# one of them may read the target; the entries it links to are recorded
# (`ConsultedFindingLink`), so the copy is rendered again when one of them, or the consulted
# entry, changes (`kb.consultations.copies`). The other texts do not resolve links.

RenderedModel = Consultation | ConsultedFinding | OutcomeChange
"""The models whose texts are rendered on save."""

RENDERED_TEXTS: dict[type[RenderedModel], dict[str, str]] = {
    Consultation: {"introduction": "introduction_html", "we_asked": "we_asked_html", "you_said": "you_said_html"},
    ConsultedFinding: {"body": "body_html", "recommendations": "recommendations_html"},
    OutcomeChange: {"you_said": "you_said_html", "we_did": "we_did_html"},
}
"""For each model, its Markdown texts and the column holding each one's rendering."""


def anchor_prefix(saved: object, text: str) -> str:
    """The prefix of heading and footnote ids in one rendered text, so texts sharing a page keep apart."""
    if isinstance(saved, ConsultedFinding):
        return f"{'f' if text == 'body' else 'r'}{saved.number}-"
    if isinstance(saved, Consultation) and text == "introduction":
        return "intro-"
    return ""


def link_resolver_for(saved: RenderedModel, targets: TargetLookup | None = None) -> LinkResolver | None:
    """How `[[slug]]` links in `saved`'s texts resolve: for a finding's copy, as its consultation's readers see them.

    `targets` (for work on many texts) saves loading the entries the texts name.
    """
    if not isinstance(saved, ConsultedFinding):
        return None
    targets = targets if targets is not None else targets_for([saved.body, saved.recommendations])
    return link_resolver(link_end_for(saved.consultation.entry), targets)


def render_texts(saved: RenderedModel, *, every: bool = False, targets: TargetLookup | None = None) -> int:
    """Store the rendering of each of `saved`'s texts that changed since it was loaded (or all, with `every`).

    Returns how many texts were rendered. The entries a copy of a finding links to are
    recorded by `kb.consultations.copies.record_links`, outside the flush.
    """
    state = instance_state(saved)
    changed = [
        (text, column)
        for text, column in RENDERED_TEXTS[type(saved)].items()
        if every or state.transient or state.pending or state.attrs[text].history.has_changes()
    ]
    resolve = link_resolver_for(saved, targets) if changed else None
    for text, column in changed:
        rendered = render(getattr(saved, text) or "", resolve, anchor_prefix=anchor_prefix(saved, text))
        setattr(saved, column, rendered.html)
    return len(changed)


def _render_on_save(mapper: object, connection: object, saved: RenderedModel) -> None:
    render_texts(saved)


def _shown(column: str) -> property:
    def shown(self: object) -> Markup:
        return Markup(getattr(self, column) or "")  # noqa: S704 - rendered and sanitised by kb.markdown

    shown.__doc__ = f"`{column}` (sanitised HTML) ready to print."
    return property(shown)


for _model, _texts in RENDERED_TEXTS.items():
    event.listen(_model, "before_insert", _render_on_save)
    event.listen(_model, "before_update", _render_on_save)
    for _text, _column in _texts.items():
        setattr(_model, f"shown_{_text}", _shown(_column))
