"""Pages and form handlers for moderation."""

from __future__ import annotations

from flask import Blueprint

from kb.moderation import models  # noqa: F401  (the tables exist once the app is built)

blueprint = Blueprint("moderation", __name__)
