"""Citing evidence from a finding, the traceability matrix, the report page and the review's export."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("traceability", __name__)
