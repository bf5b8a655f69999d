"""Admin pages: users, organisations, panel membership and the audit log."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("admin", __name__, url_prefix="/admin")
