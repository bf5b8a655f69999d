"""How large an entry's title and tags may be: one definition for the lesson form and the staff document editor.

Pure: no app and no database. A member ticks tags from the controlled list (bounded by
the list itself) and may add up to `FREE_TAG_COUNT_MAX` tags of their own; a moderator
editing the whole document is held to the same.
"""

from __future__ import annotations

TITLE_MAX = 300
"""Characters in an entry's title."""
TAG_MAX_CHARS = 60
"""Characters in one tag."""
FREE_TAG_COUNT_MAX = 10
"""Tags from outside the controlled list, on one entry."""
PREVIEW_MAX_CHARS = 100_000
"""Characters in one text sent for a live preview: the longest Markdown text a form takes (a paper's text)."""


def title_problem(title: str) -> str | None:
    """Why `title` is too long, or None."""
    if len(title) > TITLE_MAX:
        return f"the title must be {TITLE_MAX:,} characters or fewer; it has {len(title):,}"
    return None


def tag_problems(tags: list[str], controlled: set[str]) -> list[str]:
    """Why an entry's `tags` (slugs) break the limits: too many outside `controlled`, or one too long."""
    problems = []
    free = [tag for tag in tags if tag not in controlled]
    if len(free) > FREE_TAG_COUNT_MAX:
        problems.append(
            f"give at most {FREE_TAG_COUNT_MAX} tags from outside the controlled list; this has {len(free):,}"
        )
    long = next((tag for tag in tags if len(tag) > TAG_MAX_CHARS), None)
    if long is not None:
        problems.append(f"each tag must be {TAG_MAX_CHARS} characters or fewer: '{long[:20]}…' has {len(long):,}")
    return problems
