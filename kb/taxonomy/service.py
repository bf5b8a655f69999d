"""Writing the theme taxonomy into the database, and reading it back as specs.

The taxonomy package owns the themes and tags; the file they travel in
(`content/taxonomy.yaml`) is one of the content folder's formats, parsed and written by
`kb.content.taxonomy` beside the entry documents. Services flush; the caller commits.
"""

from __future__ import annotations

from sqlalchemy import select

from kb.content.taxonomy import TagSpec, ThemeSpec
from kb.extensions import db
from kb.taxonomy.models import Tag, Theme


def apply_taxonomy(themes: list[ThemeSpec]) -> None:
    """Create or update `themes` and their tags, in the given order; themes and tags not listed are kept."""
    existing = {theme.slug: theme for theme in db.session.scalars(select(Theme))}
    tags = {tag.slug: tag for tag in db.session.scalars(select(Tag))}
    for position, spec in enumerate(themes):
        theme = existing.get(spec.slug) or Theme(slug=spec.slug)
        theme.label, theme.description, theme.position = spec.label, spec.description, position
        db.session.add(theme)
        for tag_position, tag_spec in enumerate(spec.tags):
            tag = tags.get(tag_spec.slug) or Tag(slug=tag_spec.slug)
            tag.label, tag.theme, tag.position = tag_spec.label, theme, tag_position
            db.session.add(tag)
    db.session.flush()


def taxonomy_specs() -> list[ThemeSpec]:
    """Every theme with its tags, in the order the taxonomy file lists them."""
    themes = db.session.scalars(select(Theme).order_by(Theme.position, Theme.label))
    return [
        ThemeSpec(theme.slug, theme.label, theme.description, [TagSpec(tag.slug, tag.label) for tag in theme.tags])
        for theme in themes
    ]
