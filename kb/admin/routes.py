"""Admin pages: users, organisations, panel membership and the audit log."""

from __future__ import annotations

from flask import Blueprint, abort

blueprint = Blueprint("admin", __name__, url_prefix="/admin")


@blueprint.route("/users")
def users() -> str:
    """Every account, with invitations and roles."""
    abort(404)


@blueprint.route("/audit")
def audit() -> str:
    """The audit log, filtered."""
    abort(404)
