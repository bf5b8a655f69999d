"""The link-showing rule: when a `[[slug]]` link inside an entry's text shows its target.

Rendered text is stored once for every reader, so a link shows its target's title and
address only when everyone who can read the linking entry can also read the target.
`link_resolver` applies the rule to the links of one text for `kb.markdown`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from kb.markdown import LinkResolver, LinkTarget
from kb.permissions_viewer import viewer_for
from kb.states import EntryKind, EntryStatus, Visibility

if TYPE_CHECKING:
    from kb.entries.models import Entry
    from kb.entries.targets import TargetInfo


@dataclass(frozen=True)
class LinkEnd:
    """What deciding whether a link is shown needs to know about either end of it."""

    kind: str
    status: str
    visibility: str
    panel_review_id: int | None
    author_off_panel: bool = False
    """The entry's author may read it without sitting on its panel (only for a source)."""


def link_is_shown(source: LinkEnd, target: LinkEnd) -> bool:
    """Whether a link may show its target's title and address inside another entry's text.

    Rendered text is stored once for every reader, so a link is shown only when everyone
    who can read the published linking entry can also read the target.
    """
    if target.status != EntryStatus.PUBLISHED:
        return False
    if target.visibility == Visibility.PUBLIC:
        return True
    if target.visibility == Visibility.MEMBERS:
        return source.visibility != Visibility.PUBLIC
    if target.visibility == Visibility.PANEL:
        return (
            source.visibility == Visibility.PANEL
            and not source.author_off_panel
            and target.panel_review_id is not None
            and source.panel_review_id == target.panel_review_id
        )
    return False


def link_end(entry_id: int | None, kind: str, status: str, visibility: str, review_id: int | None) -> LinkEnd:
    """A `LinkEnd` from an entry's stored fields; a review's panel is its own."""
    return LinkEnd(kind, status, visibility, entry_id if kind == EntryKind.REVIEW else review_id)


class TargetLookup(Protocol):
    """Link targets by slug: a dict of them, or `kb.entries.targets.LinkTargets`, which loads them as asked."""

    def get(self, slug: str, /) -> TargetInfo | None:
        """The target with this slug, or None."""


def link_resolver(source: LinkEnd, targets: TargetLookup) -> LinkResolver:
    """Resolve the `[[slug]]` links of a text read as `source`, showing a target only where `link_is_shown`."""

    def resolve(slug: str) -> LinkTarget | None:
        target = targets.get(slug)
        if target is None:
            return None
        end = link_end(target.id, target.kind, target.status, target.visibility, target.review_id)
        return LinkTarget(target.path, target.title, link_is_shown(source, end))

    return resolve


def link_end_for(entry: Entry) -> LinkEnd:
    """The linking end of `entry`, knowing whether its author sits on its panel.

    An author reads their own entry whatever its visibility, so a panel entry written by
    a member off that panel must not show the titles of the panel's other entries.
    """
    end = link_end(entry.id, entry.kind, entry.status, entry.visibility, entry.review_id)
    author = entry.author
    if author is None or end.panel_review_id is None:
        return end
    reader = viewer_for(author)
    off_panel = not reader.is_staff and end.panel_review_id not in reader.panel_review_ids
    return LinkEnd(end.kind, end.status, end.visibility, end.panel_review_id, off_panel)
