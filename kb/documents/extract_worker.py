"""The extraction worker: reads a document's text, page by page, in a process of its own.

Run by `kb.documents.extract` as `python -I extract_worker.py KIND MEMORY_BYTES CPU_SECONDS
MAX_UNPACKED_BYTES [MAX_PAGES]`, with the file's bytes on stdin. It limits its own address
space, CPU time, file writes and core dumps before it reads anything, then prints one JSON
object on stdout: `{"pages": [...], "more": false, "peak_kb": N}` (`more` true when the file
has pages past the first MAX_PAGES, which are not read), or `{"error": "...", "peak_kb": N}`
with a message for the person who uploaded the file. A file that exhausts a limit kills only this process.

It imports nothing from kb (it runs as a plain script, so the app is never loaded here):
only the standard library and the readers of each kind, imported when needed.
"""

from __future__ import annotations

import io
import json
import re
import resource
import sys
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

TEXT_PAGE_CHARS = 4000
"""A plain text or CSV file is cut into pages of about this many characters, at line ends."""
MAX_PAGES = 5000
"""Pages read of one file; the rest of a longer file is left unread (and unsearchable)."""
MAX_PAGE_CHARS = 200_000
"""Text kept of one page; beyond it a page is cut (a page this long is no reader's page)."""
MAX_SHEET_ROWS = 20_000
CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
"""Control characters other than tab and line ends: no reader's text, and PostgreSQL refuses NUL."""


class UnreadableError(Exception):
    """The file cannot be read; the message says why, for the person who uploaded it."""


