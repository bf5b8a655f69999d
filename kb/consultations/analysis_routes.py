"""After the close: the panel's analysis, the answers' CSV, and the "We asked, you said, we did" page."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("consultation_analysis", __name__)
