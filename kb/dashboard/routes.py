"""The dashboard page."""

from __future__ import annotations

from flask import Blueprint, render_template

from kb.dashboard.queries import dashboard
from kb.permissions import current_viewer

blueprint = Blueprint("dashboard", __name__)


@blueprint.get("/dashboard")
def index() -> str:
    """Lessons by theme, region and year; open and overdue actions; consultations; confirmed recurrences."""
    return render_template("dashboard/index.html", board=dashboard(current_viewer()))
