"""Consultations: opening one, reading it, answering it, calendar links."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("consultations", __name__)
