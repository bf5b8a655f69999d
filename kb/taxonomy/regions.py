"""The controlled list of regions: storing it, offering it, and matching a written region to it.

The list travels in the taxonomy file (`regions:` in `content/taxonomy.yaml`, parsed by
`kb.content.taxonomy`) and is kept in the `regions` table. A written region matches a
listed one when they are the same after case, spacing, hyphens and "&" are set aside, or
when it is one of the region's synonyms. Services flush; the caller commits.
"""

from __future__ import annotations

import re

from sqlalchemy import select

from kb.content.taxonomy import RegionSpec
from kb.extensions import db
from kb.taxonomy.models import Region
from kb.text import clean_line


def region_key(text: str) -> str:
    """The form two spellings of one region share: "North-west " and "north  West" both give `north west`."""
    words = re.sub(r"[\s\-_]+", " ", clean_line(text).casefold().replace("&", " and ")).strip()
    return words.removeprefix("the ")


def listed_regions() -> list[Region]:
    """The regions of the list, in its order."""
    return list(db.session.scalars(select(Region).order_by(Region.position, Region.name)))


def region_choices() -> list[str]:
    """The names a region field offers, in the list's order."""
    return [region.name for region in listed_regions()]


def canonical_region(text: str | None) -> str | None:
    """The listed name `text` means (its own spelling or a synonym), or None when it matches no region."""
    if not text or not text.strip():
        return None
    key = region_key(text)
    for region in listed_regions():
        if key in {region_key(region.name), *(region_key(synonym) for synonym in region.synonyms)}:
            return region.name
    return None


def apply_regions(specs: list[RegionSpec]) -> None:
    """Make the stored list the given one, in its order: regions not listed are dropped from the list.

    Entries keep whatever region they carry; one no longer listed is reported where it is edited.
    """
    existing = {region.name: region for region in db.session.scalars(select(Region))}
    keep = {spec.name for spec in specs}
    for name, region in existing.items():
        if name not in keep:
            db.session.delete(region)
    db.session.flush()
    for position, spec in enumerate(specs):
        region = existing.get(spec.name) or Region(name=spec.name)
        region.position, region.synonyms = position, list(spec.synonyms)
        db.session.add(region)
    db.session.flush()


def region_specs() -> list[RegionSpec]:
    """The stored list as specs, for writing the taxonomy file."""
    return [RegionSpec(region.name, list(region.synonyms)) for region in listed_regions()]
