"""Writing, submitting and moderating lessons in the browser."""

from __future__ import annotations

from flask import Blueprint, abort

blueprint = Blueprint("contributions", __name__)


@blueprint.route("/account/contributions")
def mine() -> str:
    """The signed-in member's lessons and what happened to each."""
    abort(404)


@blueprint.route("/lessons/new")
def new_lesson() -> str:
    """Write a new lesson."""
    abort(404)


@blueprint.route("/moderation")
def queue() -> str:
    """Submitted lessons waiting for a moderator."""
    abort(404)
