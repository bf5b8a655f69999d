"""Citing evidence from a finding, the traceability matrix and the review's export.

Picking and changing citations is for the review's panel and staff (`review.work`);
everyone else gets 404. The matrix and the export are theirs too, and every reader's
once the review is published (showing only published findings and what the reader may
see). The report's pages join this blueprint from `kb.panels.report_routes`.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from kb.comments.models import Comment
from kb.consultations.models import Response as ConsultationResponse
from kb.documents.links import document_page_link
from kb.documents.models import Document
from kb.entries.models import Entry, Review
from kb.errors import unit_of_work
from kb.extensions import db
from kb.pages import int_arg, whole_number
from kb.panels import queries
from kb.panels.citation_view import CitationPanel, citation_panel
from kb.panels.citations import (
    CitationError,
    add_citation,
    move_citation,
    remove_citation,
)
from kb.panels.cite_context import citable_parts, evidence_search, working_finding
from kb.panels.cite_forms import CiteForm, MoveCitationForm, RemoveCitationForm
from kb.panels.cited_by import finding_path, mark_cited_paragraphs
from kb.panels.export import export_review
from kb.panels.models import FINDING_STATUSES, Citation, Finding
from kb.panels.report import build_matrix, may_trace
from kb.paragraphs import excerpt
from kb.permissions import can, current_viewer
from kb.states import CitationKind

blueprint = Blueprint("traceability", __name__)
FINDING = "/reviews/<slug>/findings/<int:number>"


@blueprint.app_template_global("finding_citations")
def finding_citations(finding: Finding) -> CitationPanel:
    """The citations section of a finding's page as the current viewer sees it (used by `_citations.html`)."""
    return citation_panel(current_viewer(), finding)


blueprint.add_app_template_filter(mark_cited_paragraphs, "mark_cited_paragraphs")
blueprint.add_app_template_filter(excerpt, "excerpt")


def _traceable_review(slug: str) -> Review:
    """The review if the viewer may see its matrix and export; else 404."""
    viewer = current_viewer()
    review = queries.visible_review(viewer, slug)
    if review is None or not may_trace(viewer, review):
        abort(404)
    return review


def _back_to_finding(finding: Finding) -> Response:
    return redirect(f"{finding_path(finding.review.slug, finding.number)}#citations", code=303)


def _render(template: str, **context: Any) -> str:
    return render_template(template, finding_statuses=FINDING_STATUSES, **context)


# --- Picking what to cite --------------------------------------------------------------------------


@blueprint.get(f"{FINDING}/cite")
def cite(slug: str, number: int) -> str:
    """Search for lessons, papers and discussions to cite from a finding, with the review's own papers listed."""
    review, finding = working_finding(slug, number)
    found = evidence_search(current_viewer(), review, finding, page=int_arg("page", 1) or 1)
    return _render("panels/cite.html", review=review, finding=finding, form=CiteForm(formdata=None), **found)


@blueprint.get(f"{FINDING}/cite/<entry_slug>")
def cite_from(slug: str, number: int, entry_slug: str) -> str:
    """One entry's citable parts: the whole entry, a paper's paragraphs, its files' pages, comments and responses."""
    review, finding = working_finding(slug, number)
    parts = citable_parts(current_viewer(), review, finding, entry_slug)
    return _render(
        "panels/cite_from.html",
        review=review,
        finding=finding,
        document_page_link=document_page_link,
        form=CiteForm(formdata=None),
        **parts,
    )


# --- Changing a finding's citations ---------------------------------------------------------------


def cited_object(form: CiteForm) -> dict[str, Any]:
    """What the form names, loaded (None where it names nothing that exists)."""
    kind, target = form.kind.data, form.target_id()
    if target is None:
        return {}
    if kind in (CitationKind.ENTRY, CitationKind.PARAGRAPH):
        return {"entry": db.session.get(Entry, target), "anchor": (form.anchor.data or "").strip()}
    if kind == CitationKind.PAGE:
        return {"document": db.session.get(Document, target), "page": whole_number(form.anchor.data)}
    if kind == CitationKind.COMMENT:
        return {"comment": db.session.get(Comment, target)}
    if kind == CitationKind.RESPONSE:
        return {"response": db.session.get(ConsultationResponse, target)}
    return {}


@blueprint.post(f"{FINDING}/citations")
def add(slug: str, number: int) -> Response:
    """Cite what the form names from the finding, then show the finding's citations."""
    review, finding = working_finding(slug, number)
    form = CiteForm()
    if not form.validate() or form.target_id() is None:
        flash(
            " ".join(error for errors in form.errors.values() for error in errors) or "Choose something to cite.",
            "error",
        )
        return redirect(url_for(".cite", slug=review.slug, number=finding.number), code=303)
    try:
        with unit_of_work():
            add_citation(finding, actor=current_user, kind=form.kind.data, **cited_object(form))
    except CitationError as error:
        flash(str(error), "error")
        return redirect(url_for(".cite", slug=review.slug, number=finding.number), code=303)
    flash(f"Finding {finding.number} now cites it: see citation {len(finding.citations)} below.", "success")
    return _back_to_finding(finding)


def _citation_of(finding: Finding, citation_id: int) -> Citation:
    citation = db.session.scalar(select(Citation).where(Citation.id == citation_id, Citation.finding_id == finding.id))
    if citation is None:
        abort(404)
    return citation


@blueprint.post(f"{FINDING}/citations/<int:citation_id>/remove")
def remove(slug: str, number: int, citation_id: int) -> Response:
    """Take one citation off the finding."""
    _, finding = working_finding(slug, number)
    citation = _citation_of(finding, citation_id)
    if RemoveCitationForm().validate():
        try:
            with unit_of_work():
                remove_citation(citation, actor=current_user)
        except CitationError as error:
            flash(str(error), "error")
            return _back_to_finding(finding)
        flash("The citation was removed.", "success")
    return _back_to_finding(finding)


@blueprint.post(f"{FINDING}/citations/<int:citation_id>/move")
def move(slug: str, number: int, citation_id: int) -> Response:
    """Move one citation up or down the finding's list."""
    _, finding = working_finding(slug, number)
    citation = _citation_of(finding, citation_id)
    form = MoveCitationForm()
    if not form.validate():
        flash("Choose whether to move the citation up or down.", "error")
        return _back_to_finding(finding)
    try:
        with unit_of_work():
            moved = move_citation(citation, actor=current_user, offset=-1 if form.direction.data == "up" else 1)
    except CitationError as error:
        flash(str(error), "error")
        return _back_to_finding(finding)
    if not moved:
        flash(f"That citation is already {'first' if form.direction.data == 'up' else 'last'}.", "error")
    return _back_to_finding(finding)


# --- Traceability ----------------------------------------------------------------------------------


@blueprint.get("/reviews/<slug>/matrix")
def matrix(slug: str) -> str:
    """Findings against the lessons and evidence they cite, as an accessible table."""
    review = _traceable_review(slug)
    viewer = current_viewer()
    return _render(
        "panels/matrix.html",
        review=review,
        matrix=build_matrix(viewer, review),
        working=can(viewer, "review.work", review),
    )


@blueprint.get("/reviews/<slug>/export.zip")
def export(slug: str) -> Response:
    """The review and the entries it cites as content files in a zip, as the viewer may see them."""
    review = _traceable_review(slug)
    data = export_review(current_viewer(), review)
    response = Response(data, mimetype="application/zip")
    response.headers["Content-Disposition"] = f'attachment; filename="{review.slug}.zip"'
    return response
