"""Pages and form handlers for notifications, following, mail settings and unsubscribing.

The unsubscribe link works without signing in: its signed token names the person and
the kind of mail, and is the only authority the request needs. Opening the link (GET)
changes nothing, because link scanners in mail systems open links before people do; it
shows a page with one button. The button's POST to the same address, which is also the
RFC 8058 one-click request mail programs send, turns the mail off and is therefore exempt
from the CSRF check.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from kb.entries.models import Entry
from kb.errors import unit_of_work
from kb.extensions import csrf, db
from kb.notifications import choices, queries, service
from kb.notifications.forms import SWITCH_LABELS, SettingsForm
from kb.notifications.mails import SETTINGS_PATH
from kb.notifications.tokens import (
    CATEGORIES,
    CATEGORY_NOTES,
    RESTORABLE,
    UnsubscribeClaim,
    UnsubscribeTokenError,
    make_unsubscribe_token,
    read_unsubscribe_token,
)
from kb.notifications.topics import TOPICS
from kb.pages import int_arg
from kb.pagination import pagination_params
from kb.permissions import current_viewer
from kb.states import EntryKind
from kb.taxonomy.models import Theme
from kb.users.models import User
from kb.users.routes import safe_next

blueprint = Blueprint("notifications", __name__)
PER_PAGE = 20
TARGET_TYPES = "any(entry, theme, review)"


@dataclass(frozen=True)
class FollowTarget:
    """What the follow button of a page needs: what it follows and whether the viewer already does."""

    type: str
    id: int
    following: bool
    noun: str


def follow_target(thing: Entry | Theme) -> FollowTarget | None:
    """The follow button's target for an entry (a review follows as a review) or a theme; None signed out."""
    viewer = current_viewer()
    if not viewer.is_authenticated or viewer.user_id is None:
        return None
    if isinstance(thing, Theme):
        target_type, noun = "theme", "theme"
    else:
        target_type = "review" if thing.kind == EntryKind.REVIEW else "entry"
        noun = "review and its entries" if thing.kind == EntryKind.REVIEW else thing.kind
    following = queries.find_follow(viewer.user_id, target_type, thing.id) is not None
    return FollowTarget(target_type, thing.id, following, noun)


@blueprint.app_context_processor
def _notification_context() -> dict[str, Any]:
    """The header's unread count (one query, signed-in people only) and the follow buttons' helper."""
    viewer = current_viewer()
    unread = queries.unread_count(viewer) if viewer.is_authenticated else 0
    return {"notifications_unread": unread, "follow_target": follow_target}


# --- The notifications page ----------------------------------------------------------------------


@blueprint.get("/notifications")
@login_required
def index() -> str:
    """The signed-in person's notifications, newest first, unread ones marked."""
    page = queries.notifications_page(current_viewer(), int_arg("page", 1) or 1, PER_PAGE)
    return render_template(
        "notifications/index.html",
        page=page,
        pagination=pagination_params(page, lambda number: url_for(".index", page=number)),
    )


def _back_to_list() -> Response:
    return redirect(safe_next(request.form.get("next")) or url_for(".index"), code=303)


@blueprint.post("/notifications/<int:notification_id>/read")
@login_required
def mark_read(notification_id: int) -> Response:
    """Mark one notification read."""
    notification = queries.shown_notification(current_viewer(), notification_id)
    if notification is None:
        abort(404)
    service.mark_read(notification)
    db.session.commit()
    return _back_to_list()


@blueprint.post("/notifications/read-all")
@login_required
def mark_all_read() -> Response:
    """Mark every notification read."""
    count = service.mark_all_read(current_user)
    db.session.commit()
    flash(f"Marked {count} notification{'s' if count != 1 else ''} as read.", "success")
    return _back_to_list()


# --- Following -----------------------------------------------------------------------------------


@blueprint.post(f"/follow/<{TARGET_TYPES}:target_type>/<int:target_id>")
@login_required
def follow(target_type: str, target_id: int) -> Response:
    """Start following an entry, a theme or a review, then go back where the button was."""
    with unit_of_work():
        service.follow(current_user, target_type, target_id)
    flash("You are following it. New comments will be in your notifications and your daily digest.", "success")
    return redirect(safe_next(request.form.get("next")) or url_for(".settings"), code=303)


