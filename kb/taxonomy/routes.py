"""Pages for themes and tags."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, url_for
from werkzeug.wrappers import Response

from kb.comments.queries import comment_counts_for
from kb.entries import queries
from kb.entries.queries import ListFilters
from kb.pages import int_arg
from kb.pagination import pagination_params
from kb.permissions import current_viewer
from kb.taxonomy.curation import tag_for_alias

blueprint = Blueprint("taxonomy", __name__)


@blueprint.get("/themes")
def themes() -> str:
    """Every theme with its tags and counts."""
    viewer = current_viewer()
    themes_with_counts = queries.theme_counts(viewer)
    tags_by_theme = {theme.id: queries.tag_counts(viewer, theme) for theme, _ in themes_with_counts}
    free_tags = [(tag, count) for tag, count in queries.tag_counts(viewer) if tag.theme_id is None]
    return render_template(
        "taxonomy/themes.html", themes=themes_with_counts, tags_by_theme=tags_by_theme, free_tags=free_tags
    )


@blueprint.get("/themes/<slug>")
def theme(slug: str) -> str:
    """A theme: what it covers, its tags, and the entries that carry them."""
    found = queries.find_theme(slug)
    if found is None:
        abort(404)
    viewer = current_viewer()
    page = queries.entries_for_theme(viewer, found, int_arg("page", 1) or 1, current_app.config["ENTRIES_PER_PAGE"])
    return render_template(
        "taxonomy/theme.html",
        theme=found,
        tags=queries.tag_counts(viewer, found),
        page=page,
        comment_counts=comment_counts_for(viewer, page.items),
        pagination=pagination_params(page, lambda n: url_for(".theme", slug=slug, page=n)),
    )


@blueprint.get("/tags")
def tags() -> str:
    """Every tag in use, with counts."""
    return render_template("taxonomy/tags.html", tags=queries.tag_counts(current_viewer()))


@blueprint.get("/tags/<slug>")
def tag(slug: str) -> str | Response:
    """Every entry carrying one tag; the old address of a renamed or merged tag redirects to the tag."""
    viewer = current_viewer()
    found = queries.visible_tag(viewer, slug)
    if found is None:
        renamed = tag_for_alias(slug)
        if renamed is None or queries.visible_tag(viewer, renamed.slug) is None:
            abort(404)
        return redirect(url_for(".tag", slug=renamed.slug), code=301)
    page = queries.list_entries(
        viewer, None, ListFilters(tag=slug), int_arg("page", 1) or 1, current_app.config["ENTRIES_PER_PAGE"]
    )
    return render_template(
        "taxonomy/tag.html",
        tag=found,
        page=page,
        comment_counts=comment_counts_for(viewer, page.items),
        pagination=pagination_params(page, lambda n: url_for(".tag", slug=slug, page=n)),
    )
