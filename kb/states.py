"""Every closed set of state strings kb stores or compares, as `StrEnum`s with their labels.

A member is equal to its stored string (`EntryStatus.PUBLISHED == "published"`), so stored
values, forms and templates keep working; code compares with members so a misspelt state is
an error rather than a silent mismatch. Each database column holding one of these sets has a
CHECK constraint built by `allowed` (see the models). This module imports nothing from kb.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Self


class LabelledEnum(StrEnum):
    """A `StrEnum` whose members carry the label pages show for them: `Member("value", "Label")`."""

    label: str

    def __new__(cls, value: str, label: str) -> Self:
        """Make a member equal to `value` and labelled `label`."""
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member

    @classmethod
    def labels(cls) -> dict[str, str]:
        """Each member's stored value and its label, in declaration order."""
        return {member.value: member.label for member in cls}

    @classmethod
    def values(cls) -> tuple[str, ...]:
        """Each member's stored value, in declaration order."""
        return tuple(member.value for member in cls)


class EntryKind(LabelledEnum):
    """What an entry is."""

    LESSON = "lesson", "Lesson"
    REVIEW = "review", "Review"
    PAPER = "paper", "Meeting paper"


class EntryStatus(LabelledEnum):
    """Where an entry is on its way to publication; only `published` entries follow `visibility`.

    `hidden` (after a flag) leaves the entry to its author and moderators; `removed` and
    `merged` leave it to moderators alone, and a merged entry's address redirects to the
    entry it was merged into.
    """

    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted for publication"
    RETURNED = "returned", "Returned to author"
    REJECTED = "rejected", "Rejected"
    PUBLISHED = "published", "Published"
    HIDDEN = "hidden", "Hidden by a moderator"
    REMOVED = "removed", "Removed by a moderator"
    MERGED = "merged", "Merged into another entry"


class Visibility(LabelledEnum):
    """Who may read a published entry."""

    PUBLIC = "public", "Everyone"
    MEMBERS = "members", "Members"
    PANEL = "panel", "Review panel"
    DRAFT = "draft", "Author and moderators"


class Maturity(LabelledEnum):
    """How far a lesson has come from a first observation."""

    OBSERVATION = "observation", "Observation"
    INSIGHT = "insight", "Insight"
    LESSON = "lesson", "Lesson"
    LEARNED = "learned", "Lesson learned"


class ActionStatus(LabelledEnum):
    """The state of the action a lesson calls for."""

    IDENTIFIED = "identified", "Identified"
    ACCEPTED = "accepted", "Accepted"
    ACTION_PLANNED = "action-planned", "Action planned"
    ACTIONED = "actioned", "Actioned"
    VERIFIED = "verified", "Verified"
    NOT_ACCEPTED = "not-accepted", "Not accepted"


class ReviewStatus(LabelledEnum):
    """Where a review is, from commissioning to its published report."""

    COMMISSIONED = "commissioned", "Commissioned"
    IN_PROGRESS = "in-progress", "In progress"
    CONSULTING = "consulting", "Consulting"
    PUBLISHED = "published", "Published"


class PaperType(LabelledEnum):
    """What sort of meeting paper a paper is."""

    AGENDA = "agenda", "Agenda"
    MINUTES = "minutes", "Minutes"
    DISCUSSION_PAPER = "discussion-paper", "Discussion paper"
    BRIEFING = "briefing", "Briefing"
    REPORT = "report", "Report"


class PaperStatus(LabelledEnum):
    """Whether a meeting paper is final."""

    DRAFT = "draft", "Draft"
    FINAL = "final", "Final"


class LinkRelation(LabelledEnum):
    """How one entry links to another; the label describes the linking entry on the target's page."""

    SOURCE = "source", "drawn from this"
    SEE_ALSO = "see_also", "lists this under see also"
    MENTION = "mention", "mentions this in its text"


class Role(LabelledEnum):
    """What an account may do beyond reading."""

    MEMBER = "member", "Member"
    MODERATOR = "moderator", "Moderator"
    ADMIN = "admin", "Admin"


class TokenKind(LabelledEnum):
    """What a personal access token opens: the JSON API, or a person's feed addresses."""

    API = "api", "API token"
    FEED = "feed", "Feed address"


class TokenScope(LabelledEnum):
    """What a token may do: read only, or read and write (comments, lessons, responses)."""

    READ = "read", "Read only"
    READ_WRITE = "read-write", "Read and write"


class AccountStatus(LabelledEnum):
    """Whether an account is in use (worked out from the account, not stored)."""

    ACTIVE = "active", "Active"
    INVITED = "invited", "Invited, not accepted"
    DEACTIVATED = "deactivated", "Deactivated"


class OrganisationType(LabelledEnum):
    """What kind of body a member organisation is."""

    GP_FEDERATION = "gp-federation", "GP federation"
    OUT_OF_HOURS_PROVIDER = "out-of-hours-provider", "Out-of-hours provider"
    AMBULANCE_SERVICE = "ambulance-service", "Ambulance service"
    COMMISSIONER = "commissioner", "Commissioner"
    NATIONAL_BODY = "national-body", "National body"
    PROVIDER = "provider", "Other provider"
    PROFESSIONAL_BODY = "professional-body", "Professional body"
    PATIENT_GROUP = "patient-group", "Patient group"