@blueprint.post(f"/unfollow/<{TARGET_TYPES}:target_type>/<int:target_id>")
@login_required
def unfollow(target_type: str, target_id: int) -> Response:
    """Stop following, then go back where the button was."""
    stopped = service.unfollow(current_user, target_type, target_id)
    db.session.commit()
    flash("You are no longer following it." if stopped else "You were not following it.", "success")
    return redirect(safe_next(request.form.get("next")) or url_for(".settings"), code=303)


# --- Settings ------------------------------------------------------------------------------------


@blueprint.route(SETTINGS_PATH, methods=["GET", "POST"])
@login_required
def settings() -> str | Response | tuple[str, int]:
    """The four older mail switches, each topic's choice (in the app; mailed at once, in the digest or not), follows.

    A stale CSRF token is refused by the site-wide check before this runs, with the
    choices shown back; a choice that is not one of the offered ones shows the form again
    with what was chosen and the error.
    """
    form = SettingsForm()
    if form.validate_on_submit():
        with unit_of_work():
            service.update_settings(current_user, form.switches())
            choices.update_choices(current_user, form.topic_choices())
        flash("Your notification settings are saved.", "success")
        return redirect(url_for(".settings"), code=303)
    if request.method == "POST":
        return _settings_page(form), 400
    stored = queries.settings_for(current_user.id)
    for category, field_name in queries.SETTING_FIELDS.items():
        form[category].data = getattr(stored, field_name)
    form.show_choices(queries.choices_for(current_user.id))
    return _settings_page(form)


def _settings_page(form: SettingsForm) -> str:
    return render_template(
        "notifications/settings.html",
        form=form,
        labels=SWITCH_LABELS,
        topics=TOPICS,
        following=queries.followed_items(current_viewer()),
    )


# --- Unsubscribing -------------------------------------------------------------------------------


def _claim(token: str) -> tuple[UnsubscribeClaim, User]:
    """The claim and person a token names; a clear 404 page when it is not a valid token."""
    try:
        claim = read_unsubscribe_token(current_app.config["SECRET_KEY"], token)
    except UnsubscribeTokenError:
        abort(Response(render_template("notifications/unsubscribe_problem.html"), status=404))
    user = db.session.get(User, claim.user_id)
    if user is None:
        abort(Response(render_template("notifications/unsubscribe_problem.html"), status=404))
    return claim, user


SHORT_NAMES: dict[str, str] = {
    "mentions": "mail about mentions",
    "replies": "mail about replies",
    "moderation": "mail about moderation",
    "digest": "the daily digest of what you follow",
    **{topic.key: f"mail about {topic.label[0].lower()}{topic.label[1:]}" for topic in TOPICS},
}
"""How the unsubscribe page's heading and button name each kind of mail."""


@blueprint.get("/unsubscribe/<token>")
def unsubscribe(token: str) -> str:
    """Ask whether to turn off the kind of mail the link names; opening the link changes nothing."""
    claim, user = _claim(token)
    return render_template(
        "notifications/unsubscribe.html",
        token=token,
        short_name=SHORT_NAMES[claim.category],
        description=CATEGORIES[claim.category],
        note=CATEGORY_NOTES.get(claim.category),
        user=user,
    )


@blueprint.post("/unsubscribe/<token>")
@csrf.exempt
def unsubscribe_one_click(token: str) -> str:
    """Turn the mail off: the page's button, or an RFC 8058 one-click POST; the signed token is the authority."""
    claim, user = _claim(token)
    before = service.set_mail(user, claim.category, on=False)
    db.session.commit()
    restore = before if before in RESTORABLE else None
    undo_token = make_unsubscribe_token(current_app.config["SECRET_KEY"], user.id, claim.category, restore)
    return render_template(
        "notifications/unsubscribed.html",
        undo_token=undo_token,
        description=CATEGORIES[claim.category],
        note=CATEGORY_NOTES.get(claim.category),
        user=user,
    )


@blueprint.post("/unsubscribe/<token>/undo")
def resubscribe(token: str) -> str:
    """Turn the kind of mail the link names back on (the button on the unsubscribed page).

    A topic goes back to how it was mailed before the unsubscribe (at once or in the digest),
    which the button's token holds; at once when it holds nothing.
    """
    claim, user = _claim(token)
    service.set_mail(user, claim.category, on=True, restore=claim.restore)
    db.session.commit()
    return render_template("notifications/resubscribed.html", description=CATEGORIES[claim.category])
