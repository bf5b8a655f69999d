"""Reading a document's text by page, in a separate process with time and memory limits.

`extract_text(data, file_type)` runs `extract_worker.py` as a plain script (so the app is
never loaded there) under the limits of the settings `DOCUMENT_EXTRACT_SECONDS` and
`DOCUMENT_EXTRACT_MEMORY_MB`, and turns what it answers (or how it died) into an
`Extraction`: the pages, and a text status with a message for the person who uploaded the
file. A PDF bomb, a zip bomb or a damaged file ends only that process. Pictures are not
read (kb does no character recognition) and say so. Of a longer file only the first
`MAX_PAGES` pages are read, and its message says so.
"""

from __future__ import annotations

import json
import logging
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app

from kb.documents.extract_worker import MAX_PAGES
from kb.documents.sniff import FileKind, FileType
from kb.states import DocumentTextStatus

log = logging.getLogger(__name__)

WORKER = Path(__file__).with_name("extract_worker.py")
MAX_UNPACKED_FACTOR = 8
"""A zip container may unpack to this many times the largest file kb takes, and no more."""
NOT_READ = {
    FileKind.PNG: "A picture: kb does not read text in images, so this file is not searchable.",
    FileKind.JPEG: "A picture: kb does not read text in images, so this file is not searchable.",
}
TOO_LONG = "Reading the text took longer than kb allows, so it was stopped; the file is not searchable."
NO_TEXT = "No text found in the file: it may be a scan or a picture of pages, which kb cannot search."


def first_pages_only(max_pages: int) -> str:
    """The message of a file longer than the `max_pages` pages kb reads."""
    return f"Only the first {max_pages:,} pages were read; the pages after them cannot be searched."


@dataclass(frozen=True)
class Extraction:
    """What reading a file gave: its pages' text, the status, and a message (when not `extracted`, or only in part)."""

    status: DocumentTextStatus
    pages: list[str] = field(default_factory=list)
    message: str | None = None
    peak_kb: int | None = None
    """The worker's peak resident memory in KiB, when it said."""


@dataclass(frozen=True)
class Limits:
    """The limits one extraction runs under."""

    seconds: float
    memory_bytes: int
    max_unpacked_bytes: int
    max_pages: int = MAX_PAGES

    @classmethod
    def from_config(cls) -> Limits:
        """The limits the app's settings give."""
        config = current_app.config
        return cls(
            seconds=float(config["DOCUMENT_EXTRACT_SECONDS"]),
            memory_bytes=int(config["DOCUMENT_EXTRACT_MEMORY_MB"]) * 1024 * 1024,
            max_unpacked_bytes=int(config["DOCUMENT_MAX_BYTES"]) * MAX_UNPACKED_FACTOR,
            max_pages=MAX_PAGES,
        )


def _died(returncode: int) -> str:
    if returncode in (-signal.SIGXCPU, -signal.SIGKILL):
        return TOO_LONG
    return "Reading the text failed (the reader stopped), so the file is not searchable; it may be damaged."


def run_worker(data: bytes, kind: FileKind, limits: Limits) -> Extraction:
    """Run the worker on `data`, a file of `kind`, under `limits`, and interpret its answer; the file never raises."""
    cpu_seconds = max(1, int(limits.seconds))
    command = [
        sys.executable,
        "-I",
        str(WORKER),
        kind.value,
        str(limits.memory_bytes),
        str(cpu_seconds),
        str(limits.max_unpacked_bytes),
        str(limits.max_pages),
    ]
    try:
        finished = subprocess.run(  # noqa: S603 (our own script, by its path, with fixed arguments)
            command, input=data, capture_output=True, timeout=limits.seconds, env={"LANG": "C.UTF-8"}, check=False
        )
    except subprocess.TimeoutExpired:
        return Extraction(DocumentTextStatus.FAILED, message=TOO_LONG)
    if finished.stderr:
        log.warning("Document text reader said: %s", finished.stderr.decode("utf-8", "replace")[:2000])
    if finished.returncode != 0:
        return Extraction(DocumentTextStatus.FAILED, message=_died(finished.returncode))
    try:
        answer = json.loads(finished.stdout)
    except ValueError:
        return Extraction(DocumentTextStatus.FAILED, message=_died(1))
    peak_kb = answer.get("peak_kb")
    if "error" in answer:
        return Extraction(DocumentTextStatus.FAILED, message=str(answer["error"]), peak_kb=peak_kb)
    pages = [str(text) for text in answer["pages"]]
    if not any(text.strip() for text in pages):
        return Extraction(DocumentTextStatus.NO_TEXT, pages=pages, message=NO_TEXT, peak_kb=peak_kb)
    message = first_pages_only(limits.max_pages) if answer.get("more") else None
    return Extraction(DocumentTextStatus.EXTRACTED, pages=pages, message=message, peak_kb=peak_kb)


def extract_text(data: bytes, file_type: FileType) -> Extraction:
    """The text of `data`, a file of `file_type`, page by page, read within the app's limits."""
    if file_type.kind in NOT_READ:
        return Extraction(DocumentTextStatus.NO_TEXT, message=NOT_READ[file_type.kind])
    return run_worker(data, file_type.kind, Limits.from_config())
