"""Published reports' PDFs kept in each worker's memory, so a report many people download is drawn once.

Drawing a report with WeasyPrint takes from a tenth of a second to seconds of a worker;
the print page it is drawn from takes milliseconds. So the route renders the print page
for the reader, and the PDF is looked up by the review's id and a digest of that page
and the site's address (`pdf_key`): the digest covers everything printed (the review's
fields and dates, every finding's text, corrections and notes, the evidence list and
the panel), so any change that shows makes a new key, and two readers share a copy only
when their copies would be the same, byte for byte. A reader who may see a source
another may not (a members-only lesson cited by a public review) gets a page of their
own, and so a copy of their own.

Only published reports are kept: a draft is for the panel and changes while they work.
The cache is a small least-recently-used map per app and process (`REPORT_PDF_CACHE_SIZE`
copies, 16 by default; 0 turns it off); nothing in it must agree across workers.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

from flask import Flask

EXTENSION_NAME = "kb_report_pdfs"
DEFAULT_SIZE = 16

PdfKey = tuple[int, str]
"""A review's id and the digest of its print page as one reader gets it."""


def pdf_key(review_id: int, html: str, site_root: str) -> PdfKey:
    """The cache key of the PDF drawn from print page `html` with links under `site_root`."""
    digest = hashlib.sha256()
    digest.update(site_root.encode("utf-8"))
    digest.update(b"\0")
    digest.update(html.encode("utf-8"))
    return review_id, digest.hexdigest()


class PdfCache:
    """At most `size` PDFs by key, the least recently used dropped first; safe across a worker's threads."""

    def __init__(self, size: int) -> None:
        """An empty cache holding at most `size` copies (none when `size` is 0)."""
        self.size = max(size, 0)
        self._copies: OrderedDict[PdfKey, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: PdfKey) -> bytes | None:
        """The PDF kept under `key`, marked as just used; None when there is none."""
        with self._lock:
            data = self._copies.get(key)
            if data is not None:
                self._copies.move_to_end(key)
            return data

    def put(self, key: PdfKey, data: bytes) -> None:
        """Keep `data` under `key`, dropping the least recently used copies beyond the size."""
        if self.size == 0:
            return
        with self._lock:
            self._copies[key] = data
            self._copies.move_to_end(key)
            while len(self._copies) > self.size:
                self._copies.popitem(last=False)

    def __len__(self) -> int:
        """How many copies are kept."""
        return len(self._copies)


def pdf_cache(app: Flask) -> PdfCache:
    """The app's cache of published reports' PDFs in this process, made on first use."""
    cache = app.extensions.get(EXTENSION_NAME)
    if cache is None:
        cache = app.extensions.setdefault(
            EXTENSION_NAME, PdfCache(int(app.config.get("REPORT_PDF_CACHE_SIZE", DEFAULT_SIZE)))
        )
    assert isinstance(cache, PdfCache)
    return cache
