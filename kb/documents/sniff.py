"""What kind of file a document is, found in its bytes, never in its name or the browser's claim.

`sniff(data, filename)` returns the `FileType` of a PDF, Word (DOCX), OpenDocument text,
Excel (XLSX), CSV, plain text, PNG or JPEG file, and raises `DocumentRefusedError` with a
message for the person for anything else: an empty file, a kind kb does not take, a file
whose name claims another kind than its bytes, or bytes that are two kinds at once (a
polyglot, which a browser or viewer could open as the other kind). Zip containers are told
apart by their members, text by decoding it, CSV by parsing it; the name only decides
between plain text and CSV when the text is both. This module has no app and no database.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from enum import StrEnum

from kb.documents.errors import DocumentRefusedError


class FileKind(StrEnum):
    """The kinds of file kb attaches to entries."""

    PDF = "pdf"
    DOCX = "docx"
    ODT = "odt"
    XLSX = "xlsx"
    CSV = "csv"
    TEXT = "text"
    PNG = "png"
    JPEG = "jpeg"


@dataclass(frozen=True)
class FileType:
    """A kind of file: its media type, what people call it, and the name endings it goes by (the first is kb's)."""

    kind: FileKind
    media_type: str
    label: str
    extensions: tuple[str, ...]

    @property
    def extension(self) -> str:
        """The name ending kb gives a file of this kind."""
        return self.extensions[0]

    @property
    def inline(self) -> bool:
        """Whether a browser may show the file itself (with its true type) rather than only save it."""
        return self.kind in (FileKind.PDF, FileKind.PNG, FileKind.JPEG)


FILE_TYPES: dict[FileKind, FileType] = {
    file_type.kind: file_type
    for file_type in (
        FileType(FileKind.PDF, "application/pdf", "PDF", (".pdf",)),
        FileType(
            FileKind.DOCX,
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "Word document",
            (".docx",),
        ),
        FileType(FileKind.ODT, "application/vnd.oasis.opendocument.text", "OpenDocument text", (".odt",)),
        FileType(
            FileKind.XLSX,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "Excel workbook",
            (".xlsx",),
        ),
        FileType(FileKind.CSV, "text/csv", "CSV table", (".csv",)),
        FileType(FileKind.TEXT, "text/plain", "plain text file", (".txt", ".text", ".md")),
        FileType(FileKind.PNG, "image/png", "PNG image", (".png",)),
        FileType(FileKind.JPEG, "image/jpeg", "JPEG image", (".jpg", ".jpeg")),
    )
}
BY_MEDIA_TYPE = {file_type.media_type: file_type for file_type in FILE_TYPES.values()}
TAKEN = "PDF, Word (.docx), OpenDocument text (.odt), Excel (.xlsx), CSV, plain text, PNG and JPEG files"

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"
PDF_MAGIC = b"%PDF-"
ZIP_MAGIC = b"PK\x03\x04"
HEAD = 1024
"""PDF readers look for `%PDF-` this far into a file; web page markers are looked for as far."""
WEB_PAGE = re.compile(rb"<\s*(?:!doctype\s+html|html|head|body|script|iframe|svg|object|embed)\b", re.IGNORECASE)
ODT_MIMETYPE = b"application/vnd.oasis.opendocument.text"
CSV_DELIMITERS = ",;\t"
CSV_SAMPLE = 64 * 1024


def extension_of(filename: str) -> str:
    """The name's ending in lower case (`.pdf`), or "" when it has none."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    stem, dot, ending = name.rpartition(".")
    return f".{ending.lower()}" if dot and stem and ending else ""


def _kind_named(extension: str) -> FileType | None:
    return next((t for t in FILE_TYPES.values() if extension in t.extensions), None)


def _zip_kind(data: bytes) -> FileKind:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if "word/document.xml" in names and "[Content_Types].xml" in names:
                return FileKind.DOCX
            if "xl/workbook.xml" in names and "[Content_Types].xml" in names:
                return FileKind.XLSX
            if "content.xml" in names and "mimetype" in names:
                info = archive.getinfo("mimetype")
                if info.file_size <= 100 and archive.read(info).strip() == ODT_MIMETYPE:
                    return FileKind.ODT
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, NotImplementedError, EOFError):
        raise DocumentRefusedError(
            "The file looks like a zip archive but cannot be opened; it may be damaged."
        ) from None
    raise DocumentRefusedError(f"The file is a zip archive that is none of the kinds kb takes ({TAKEN}).")


def _binary_kind(data: bytes) -> FileKind | None:
    if data.startswith(PDF_MAGIC):
        return FileKind.PDF
    if data.startswith(PNG_MAGIC):
        return FileKind.PNG
    if data.startswith(JPEG_MAGIC):
        return FileKind.JPEG
    if data.startswith(ZIP_MAGIC):
        return _zip_kind(data)
    return None


def _refuse_polyglot(data: bytes, kind: FileKind) -> None:
    """Refuse bytes that some program would open as another kind than `kind`."""
    binary = kind in (FileKind.PDF, FileKind.PNG, FileKind.JPEG)
    zipped = kind in (FileKind.DOCX, FileKind.ODT, FileKind.XLSX)
    other: str | None = None
    if kind != FileKind.PDF and PDF_MAGIC in data[:HEAD]:
        other = "a PDF"
    elif (binary and WEB_PAGE.search(data)) or (zipped and WEB_PAGE.search(data[:HEAD])):
        other = "a web page"
    elif binary and zipfile.is_zipfile(io.BytesIO(data)):
        other = "a zip archive"
    if other is not None:
        label = FILE_TYPES[kind].label
        raise DocumentRefusedError(
            f"The file is a {label} that can also be opened as {other}; "
            "kb does not take files that are two kinds at once."
        )


def _text_of(data: bytes) -> str | None:
    """The bytes as UTF-8 text (a byte-order mark allowed), or None when they are not text."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    return None if "\x00" in text else text


def _parses_as_csv(text: str, *, strict: bool) -> bool:
    """Whether `text` reads as a table: rows of two or more fields, all of one width when `strict`."""
    sample = text[:CSV_SAMPLE]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=CSV_DELIMITERS)
    except csv.Error:
        return False
    try:
        widths = {len(row) for row in csv.reader(io.StringIO(sample), dialect, strict=True) if row}
    except csv.Error:
        return False
    if not widths or max(widths) < 2:
        return False
    return len(widths) == 1 or not strict


