"""The load benchmark's harness (`benchmarks/load/`): its lost-writes check, and a short real run.

The check must be able to fail: each way an accepted comment can be lost (never stored,
stored twice, stored under someone else, not found by search) is shown to be reported.
The short run serves kb under gunicorn and drives it with Locust for a few seconds with a
few members, on SQLite with Whoosh (or, in the PostgreSQL pass, PostgreSQL with its search
backend), and reads the report `run.py` prints.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from flask import Flask
from sqlalchemy import select

from benchmarks.load.check import Accepted, Stored, check_accepted, lost_writes
from benchmarks.load.cpu import top_costs
from kb.comments.service import post_comment
from kb.config import PROJECT_ROOT
from kb.entries.models import Entry
from kb.extensions import db
from tests.accounts import make_user

A = Accepted("lm" + "a" * 20, "a@example.org", "/lessons/one")
B = Accepted("lm" + "b" * 20, "b@example.org", "/lessons/two")


def test_nothing_is_lost_when_every_accepted_comment_is_stored_once_and_found() -> None:
    stored = {A.marker: [Stored(A.email, A.entry)], B.marker: [Stored(B.email, B.entry)]}
    report = lost_writes([A, B], stored, {A.marker, B.marker})
    assert (report.checked, report.lost) == (2, [])


def test_each_way_of_losing_a_comment_is_reported() -> None:
    cases = {
        "not in the database": ({}, {A.marker}),
        "stored 2 times": ({A.marker: [Stored(A.email, A.entry)] * 2}, {A.marker}),
        "stored by b@example.org on /lessons/one": ({A.marker: [Stored(B.email, A.entry)]}, {A.marker}),
        "stored by a@example.org on /lessons/two": ({A.marker: [Stored(A.email, B.entry)]}, {A.marker}),
        "not found by search as its author": ({A.marker: [Stored(A.email, A.entry)]}, set()),
    }
    for reason, (stored, found) in cases.items():
        report = lost_writes([A], stored, found)
        assert report.checked == 1
        assert [(lost.marker, lost.reason) for lost in report.lost] == [(A.marker, reason)]


def test_profile_samples_are_summed_by_package_by_kb_function_and_by_line(tmp_path: Path) -> None:
    show = "show (kb/entries/routes.py:112)"
    execute = "Connection.execute (sqlalchemy/engine/base.py:1450)"
    render = "Template.render (jinja2/environment.py:1290)"
    (tmp_path / "profile-1.txt").write_text(f"run (gunicorn/arbiter.py:1);{show};{execute} 6\n")
    (tmp_path / "profile-2.txt").write_text(f"run (gunicorn/arbiter.py:1);{show};{render} 4\nnot a sample line\n")

    lines = top_costs(sorted(tmp_path.glob("profile-*.txt")))

    assert lines[0].startswith("10 samples")
    package_part = lines[1 : lines.index("kb's functions, including what they call:")]
    assert package_part == ["   60.0%  sqlalchemy", "   40.0%  jinja2"]
    assert f"  100.0%  {show}" in lines
    assert f"   60.0%  {execute}" in lines[lines.index("functions, time on their own lines:") :]


def test_the_check_reads_the_database_and_searches_as_the_author(seeded_app: Flask) -> None:
    author = make_user("author@example.org")
    make_user("other@example.org")
    published = (Entry.kind == "lesson", Entry.status == "published", Entry.visibility == "public")
    entry = db.session.scalar(select(Entry).where(*published).order_by(Entry.id).limit(1))
    assert entry is not None
    posted = Accepted("lm" + "c" * 20, author.email, entry.path)
    hidden = Accepted("lm" + "d" * 20, author.email, entry.path)
    never_posted = Accepted("lm" + "e" * 20, author.email, entry.path)
    claimed_by_other = Accepted(posted.marker, "other@example.org", entry.path)
    post_comment(entry, f"Load test comment {posted.marker} from {author.email}", actor=author)
    post_comment(entry, f"Load test comment {hidden.marker} from {author.email}", actor=author).status = "hidden"
    db.session.commit()

    report = check_accepted(seeded_app, [posted, hidden, never_posted, claimed_by_other])

    assert report.checked == 4
    assert {(lost.marker, lost.reason) for lost in report.lost} == {
        (hidden.marker, "not found by search as its author"),
        (never_posted.marker, "not in the database"),
        (posted.marker, f"stored by {author.email} on {entry.path}"),
    }


def test_a_short_run_prints_figures_per_kind_and_checks_every_accepted_comment() -> None:
    config = "postgresql-postgresql" if os.environ.get("KB_TEST_DATABASE") == "postgresql" else "sqlite-whoosh"
    command = [sys.executable, str(PROJECT_ROOT / "benchmarks" / "load" / "run.py"), "--config", config]
    # More posts than the benchmark's mix, so that some are checked however slow the machine is today.
    command += ["--workers", "2", "--users", "5", "--seconds", "8", "--pace", "0", "--mix", "5,2,3"]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=PROJECT_ROOT, check=False)

    report = finished.stdout
    assert finished.returncode == 0, report + finished.stderr[-3000:]
    assert f"== {config}, 2 workers: 5 members for 8 s ==" in report
    for kind in ("entry page", "comment post", "all"):
        assert re.search(rf"^{kind} +\d+ +[\d.]+ +\d+ +\d+ +\d+ +0$", report, re.MULTILINE), (kind, report)
    checked = re.search(r"accepted comments checked: (\d+), lost: 0$", report, re.MULTILINE)
    posts = re.search(r"^comment post +(\d+) ", report, re.MULTILINE)
    assert checked, report
    assert posts, report
    assert int(checked.group(1)) >= int(posts.group(1)) > 0
    assert re.search(r"CPU in the window, cores: kb \(gunicorn\) [\d.]+,.* Locust [\d.]+;", report), report
    assert re.search(rf"^{config} +2 +[\d.]+ ", report, re.MULTILINE), report
