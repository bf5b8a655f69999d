"""the regions list, and existing regions written as the list spells them

Revision ID: c5f2a8d3e6b1
Revises: b7e1d4c2a9f0
Create Date: 2026-12-20 11:00:00.000000

Fills the regions table with the list `content/taxonomy.yaml` carries (a later content
import keeps it in step), then rewrites each region stored on entries, organisations and
consultation responses that is another spelling of a listed one ("North west",
"north-west ") as the list writes it. A value that matches no listed region is left as it
is and named in the log, with where it is stored, so someone can correct it by hand.
"""

import logging
import re

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "c5f2a8d3e6b1"
down_revision = "b7e1d4c2a9f0"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")

# The list as it stood when this migration was written, copied here so the migration keeps
# doing what it did whatever the taxonomy file becomes: (name, synonyms).
REGIONS = (
    ("England", ("National", "England-wide")),
    ("North East", ()),
    ("North West", ("North West England",)),
    ("Yorkshire and the Humber", ()),
    ("East Midlands", ()),
    ("West Midlands", ()),
    ("East of England", ("East",)),
    ("London", ()),
    ("South East", ()),
    ("South West", ()),
    ("Bristol", ()),
    ("Scotland", ()),
    ("Wales", ()),
    ("Northern Ireland", ()),
)
# Where regions are stored: (table, its key column).
STORED = (("entries", "slug"), ("organisations", "name"), ("consultation_responses", "id"))


def _key(text):
    words = re.sub(r"[\s\-_]+", " ", text.strip().casefold().replace("&", " and ")).strip()
    return words.removeprefix("the ")


def mapping_for(names_and_synonyms):
    """Each spelling's key to the listed name it means."""
    keys = {}
    for name, synonyms in names_and_synonyms:
        for spelling in (name, *synonyms):
            keys.setdefault(_key(spelling), name)
    return keys


def _seed_regions(connection):
    regions = sa.table(
        "regions", sa.column("name", sa.String), sa.column("position", sa.Integer), sa.column("synonyms", sa.JSON)
    )
    if connection.execute(sa.select(sa.func.count()).select_from(regions)).scalar():
        return
    rows = [{"name": name, "position": n, "synonyms": list(synonyms)} for n, (name, synonyms) in enumerate(REGIONS)]
    connection.execute(sa.insert(regions), rows)


def map_stored_regions(connection, keys):
    """Rewrite every stored spelling of a listed region as the list writes it; returns what matched nothing.

    The result lists `table.key: 'value'` strings, one per row whose region is unknown.
    """
    unknown = []
    for table_name, key_column in STORED:
        stored = sa.table(table_name, sa.column(key_column), sa.column("region", sa.String))
        rows = connection.execute(
            sa.select(stored.c[key_column], stored.c.region).where(stored.c.region.is_not(None), stored.c.region != "")
        ).all()
        for key, value in rows:
            listed = keys.get(_key(value))
            if listed is None:
                unknown.append(f"{table_name}.{key}: {value!r}")
            elif listed != value:
                connection.execute(sa.update(stored).where(stored.c[key_column] == key).values(region=listed))
    return unknown


def upgrade():
    connection = op.get_bind()
    _seed_regions(connection)
    unknown = map_stored_regions(connection, mapping_for(REGIONS))
    if unknown:
        log.warning("Regions not in the regions list, left as they are (correct them by hand): %s", "; ".join(unknown))


def downgrade():
    # The rewritten spellings are the listed ones; the old spellings are not kept.
    op.execute(sa.text("DELETE FROM regions"))
