"""Lessons for the lessons-to-action tests: imported under a review, so its panel may record action on them."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from kb.entries.models import Lesson
from kb.extensions import db
from tests.conftest import import_files

SECTIONS = "## Driving event\n\nA.\n\n## Lesson\n\nB.\n\n## Recommendation\n\nC.\n\n## Evidence\n\nD.\n"


def lesson_file(slug: str, *, review: str | None, visibility: str = "members", extra: str = "") -> str:
    """A lesson's content file; `extra` is more front matter, one `key: value` a line."""
    under = f"review: {review}\n" if review else ""
    return (
        f"---\nkind: lesson\nslug: {slug}\ntitle: Lesson {slug.replace('-', ' ')}\nsummary: A lesson to act on.\n"
        f"visibility: {visibility}\n{under}{extra}---\n\n{SECTIONS}"
    )


def import_lessons(folder: Path, files: dict[str, str]) -> dict[str, Lesson]:
    """Import lesson files (slug to text) and return the lessons by slug."""
    import_files(folder, {f"lessons/{slug}.md": text for slug, text in files.items()})
    lessons = db.session.scalars(select(Lesson).where(Lesson.slug.in_(list(files))))
    return {lesson.slug: lesson for lesson in lessons}
