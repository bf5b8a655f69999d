"""Pages and form handlers for notifications."""

from __future__ import annotations

from flask import Blueprint

from kb.notifications import models  # noqa: F401  (the tables exist once the app is built)

blueprint = Blueprint("notifications", __name__)
