"""Pages for entries: home, a list per kind, the entry page, its history and diffs."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from kb.comments.pages import entry_discussion
from kb.comments.queries import comment_counts_for
from kb.entries import queries
from kb.entries.contents import page_contents
from kb.entries.diff import diff_texts
from kb.entries.extras import entry_extras
from kb.entries.models import Entry
from kb.entries.related import related_set
from kb.entries.service import current_revision, past_rendering, shown_rendering
from kb.entries.vocabulary import KIND_PLURALS
from kb.pages import int_arg
from kb.pagination import pagination_params
from kb.permissions import current_viewer
from kb.states import EntryKind

blueprint = Blueprint("entries", __name__)
KIND_BY_PLURAL = {plural: kind for kind, plural in KIND_PLURALS.items()}
PLURALS = "any(lessons, reviews, papers)"
LIST_FILTER_ARGS = ("tag", "region", "year", "sort")
"""The query arguments a list page understands; only these are carried into its page links."""


@blueprint.get("/")
def home() -> str:
    """What kb is, what is new, the themes, and the reviews under way."""
    viewer = current_viewer()
    return render_template(
        "home.html",
        counts=queries.kind_counts(viewer),
        recent=queries.recent_entries(viewer, exclude_kind="review"),
        themes=queries.theme_counts(viewer),
        reviews=queries.open_reviews(viewer),
        featured=queries.featured_entries(viewer),
    )


@blueprint.get(f"/<{PLURALS}:plural>")
def list_kind(plural: str) -> str:
    """A list of one kind of entry with filters by tag, region and year."""
    kind = KIND_BY_PLURAL[plural]
    viewer = current_viewer()
    sort = request.args.get("sort", "newest")
    filters = queries.ListFilters(
        tag=request.args.get("tag", "").strip(),
        region=request.args.get("region", "").strip(),
        year=int_arg("year"),
        sort=sort if sort in queries.SORTS else "newest",
    )
    page = queries.list_entries(viewer, kind, filters, int_arg("page", 1) or 1, current_app.config["ENTRIES_PER_PAGE"])
    chosen: dict[str, Any] = {key: request.args[key] for key in LIST_FILTER_ARGS if request.args.get(key)}
    return render_template(
        "entries/list.html",
        kind=kind,
        filters=filters,
        filter_menus=queries.filter_menus(queries.filter_options(viewer, kind), filters),
        page=page,
        comment_counts=comment_counts_for(viewer, page.items),
        filtered=any((filters.tag, filters.region, filters.year)),
        pagination=pagination_params(page, lambda n: url_for(".list_kind", plural=plural, **chosen, page=n)),
    )


def _load(slug: str) -> Entry:
    entry = queries.visible_entry(current_viewer(), slug)
    if entry is None:
        abort(404)
    return entry


def _wrong_kind(entry: Entry, plural: str) -> bool:
    return KIND_PLURALS[entry.kind] != plural


MERGED_ENTRY_ENDPOINTS = frozenset({"entries.show", "entries.history", "exports.entry_markdown", "exports.entry_csv"})
"""Pages named by an entry's slug that follow a merged duplicate to the entry it was merged into."""


@blueprint.before_app_request
def _follow_merged_entry() -> Response | None:
    """Send a merged duplicate's page, history and comment exports for good (301) to its target's.

    Only for a viewer `queries.merged_target` allows; everyone else gets the page's usual 404.
    """
    if request.endpoint not in MERGED_ENTRY_ENDPOINTS or request.method != "GET":
        return None
    target = queries.merged_target(current_viewer(), (request.view_args or {}).get("slug", ""))
    if target is None:
        return None
    return redirect(url_for(request.endpoint, plural=KIND_PLURALS[target.kind], slug=target.slug), code=301)


@blueprint.get(f"/<{PLURALS}:plural>/<slug>")
def show(plural: str, slug: str) -> str | Response:
    """The entry page: structured sections, metadata, tags, sources and its related entries."""
    entry = _load(slug)
    if _wrong_kind(entry, plural):
        return redirect(entry.path, code=301)
    viewer = current_viewer()
    revision = current_revision(entry)
    rendered = revision.rendered if revision else {}
    if revision is not None and entry.kind == EntryKind.PAPER and "paragraphs" not in rendered.get("body", {}):
        # Stored before paragraphs were anchored: render afresh so links to a cited paragraph land.
        rendered = past_rendering(entry, revision)
    return render_template(
        f"entries/{entry.kind}.html",
        entry=entry,
        revision=revision,
        rendered=shown_rendering(rendered),
        contents=page_contents(entry.kind, rendered, len(revision.document.split()) if revision else 0),
        revision_count=queries.revision_count(entry),
        related=related_set(viewer, entry),
        discussion=entry_discussion(entry, viewer),
        **entry_extras(viewer, entry),
    )


@blueprint.get(f"/<{PLURALS}:plural>/<slug>/history")
def history(plural: str, slug: str) -> str | Response:
    """Every revision of an entry, and of entries merged into it, with a form to compare any two."""
    entry = _load(slug)
    if _wrong_kind(entry, plural):
        return redirect(url_for(".history", plural=KIND_PLURALS[entry.kind], slug=slug), code=301)
    return render_template(
        "entries/history.html",
        entry=entry,
        revisions=queries.revisions_of(entry),
        merged_from=queries.merged_from(current_viewer(), entry),
    )


@blueprint.get(f"/<{PLURALS}:plural>/<slug>/history/<int:number>")
def revision(plural: str, slug: str, number: int) -> str:
    """An entry as it stood at one revision."""
    entry = _load(slug)
    found = queries.revision_of(entry, number)
    if found is None or _wrong_kind(entry, plural):
        abort(404)
    latest = current_revision(entry)
    rendered = found.rendered if latest is not None and latest.number == found.number else past_rendering(entry, found)
    return render_template(
        "entries/revision.html", entry=entry, revision=found, latest=latest, rendered=shown_rendering(rendered)
    )


@blueprint.get(f"/<{PLURALS}:plural>/<slug>/compare")
def compare(plural: str, slug: str) -> str | Response:
    """A readable diff between two revisions chosen on the history page."""
    entry = _load(slug)
    if _wrong_kind(entry, plural):
        abort(404)
    old_number, new_number = int_arg("from"), int_arg("to")
    if old_number is None or new_number is None:
        return redirect(url_for(".history", plural=plural, slug=slug))
    if old_number > new_number:
        old_number, new_number = new_number, old_number
    old, new = queries.revision_of(entry, old_number), queries.revision_of(entry, new_number)
    if old is None or new is None:
        abort(404)
    return render_template(
        "entries/compare.html", entry=entry, old=old, new=new, diff=diff_texts(old.document, new.document)
    )
