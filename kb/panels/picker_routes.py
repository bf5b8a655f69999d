"""The finding editor's citation picker: search, choose what to cite, and get the note number to put in the text.

The editor's script (`static/kb-cite-picker.js`) asks for two HTML fragments, the search
results (or, before any search, the review's own papers and evidence) and one entry's citable
parts, and posts the choice here; the answer is JSON with the new citation's number, which
the script types into the text as `[^N]` at the cursor. Everything is for the review's panel
and staff (`review.work`); everyone else gets 404. Without the script the cite pages of
`kb.panels.trace_routes` do the same work.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template
from flask_login import current_user
from werkzeug.wrappers import Response

from kb.errors import unit_of_work
from kb.panels.citations import (
    CitationError,
    add_citation,
)
from kb.panels.cite_context import citable_parts, evidence_search, working_finding
from kb.panels.cite_forms import CiteForm
from kb.panels.models import Finding
from kb.panels.notes import referred_notes
from kb.panels.trace_routes import cited_object
from kb.permissions import PermissionDeniedError, current_viewer
from kb.states import FindingStatus

blueprint = Blueprint("cite_picker", __name__)
PICKER = "/reviews/<slug>/findings/<int:number>/picker"
Answer = tuple[Response, int]


@blueprint.app_template_global("referred_notes_of")
def referred_notes_of(finding: Finding) -> set[int]:
    """The notes a finding's stored text refers to, so its notes list links back only to places that exist."""
    return referred_notes([finding.body_html, finding.recommendations_html], finding.number)


@blueprint.get(PICKER)
def results(slug: str, number: int) -> str:
    """The picker's list: search results for `q`, or the review's own papers and evidence before any search."""
    review, finding = working_finding(slug, number)
    found = evidence_search(current_viewer(), review, finding)
    return render_template("panels/_picker_results.html", review=review, finding=finding, **found)


@blueprint.get(f"{PICKER}/<entry_slug>")
def entry_parts(slug: str, number: int, entry_slug: str) -> str:
    """The picker's list of one entry's citable parts: the whole, a paper's paragraphs, pages, comments, responses."""
    review, finding = working_finding(slug, number)
    parts = citable_parts(current_viewer(), review, finding, entry_slug)
    return render_template("panels/_picker_entry.html", review=review, finding=finding, **parts)


@blueprint.post(f"{PICKER}/cite")
def cite(slug: str, number: int) -> Answer:
    """Cite what the form names; answers JSON: `number` and `marker` of the new note, `finding`, and `reopened`.

    `reopened` says the citation withdrew the finding's agreement. A refusal answers
    `{"error"}` with 400, or 404 for a source the actor may not see.
    """
    _, finding = working_finding(slug, number)
    form = CiteForm()
    if not form.validate() or form.target_id() is None:
        message = " ".join(error for errors in form.errors.values() for error in errors)
        return jsonify(error=message or "Choose something to cite."), 400
    reopened = finding.status == FindingStatus.AGREED or finding.agreement_proposed_by_id is not None
    try:
        with unit_of_work():
            citation = add_citation(finding, actor=current_user, kind=form.kind.data, **cited_object(form))
    except CitationError as error:
        return jsonify(error=str(error)), 400
    except PermissionDeniedError:
        # As for the cite pages: what the actor may not see is answered as if it did not exist.
        return jsonify(error="There is no such thing to cite."), 404
    note = citation.position + 1
    return jsonify(number=note, marker=f"[^{note}]", finding=finding.number, reopened=reopened), 200
