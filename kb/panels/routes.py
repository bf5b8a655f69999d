"""A review's workspace: its panel, papers and evidence, and its findings drafted together."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("panels", __name__)
