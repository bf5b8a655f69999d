"""Lessons to action: a lesson's action record, the open actions page, and recurrences."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("actions", __name__)
