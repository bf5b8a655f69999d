"""Writing, submitting and moderating lessons in the browser."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("contributions", __name__)


@blueprint.route("/account/contributions")
def mine() -> str:
    """The signed-in member's lessons and what happened to each."""
    return ""
