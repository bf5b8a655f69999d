"""Small builders for content files written to a temporary folder."""

from __future__ import annotations

from pathlib import Path

TAXONOMY = """\
themes:
  - slug: procurement
    label: Procurement
    description: How contracts were let.
    tags:
      - slug: cost-versus-quality
        label: Cost versus quality
  - slug: readiness
    label: Readiness
    description: Whether services were ready.
    tags:
      - slug: go-live
        label: Go-live
"""


def front(**fields: object) -> list[str]:
    lines = []
    for key, value in fields.items():
        if isinstance(value, list):
            lines.append(f"{key}:")
            lines.extend(f"  - {item}" for item in value)
        else:
            lines.append(f"{key}: {value}")
    return lines


def lesson_text(slug: str, title: str = "", *, evidence: str = "Evidence.", **fields: object) -> str:
    head = front(kind="lesson", slug=slug, title=title or f"Lesson {slug}", summary=f"Summary of {slug}.", **fields)
    body = [
        "## Driving event", "", "It happened.", "",
        "## Lesson", "", "It was learned.", "",
        "## Recommendation", "", "Do better.", "",
        "## Evidence", "", evidence,
    ]  # fmt: skip
    return "\n".join(["---", *head, "---", "", *body]) + "\n"


def paper_text(slug: str, title: str = "", *, body: str = "Paper text.", **fields: object) -> str:
    fields.setdefault("paper_type", "report")
    head = front(kind="paper", slug=slug, title=title or f"Paper {slug}", summary=f"Summary of {slug}.", **fields)
    return "\n".join(["---", *head, "---", "", body]) + "\n"


def review_text(slug: str, title: str = "", *, body: str = "Review text.", **fields: object) -> str:
    fields.setdefault("commissioning_body", "NHS England")
    head = front(kind="review", slug=slug, title=title or f"Review {slug}", summary=f"Summary of {slug}.", **fields)
    return "\n".join(["---", *head, "---", "", body]) + "\n"


def write(folder: Path, relative: str, text: str) -> Path:
    path = folder / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def line_of(text: str, start: str) -> int:
    return next(number for number, line in enumerate(text.split("\n"), 1) if line.startswith(start))