def _limit(memory_bytes: int, cpu_seconds: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _check_zip(data: bytes, max_unpacked: int) -> None:
    """Refuse a zip container whose members would unpack to more than `max_unpacked` bytes, before any reader opens it.

    zipfile never inflates a member past the size its directory declares, so the declared sizes are a real bound.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, EOFError) as error:
        raise UnreadableError("The file is damaged: its zip container cannot be opened.") from error
    if len(members) > 10_000:
        raise UnreadableError("The file holds too many parts to be read safely.")
    unpacked = sum(member.file_size for member in members)
    if unpacked > max_unpacked:
        raise UnreadableError(
            f"The file would unpack to {unpacked // (1024 * 1024)} MB, more than the "
            f"{max_unpacked // (1024 * 1024)} MB kb reads safely; its text was not read."
        )


def _cut(text: str) -> str:
    return text[:MAX_PAGE_CHARS]


def _pdf_pages(data: bytes) -> Iterator[str]:
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, LimitReachedError, PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            reader.decrypt("")
        for page in reader.pages:
            # Unpacking the page's content first: pypdf stops at its own size limit and raises here,
            # where text extraction would quietly give an empty page.
            page.get_contents()
            yield _cut(page.extract_text() or "")
    except (FileNotDecryptedError, NotImplementedError) as error:
        raise UnreadableError("The PDF is protected by a password, so its text cannot be read.") from error
    except LimitReachedError as error:
        raise UnreadableError(
            "The PDF holds parts that would unpack to far more than kb reads safely (a 'PDF bomb'); "
            "its text was not read."
        ) from error
    except PdfReadError as error:
        raise UnreadableError("The PDF is damaged or built in a way kb cannot read.") from error


def _docx_pages(data: bytes) -> Iterator[str]:
    import docx
    from docx.oxml.ns import qn

    document = docx.Document(io.BytesIO(data))
    text_tag, tab_tag, break_tag, paragraph_tag = qn("w:t"), qn("w:tab"), qn("w:br"), qn("w:p")
    rendered_break, break_type = qn("w:lastRenderedPageBreak"), qn("w:type")
    page: list[str] = []
    # One walk in document order: paragraphs and table cells alike, split at hard and rendered page breaks.
    for element in document.element.body.iter(text_tag, tab_tag, break_tag, paragraph_tag, rendered_break):
        tag = element.tag
        if tag == text_tag:
            page.append(element.text or "")
        elif tag == tab_tag:
            page.append("\t")
        elif tag == paragraph_tag:
            if page and page[-1] != "\n":
                page.append("\n")
        elif tag == rendered_break or element.get(break_type) == "page":
            if "".join(page).strip():
                yield _cut("".join(page))
                page = []
        else:
            page.append("\n")
    yield _cut("".join(page))


def _odt_pages(data: bytes) -> Iterator[str]:
    from odf import teletype
    from odf.namespaces import FONS, STYLENS, TEXTNS
    from odf.opendocument import load
    from odf.style import Style

    document = load(io.BytesIO(data))
    breaking: set[str] = set()
    for styles in (document.automaticstyles, document.styles):
        for style in styles.getElementsByType(Style):
            for child in style.childNodes:
                properties = child.qname == (STYLENS, "paragraph-properties")
                if properties and child.attributes.get((FONS, "break-before")) == "page":
                    breaking.add(style.attributes.get((STYLENS, "name"), ""))
    page: list[str] = []
    blocks = {(TEXTNS, "p"), (TEXTNS, "h")}

    def walk(node: Any) -> Iterator[str]:
        nonlocal page
        for child in node.childNodes:
            qname = getattr(child, "qname", None)
            if qname == (TEXTNS, "soft-page-break"):
                if "".join(page).strip():
                    yield _cut("".join(page))
                    page = []
            elif qname in blocks:
                if child.attributes.get((TEXTNS, "style-name")) in breaking and "".join(page).strip():
                    yield _cut("".join(page))
                    page = []
                page.append(teletype.extractText(child) + "\n")
            elif qname is not None:
                yield from walk(child)

    yield from walk(document.text)
    yield _cut("".join(page))


def _xlsx_pages(data: bytes) -> Iterator[str]:
    import openpyxl

    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        for sheet in workbook.worksheets:
            lines = [sheet.title]
            for number, row in enumerate(sheet.iter_rows(values_only=True)):
                if number >= MAX_SHEET_ROWS:
                    break
                cells = ["" if value is None else str(value) for value in row]
                if any(cells):
                    lines.append("\t".join(cells).rstrip("\t"))
            yield _cut("\n".join(lines))
    finally:
        workbook.close()


def _text_pages(data: bytes) -> Iterator[str]:
    text = data.decode("utf-8-sig", errors="replace")
    page: list[str] = []
    size = 0
    for line in text.splitlines(keepends=True):
        if size and size + len(line) > TEXT_PAGE_CHARS:
            yield "".join(page)
            page, size = [], 0
        page.append(line[:MAX_PAGE_CHARS])
        size += len(line)
    yield "".join(page)


READERS: dict[str, Callable[[bytes], Iterator[str]]] = {
    "pdf": _pdf_pages,
    "docx": _docx_pages,
    "odt": _odt_pages,
    "xlsx": _xlsx_pages,
    "csv": _text_pages,
    "text": _text_pages,
}
ZIPPED = {"docx", "odt", "xlsx"}


def read_pages(kind: str, data: bytes, max_unpacked: int, max_pages: int = MAX_PAGES) -> tuple[list[str], bool]:
    """The text of the first `max_pages` pages of a file of `kind`, and whether it has more (left unread).

    Raises UnreadableError (or a reader's own error) if the file cannot be read.
    """
    if kind in ZIPPED:
        _check_zip(data, max_unpacked)
    pages: list[str] = []
    for text in READERS[kind](data):
        if len(pages) >= max_pages:
            return pages, True
        # Lone surrogates (from broken font maps) would not survive the trip to UTF-8 and the database.
        text = CONTROLS.sub("", text).replace("\r\n", "\n").replace("\r", "\n")
        pages.append(text.encode("utf-8", "replace").decode("utf-8"))
    return pages, False


def _peak_kb() -> int:
    # VmHWM starts afresh at exec; ru_maxrss would still count the parent's memory from before it.
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main(argv: list[str]) -> int:
    """Read stdin as a file of the kind in argv, within the limits in argv, and print the JSON answer."""
    kind, memory_bytes, cpu_seconds, max_unpacked = argv[1], int(argv[2]), int(argv[3]), int(argv[4])
    max_pages = int(argv[5]) if len(argv) > 5 else MAX_PAGES
    _limit(memory_bytes, cpu_seconds)
    data = sys.stdin.buffer.read()
    answer: dict[str, Any]
    try:
        pages, more = read_pages(kind, data, max_unpacked, max_pages)
        answer = {"pages": pages, "more": more}
    except UnreadableError as error:
        answer = {"error": str(error)}
    except MemoryError:
        answer = {"error": "Reading the text needed more memory than kb allows; the file may be built to exhaust it."}
    except RecursionError:
        answer = {"error": "The file is nested too deeply to be read."}
    except Exception as error:
        print(f"{type(error).__name__}: {error}", file=sys.stderr)
        answer = {"error": "The file is damaged or built in a way kb cannot read, so its text was not read."}
    answer["peak_kb"] = _peak_kb()
    sys.stdout.write(json.dumps(answer))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
