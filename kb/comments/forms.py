"""Flask-WTF forms for writing and editing a comment: fields and validation only."""

from __future__ import annotations

from flask import current_app
from flask_wtf import FlaskForm
from wtforms import Field, HiddenField, TextAreaField
from wtforms.validators import ValidationError

from kb.comments.service import DEFAULT_MAX_CHARS
from kb.pages import whole_number

EMPTY_MESSAGE = "Write your comment before you post it."


def body_check(form: FlaskForm, field: Field) -> None:
    """Refuse an empty body or one longer than `COMMENT_MAX_CHARS`; raises ValidationError saying which."""
    text = (field.data or "").strip()
    if not text:
        raise ValidationError(EMPTY_MESSAGE)
    limit = int(current_app.config.get("COMMENT_MAX_CHARS", DEFAULT_MAX_CHARS))
    if len(text) > limit:
        raise ValidationError(
            f"Comments must be {limit:,} characters or fewer; yours has {len(text):,}. Shorten it, then post it again."
        )


class CommentForm(FlaskForm):
    """A new comment, or a reply when `parent_id` is set; `draft` names a draft kept across a sign-in."""

    body = TextAreaField("Your comment", validators=[body_check])
    parent_id = HiddenField()
    draft = HiddenField()

    def parent_number(self) -> int | None:
        """The id of the comment replied to, or None for a new thread (or a value that is not a number)."""
        return whole_number(self.parent_id.data)


class EditCommentForm(FlaskForm):
    """A comment's new text; the old one is kept as a version."""

    body = TextAreaField("Your comment", validators=[body_check])
