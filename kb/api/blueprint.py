"""The API's blueprint, `/api/v1`, shared by its read and write views."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("api", __name__, url_prefix="/api/v1")
