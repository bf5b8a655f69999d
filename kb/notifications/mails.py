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
from kb.notifications.tokens import CATEGORIES, make_unsubscribe_token
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


def unsubscribe_footer(user: User, category: str) -> str:
    """The closing lines of a notification mail: why it came and how to stop it."""
    return (
        f"You get this because you have {CATEGORIES[category]} switched on.\n"
        f"Turn it off: {site_link(unsubscribe_path(user, category))}\n"
        f"All your notification settings: {site_link(SETTINGS_PATH)}"
    )


def compose(user: User, category: str, subject: str, paragraphs: Sequence[str]) -> Mail:
    """A notification mail to `user`: greeting, `paragraphs`, signature and the unsubscribe footer."""
    site = current_app.config["SITE_NAME"]
    body = "\n\n".join([f"Hello {user.display_name},", *paragraphs, f"– {site}", unsubscribe_footer(user, category)])
    return Mail(to=user.email, subject=subject, body=body + "\n", headers=unsubscribe_headers(user, category))


def excerpt(text: str) -> str:
    """A comment's text quoted in a mail, cut short at `EXCERPT_MAX` characters."""
    text = text.strip()
    if len(text) > EXCERPT_MAX:
        text = text[:EXCERPT_MAX].rstrip() + " […]"
    return "\n".join(f"> {line}" if line else ">" for line in text.splitlines())
