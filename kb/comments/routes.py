"""Pages and form handlers for comments."""

from __future__ import annotations

from flask import Blueprint

from kb.comments import models  # noqa: F401  (the tables exist once the app is built)

blueprint = Blueprint("comments", __name__)
