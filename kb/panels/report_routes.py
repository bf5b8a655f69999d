"""A review's report: its page, and the same report as a PDF and as a Word document.

The panel and staff read the report at any status, marked DRAFT until the findings are
published; everyone else reads it once published, as the review's visibility allows. A
hidden or missing review, or a draft report for someone else, is a 404 on all three
addresses. These views join the traceability blueprint (endpoints `traceability.report`,
`traceability.report_pdf`, `traceability.report_docx`).

Making a file takes a worker's time, so the PDF and the Word file share a limit per
client address (`REPORT_DOWNLOAD_LIMIT_PER_ADDRESS`); past it they answer 429 with a page
that says to wait and links to the report page, which stays open. A published report's
PDF is drawn once per worker and kept (`kb.panels.report_cache`).
"""

from __future__ import annotations

from pathlib import Path

from flask import abort, current_app, render_template, request
from flask_limiter import RateLimitExceeded
from werkzeug.wrappers import Response

from kb.entries.models import Review
from kb.errors import UnavailableError, error_page
from kb.extensions import limiter
from kb.panels import queries
from kb.panels.report import may_trace
from kb.panels.report_cache import pdf_cache, pdf_key
from kb.panels.report_document import Report, build_report, london_day, report_filename
from kb.panels.report_docx import render_docx
from kb.panels.trace_routes import blueprint
from kb.permissions import current_viewer

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
DOWNLOAD_ENDPOINTS = frozenset({"traceability.report_pdf", "traceability.report_docx"})
THROTTLED_MESSAGE = (
    "Copies of reports have been asked for from your address many times in a short time. "
    "Wait a minute, then download it again."
)
download_limit = limiter.shared_limit(
    lambda: current_app.config["REPORT_DOWNLOAD_LIMIT_PER_ADDRESS"],
    scope="report-download",
    error_message=THROTTLED_MESSAGE,
)
"""One allowance per client address for the PDF and the Word file together."""

blueprint.add_app_template_filter(london_day, "london_day")


def _report(slug: str) -> Report:
    """The review's report for the current viewer; 404 when the viewer may not read it."""
    viewer = current_viewer()
    review: Review | None = queries.visible_review(viewer, slug)
    if review is None or not may_trace(viewer, review):
        abort(404)
    return build_report(viewer, review)


def _download(data: bytes, mimetype: str, filename: str) -> Response:
    """A file to save, never cached by shared caches (a draft is for the panel only)."""
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@blueprint.get("/reviews/<slug>/report")
def report(slug: str) -> str:
    """The review's report: panel, dates, terms of reference, summary, findings with their notes, and the evidence."""
    return render_template("panels/report.html", report=_report(slug))


@blueprint.errorhandler(RateLimitExceeded)
def _throttled(error: RateLimitExceeded) -> tuple[str, int]:
    """Too many downloads from one address: a page saying to wait, with the report page's link, answering 429."""
    if request.endpoint not in DOWNLOAD_ENDPOINTS:
        return error_page(error)
    slug = str((request.view_args or {}).get("slug", ""))
    return render_template("panels/report_throttled.html", message=THROTTLED_MESSAGE, slug=slug), 429


@blueprint.get("/reviews/<slug>/report.pdf")
@download_limit
def report_pdf(slug: str) -> Response:
    """The report as a PDF: A4, headings as bookmarks, page numbers, DRAFT on every page of a draft.

    A published report's PDF is kept and given again while its print page is unchanged.
    """
    found = _report(slug)
    try:
        # Imported here: WeasyPrint loads Pango from the system, and the rest of kb runs without it.
        from kb.panels.report_pdf import render_pdf
    except OSError as error:
        raise UnavailableError(
            "The PDF copy cannot be made on this server: it needs the Pango library. "
            "The report page and its Word copy work."
        ) from error
    html = render_template("panels/report_print.html", report=found)
    cache = pdf_cache(current_app)
    key = pdf_key(found.review.id, html, request.url_root)
    data = None if found.draft else cache.get(key)
    if data is None:
        static_dir = Path(current_app.static_folder or "static")
        data = render_pdf(html, site_root=request.url_root, static_dir=static_dir)
        if not found.draft:
            cache.put(key, data)
    return _download(data, "application/pdf", report_filename(found.review.slug, "pdf"))


@blueprint.get("/reviews/<slug>/report.docx")
@download_limit
def report_docx(slug: str) -> Response:
    """The report as a Word document with real headings and lists, DRAFT in the header of a draft's pages."""
    found = _report(slug)
    data = render_docx(found, site_root=request.url_root)
    return _download(data, DOCX_TYPE, report_filename(found.review.slug, "docx"))
