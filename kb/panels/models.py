"""Findings of a review, their revisions, and the citations that tie each finding to its evidence."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from markupsafe import Markup
from sqlalchemy import CheckConstraint, DateTime, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kb.dates import utcnow
from kb.extensions import Model
from kb.states import CitationKind, FindingStatus, allowed

if TYPE_CHECKING:
    from kb.comments.models import Comment
    from kb.consultations.models import Response
    from kb.documents.models import Document
    from kb.entries.models import Entry, Review
    from kb.users.models import User

FINDING_STATUSES: dict[str, str] = FindingStatus.labels()
"""A finding's states and their labels (see `kb.states.FindingStatus`)."""

CITATION_KINDS: dict[str, str] = CitationKind.labels()
ENTRY_CITATIONS = frozenset({CitationKind.ENTRY, CitationKind.PARAGRAPH, CitationKind.PAGE})
"""Kinds of citation that name an entry (`entry_id`): the whole of it, or a part."""
PART_CITATIONS = frozenset({CitationKind.PARAGRAPH, CitationKind.PAGE})
"""Kinds of citation of a part of an entry: a paragraph of a paper, a page of one of its documents."""


class RenderedTexts:
    """The stored renderings of a finding's (or revision's) two Markdown texts, as templates print them.

    `body_html` and `recommendations_html` hold what `kb.panels.rendering` made of the
    texts with kb.markdown's sanitiser, so this is the one place they are marked safe.
    """

    body_html: Mapped[str]
    recommendations_html: Mapped[str]

    @property
    def shown_body(self) -> Markup:
        """The text as sanitised HTML, ready to print."""
        return Markup(self.body_html or "")  # noqa: S704 - rendered and sanitised by kb.markdown

    @property
    def shown_recommendations(self) -> Markup:
        """The recommendations as sanitised HTML, ready to print."""
        return Markup(self.recommendations_html or "")  # noqa: S704 - rendered and sanitised by kb.markdown


class Finding(RenderedTexts, Model):
    """One numbered finding of a review, with its recommendations; read by the panel until published."""

    __tablename__ = "findings"
    __table_args__ = (
        UniqueConstraint("review_id", "number"),
        CheckConstraint(allowed("status", FindingStatus), name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    recommendations: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    recommendations_html: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    revision_number: Mapped[int] = mapped_column(default=1)
    """The number of the current revision; a save based on an older one goes to the merge view."""
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    agreement_proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    """The panel member who asked for agreement; another member must agree. Any edit clears it."""
    agreement_proposed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    agreed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    agreed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    published_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    holder_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    """The panel member who holds the pen on this finding (its writer until someone takes it over)."""

    review: Mapped[Review] = relationship("Review")
    created_by: Mapped[User | None] = relationship("User", foreign_keys=[created_by_id])
    agreement_proposed_by: Mapped[User | None] = relationship("User", foreign_keys=[agreement_proposed_by_id])
    agreed_by: Mapped[User | None] = relationship("User", foreign_keys=[agreed_by_id])
    holder: Mapped[User | None] = relationship("User", foreign_keys=[holder_id])
    revisions: Mapped[list[FindingRevision]] = relationship(
        back_populates="finding", order_by="FindingRevision.number", cascade="all, delete-orphan"
    )
    citations: Mapped[list[Citation]] = relationship(
        back_populates="finding", order_by="Citation.position", cascade="all, delete-orphan"
    )
    corrections: Mapped[list[FindingCorrection]] = relationship(
        back_populates="finding", order_by="FindingCorrection.id", cascade="all, delete-orphan"
    )


class FindingRevision(RenderedTexts, Model):
    """One saved state of a finding: its text, who saved it, when and why."""

    __tablename__ = "finding_revisions"
    __table_args__ = (UniqueConstraint("finding_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("findings.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    recommendations: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    recommendations_html: Mapped[str] = mapped_column(Text, default="")
    message: Mapped[str] = mapped_column(String(500), default="")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    finding: Mapped[Finding] = relationship(back_populates="revisions")
    author: Mapped[User | None] = relationship("User")


class FindingLink(Model):
    """An entry that some revision of a finding links to with `[[slug]]`.

    When that entry's title, address or visibility changes, the finding's stored renderings
    are made again (`kb.panels.rendering.rerender_findings_linking_to`).
    """

    __tablename__ = "finding_links"

    finding_id: Mapped[int] = mapped_column(ForeignKey("findings.id", ondelete="CASCADE"), primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"), primary_key=True, index=True)


class Citation(Model):
    """A finding's reference to a lesson or paper, a paper's paragraph, a page of a document, a comment or a response.

    `quote` keeps the words cited (a paragraph's, page's or comment's text when cited), so
    the note still says what was cited if the source later changes or goes. A page citation
    names the document version cited (`document_id`), its entry (`entry_id`) and the page.
    """

    __tablename__ = "citations"
    __table_args__ = (CheckConstraint(allowed("kind", CitationKind), name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("findings.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[str] = mapped_column(String(16))
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("entries.id", ondelete="SET NULL"), index=True)
    paragraph_anchor: Mapped[str | None] = mapped_column(String(40))
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="SET NULL"), index=True)
    response_id: Mapped[int | None] = mapped_column(
        ForeignKey("consultation_responses.id", ondelete="SET NULL"), index=True
    )
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id", ondelete="SET NULL"), index=True)
    page_number: Mapped[int | None]
    quote: Mapped[str] = mapped_column(Text, default="")
    note: Mapped[str] = mapped_column(String(500), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    finding: Mapped[Finding] = relationship(back_populates="citations")
    entry: Mapped[Entry | None] = relationship("Entry")
    comment: Mapped[Comment | None] = relationship("Comment")
    response: Mapped[Response | None] = relationship("Response")
    document: Mapped[Document | None] = relationship("Document")


class FindingCorrection(Model):
    """A dated note of a correction the panel made to a finding after it was published.

    The corrected text is the finding's current text; the wording before it stays in the
    finding's revisions (`revision_number` is the revision the correction created).
    """

    __tablename__ = "finding_corrections"

    id: Mapped[int] = mapped_column(primary_key=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("findings.id", ondelete="CASCADE"), index=True)
    revision_number: Mapped[int]
    note: Mapped[str] = mapped_column(Text)
    note_html: Mapped[str] = mapped_column(Text, default="")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    corrected_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    finding: Mapped[Finding] = relationship(back_populates="corrections")
    author: Mapped[User | None] = relationship("User")

    @property
    def shown_note(self) -> Markup:
        """The stored rendering of the note (sanitised by kb.markdown when saved), ready to print."""
        return Markup(self.note_html)  # noqa: S704 - rendered and sanitised when saved
