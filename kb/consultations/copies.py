"""The copies of findings put to members: the entries each links to, and rendering them again when those change.

A consultation keeps a copy of each draft finding it asks about (`ConsultedFinding`),
rendered once when saved for the consultation's readers (`kb.consultations.models`), so a
`[[slug]]` link shows its target's title only when every one of them may read it. The
entries a copy's texts name are recorded in `ConsultedFindingLink`; when one of them
changes title, address, status or visibility, or the consulted entry its status or
visibility, `kb.entries.service.rerender_entries_linking_to` renders the copies concerned
again in the same transaction, as it does findings (`rerender_copies_linking_to`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from sqlalchemy import or_, select

from kb.consultations.models import Consultation, ConsultedFinding, ConsultedFindingLink, render_texts
from kb.entries.targets import LinkTargets, named_slugs, targets_for
from kb.extensions import db


def _texts(copies: Iterable[ConsultedFinding]) -> list[str]:
    return [text for copy in copies for text in (copy.body, copy.recommendations)]


def record_links(copy: ConsultedFinding, targets: LinkTargets | None = None) -> None:
    """Record the entries the copy's texts name: links still named kept, the others removed, new ones added.

    Slugs are read generously (`named_slugs`), so an entry named only inside code is recorded
    too: it costs one needless rendering when that entry changes, never a stale one.
    """
    targets = targets if targets is not None else targets_for([copy.body, copy.recommendations])
    wanted = {
        target.id
        for slug in named_slugs([copy.body, copy.recommendations])
        if (target := targets.get(slug)) is not None
    }
    kept = [link for link in copy.links if link.entry_id in wanted]
    known = {link.entry_id for link in kept}
    copy.links = kept + [ConsultedFindingLink(entry_id=entry_id) for entry_id in sorted(wanted - known)]


def rerender_copy(copy: ConsultedFinding, targets: LinkTargets) -> int:
    """Render both texts of a copy again with today's targets and record afresh what they link to.

    Returns how many texts were rendered.
    """
    rendered = render_texts(copy, every=True, targets=targets)
    record_links(copy, targets)
    return rendered


def rerender_copies_linking_to(entry_ids: Collection[int], targets: LinkTargets) -> int:
    """Render again the copies that link to these entries, and the copies in consultations on them.

    A target's title, address, status or visibility decides how links to it appear, and the
    consulted entry's status and visibility who reads the copy. Flushes; returns how many
    copies were rendered.
    """
    if not entry_ids:
        return 0
    ids = sorted(set(entry_ids))
    linking = select(ConsultedFindingLink.copy_id).where(ConsultedFindingLink.entry_id.in_(ids))
    consulted = select(Consultation.id).where(Consultation.entry_id.in_(ids))
    copies = db.session.scalars(
        select(ConsultedFinding)
        .where(or_(ConsultedFinding.id.in_(linking), ConsultedFinding.consultation_id.in_(consulted)))
        .order_by(ConsultedFinding.id)
    ).all()
    targets.load(named_slugs(_texts(copies)))
    for copy in copies:
        rerender_copy(copy, targets)
    db.session.flush()
    return len(copies)