class CommentStatus(LabelledEnum):
    """A hidden comment is read only by moderators and its author; a removed one only by moderators.

    Either leaves a placeholder in the thread, and its replies stay where they are.
    """

    VISIBLE = "visible", "Visible"
    HIDDEN = "hidden", "Hidden by a moderator"
    REMOVED = "removed", "Removed"


class FlagReason(LabelledEnum):
    """Why a member flagged a comment or an entry."""

    OFF_TOPIC = "off-topic", "Off-topic"
    INACCURATE = "inaccurate", "Inaccurate"
    PERSONAL_DATA = "personal-data", "Contains personal data"
    ABUSIVE = "abusive", "Abusive"
    OTHER = "other", "Something else"


class FlagResolution(LabelledEnum):
    """What a moderator did about a flag (an open flag has none)."""

    HIDDEN = "hidden", "Hidden"
    RESTORED = "restored", "Restored"
    DISMISSED = "dismissed", "Dismissed"
    REMOVED = "removed", "Removed"


class FindingStatus(LabelledEnum):
    """A finding is drafted by its panel, agreed by two of its members, then published with the review.

    A draft or agreed finding the panel sets aside is `withdrawn`: kept, with its history, in
    the workspace, but neither published nor in the way of publishing the others.
    """

    DRAFT = "draft", "Draft"
    AGREED = "agreed", "Agreed"
    PUBLISHED = "published", "Published"
    WITHDRAWN = "withdrawn", "Withdrawn"


class DocumentTextStatus(LabelledEnum):
    """What became of the text of an attached document when kb read it."""

    PENDING = "pending", "Not read yet"
    EXTRACTED = "extracted", "Text searchable"
    NO_TEXT = "no_text", "No text found (a scan or an image)"
    FAILED = "failed", "Could not be read"


class CitationKind(LabelledEnum):
    """What a finding's citation points at."""

    ENTRY = "entry", "Lesson or paper"
    PARAGRAPH = "paragraph", "Paragraph of a paper"
    PAGE = "page", "Page of a document"
    COMMENT = "comment", "Comment"
    RESPONSE = "response", "Consultation response"


class QuestionKind(LabelledEnum):
    """The form of a consultation question."""

    TEXT = "text", "Free text"
    SCALE = "scale", "Agree or disagree (five points)"
    CHOICE = "choice", "Choose one of several"


class ResponseStatus(LabelledEnum):
    """Whether a member's consultation response is sent."""

    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"


class RecurrenceDecision(LabelledEnum):
    """A moderator's decision on a pair of similar lessons."""

    CONFIRMED = "confirmed", "The same lesson again"
    REJECTED = "rejected", "Not the same lesson"


class FollowTarget(LabelledEnum):
    """What can be followed. Following a review also follows the entries of its panel's work."""

    ENTRY = "entry", "Entry"
    THEME = "theme", "Theme"
    REVIEW = "review", "Review"


class NotificationKind(LabelledEnum):
    """Why a person is told something."""

    MENTION = "mention", "Mentioned you"
    REPLY = "reply", "Replied to you"
    MODERATION = "moderation", "Moderation decision"
    FLAG = "flag", "New flag"
    FOLLOW = "follow", "Activity on something you follow"
    OUTCOME = "outcome", "A consultation you answered reported back"
    REMINDER = "reminder", "A consultation you follow closes soon"
    FINDING_NEW = "finding_new", "A colleague drafted a finding"
    PROPOSED = "proposed", "A finding was proposed for agreement"
    AGREED = "agreed", "A finding was agreed"
    AGREEMENT_LOST = "agreement_lost", "Agreement on a finding was withdrawn"
    FINDING_COMMENT = "finding_comment", "New comment on a finding"
    PUBLISHED = "published", "Findings were published"
    CORRECTION = "correction", "A published finding was corrected"
    CONSULTATION = "consultation", "A consultation opened"
    RECEIPT = "receipt", "Your consultation response was received"


class MailDelivery(LabelledEnum):
    """How a person wants mail about one group of notification kinds."""

    NOW = "now", "Mail me at once"
    DIGEST = "digest", "Put it in my daily digest"
    NONE = "none", "Do not mail me"


STATE_ENUMS: tuple[type[LabelledEnum], ...] = (
    EntryKind,
    EntryStatus,
    Visibility,
    Maturity,
    ActionStatus,
    ReviewStatus,
    PaperType,
    PaperStatus,
    LinkRelation,
    Role,
    TokenKind,
    TokenScope,
    AccountStatus,
    OrganisationType,
    CommentStatus,
    FlagReason,
    FlagResolution,
    FindingStatus,
    DocumentTextStatus,
    CitationKind,
    QuestionKind,
    ResponseStatus,
    RecurrenceDecision,
    FollowTarget,
    NotificationKind,
    MailDelivery,
)
"""Every state enum, for templates (as globals of the same names) and for the guard test."""


def allowed(column: str, states: type[LabelledEnum]) -> str:
    """The SQL of a CHECK constraint that `column` holds one of `states` (or NULL, which CHECK lets through)."""
    listed = ", ".join(f"'{value}'" for value in states.values())
    return f"{column} IN ({listed})"