def _text_kind(text: str, extension: str) -> FileKind:
    if WEB_PAGE.match(text.lstrip()[:HEAD].encode()):
        raise DocumentRefusedError(f"The file is a web page (HTML), which kb does not take. kb takes {TAKEN}.")
    if extension == ".csv":
        if _parses_as_csv(text, strict=False):
            return FileKind.CSV
        raise DocumentRefusedError(
            "The file is called .csv but it is plain text, not a table of comma-separated values."
        )
    if extension in FILE_TYPES[FileKind.TEXT].extensions:
        return FileKind.TEXT
    return FileKind.CSV if _parses_as_csv(text, strict=True) else FileKind.TEXT


def sniff(data: bytes, filename: str) -> FileType:
    """The kind of file `data` is; `filename` must not claim another kind.

    Raises DocumentRefusedError: the file is empty, of a kind kb does not take, named as
    another kind, or two kinds at once.
    """
    if not data:
        raise DocumentRefusedError("The file is empty.")
    extension = extension_of(filename)
    kind = _binary_kind(data)
    if kind is None:
        text = _text_of(data)
        if text is None:
            raise DocumentRefusedError(f"kb cannot tell what kind of file this is. kb takes {TAKEN}.")
        kind = _text_kind(text, extension)
    _refuse_polyglot(data, kind)
    found = FILE_TYPES[kind]
    if extension and extension not in found.extensions:
        named = _kind_named(extension)
        called = f"a {named.label}" if named else f"a {extension} file"
        raise DocumentRefusedError(
            f"The file is called {extension}, as {called} would be, but it is a {found.label}. "
            f"Rename it to end in {found.extension}, or choose the right file."
        )
    return found
