"""Flask-WTF forms for writing and editing a comment: fields and validation only."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import Field, HiddenField, TextAreaField
from wtforms.validators import ValidationError

from kb.comments.service import CommentError, check_body
from kb.pages import whole_number


def body_check(form: FlaskForm, field: Field) -> None:
    """Refuse an empty body or one longer than `COMMENT_MAX_CHARS`, by the service's own rule (`check_body`)."""
    try:
        check_body(field.data or "")
    except CommentError as error:
        raise ValidationError(str(error)) from None


class CommentForm(FlaskForm):
    """A new comment, or a reply when `parent_id` is set; `draft` names a draft kept across a sign-in."""

    body = TextAreaField("Your comment", validators=[body_check])
    parent_id = HiddenField()
    draft = HiddenField()

    def parent_number(self) -> int | None:
        """The id of the comment replied to, or None for a new thread (or a value that is not a number)."""
        return whole_number(self.parent_id.data)

    def malformed_parent(self) -> bool:
        """Whether `parent_id` holds something that is not a comment's number (`-1`, `abc`, `1e3`, 2**63)."""
        return bool((self.parent_id.data or "").strip()) and self.parent_number() is None


class EditCommentForm(FlaskForm):
    """A comment's new text; the old one is kept as a version."""

    body = TextAreaField("Your comment", validators=[body_check])
