"""The text of notification mail, each with an unsubscribe link for its kind of mail.

Every message ends with a link to a page that turns its kind of mail off without signing
in, and carries `List-Unsubscribe` and `List-Unsubscribe-Post: List-Unsubscribe=One-Click`
headers (RFC 8058) so mail programs can offer the same in one click. Links are built
from the configured `SITE_URL`, never from a request's host.
"""

from __future__ import annotations

from collections.abc import Sequence

from flask import current_app

from kb.mail import Mail, site_link
from kb.notifications.tokens import CATEGORIES, CATEGORY_NOTES, make_unsubscribe_token
from kb.users.models import User

SETTINGS_PATH = "/account/notifications"
EXCERPT_MAX = 1_000
"""How much of a comment's Markdown a mail quotes before cutting it short."""


def unsubscribe_path(user: User, category: str) -> str:
    """The path of the unsubscribe page for `user` and `category`."""
    token = make_unsubscribe_token(current_app.config["SECRET_KEY"], user.id, category)
    return f"/unsubscribe/{token}"


def unsubscribe_headers(user: User, category: str) -> tuple[tuple[str, str], ...]:
    """The RFC 8058 headers that let a mail program unsubscribe in one click."""
    return (
        ("List-Unsubscribe", f"<{site_link(unsubscribe_path(user, category))}>"),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
    )


def unsubscribe_footer(user: User, category: str, reason: str | None = None) -> str:
    """The closing lines of a notification mail: why it came (`reason`, or the category's switch) and how to stop it.

    The link turns off `category` only; what it leaves on (`tokens.CATEGORY_NOTES`) is said after it.
    """
    lines = [
        reason or f"You get this because you have {CATEGORIES[category]} switched on.",
        f"Turn off {CATEGORIES[category]}: {site_link(unsubscribe_path(user, category))}",
    ]
    if category in CATEGORY_NOTES:
        lines.append(CATEGORY_NOTES[category])
    lines.append(f"All your notification settings: {site_link(SETTINGS_PATH)}")
    return "\n".join(lines)


def compose(user: User, category: str, subject: str, paragraphs: Sequence[str], reason: str | None = None) -> Mail:
    """A notification mail to `user`: greeting, `paragraphs`, signature and the unsubscribe footer (with `reason`)."""
    site = current_app.config["SITE_NAME"]
    footer = unsubscribe_footer(user, category, reason)
    body = "\n\n".join([f"Hello {user.display_name},", *paragraphs, f"– {site}", footer])
    return Mail(to=user.email, subject=subject, body=body + "\n", headers=unsubscribe_headers(user, category))


def excerpt(text: str) -> str:
    """A comment's text quoted in a mail, cut short at `EXCERPT_MAX` characters."""
    text = text.strip()
    if len(text) > EXCERPT_MAX:
        text = text[:EXCERPT_MAX].rstrip() + " […]"
    return "\n".join(f"> {line}" if line else ">" for line in text.splitlines())
