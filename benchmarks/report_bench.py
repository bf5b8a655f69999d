"""Time the report of the seed's review as a page, a PDF (WeasyPrint) and a Word document.

    .venv/bin/python benchmarks/report_bench.py [--findings 8] [--citations 4] [--requests 5]

Imports the seed content into a temporary SQLite database, seats two panel members on
the seed's first review, drafts `--findings` findings of a few paragraphs each citing
`--citations` of the seed's entries, agrees and publishes them, then requests the report's
three addresses through the test client and prints medians and the slowest run in
milliseconds, with the PDF's pages and the files' sizes. The machine is shared: compare
ratios between runs rather than absolute times.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pypdf import PdfReader
from sqlalchemy import select

from kb import create_app
from kb.config import PROJECT_ROOT
from kb.content.service import import_directory
from kb.entries.models import Entry, Review
from kb.extensions import db
from kb.panels.citations import add_citation
from kb.panels.service import FindingText, agree_finding, create_finding, propose_agreement, publish_findings
from kb.states import EntryKind, EntryStatus, Visibility
from kb.users.models import PanelMembership, User

REVIEW = "nhs-111-programme-lessons-review"
PARAGRAPH = (
    "The panel heard that providers were pressed to launch before they were ready, and that the tests of "
    "readiness looked at contracts rather than at the calls the service would take. "
)


def _panel_member(email: str, review: Review) -> User:
    user = User(email=email, display_name=email.split("@")[0].title(), role="member", active=True)
    user.panel_seats = [PanelMembership(review_id=review.id)]
    db.session.add(user)
    db.session.flush()
    return user


def _draft_and_publish(review: Review, findings: int, citations: int) -> None:
    first = _panel_member("first@example.org", review)
    second = _panel_member("second@example.org", review)
    public = (Entry.visibility == Visibility.PUBLIC, Entry.status == EntryStatus.PUBLISHED)
    cited = list(db.session.scalars(select(Entry).where(Entry.kind != EntryKind.REVIEW, *public).order_by(Entry.slug)))
    for number in range(findings):
        body = "\n\n".join(PARAGRAPH * 3 for _ in range(4))
        text = FindingText(f"Finding about launch readiness {number + 1}", body, "- Test readiness.\n- Publish it.")
        finding = create_finding(review, text, actor=first)
        for offset in range(citations):
            add_citation(finding, actor=first, kind="entry", entry=cited[(number * citations + offset) % len(cited)])
        propose_agreement(finding, actor=first)
        agree_finding(finding, actor=second)
    publish_findings(review, actor=first)
    db.session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--findings", type=int, default=8)
    parser.add_argument("--citations", type=int, default=4)
    parser.add_argument("--requests", type=int, default=5)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        app = create_app(
            {
                "INSTANCE_PATH": folder / "instance",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'kb.sqlite3'}",
                "SEARCH_INDEX_DIR": str(folder / "search_index"),
                "SECRET_KEY": "benchmark",
            }
        )
        with app.app_context():
            import_directory(PROJECT_ROOT / "content")
            db.session.commit()
            review = db.session.scalar(select(Review).where(Review.slug == REVIEW))
            assert review is not None, f"the seed has no review {REVIEW}"
            _draft_and_publish(review, arguments.findings, arguments.citations)
        client = app.test_client()
        findings = f"{arguments.findings} finding{'s' if arguments.findings != 1 else ''}"
        print(f"{REVIEW}: {findings}, {arguments.citations} citations each")
        print(f"{'address':14} {'median ms':>10} {'slowest ms':>11} {'size':>9}")
        for tail in ("", ".pdf", ".docx"):
            times, size, data = [], 0, b""
            for _ in range(arguments.requests):
                started = time.perf_counter()
                response = client.get(f"/reviews/{REVIEW}/report{tail}")
                times.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, response.status_code
                data = response.data
                size = len(data)
            print(f"report{tail:8} {statistics.median(times):10.0f} {max(times):11.0f} {size / 1024:7.0f} KB")
            if tail == ".pdf":
                print(f"  the PDF has {len(PdfReader(io.BytesIO(data)).pages)} pages")


if __name__ == "__main__":
    main()
