"""Sniffing documents: each kind found in its bytes, names that lie and files that are two kinds refused."""

from __future__ import annotations

import pytest

from kb.documents.errors import DocumentRefusedError
from kb.documents.service import listed_filename
from kb.documents.sniff import FILE_TYPES, FileKind, extension_of, sniff
from tests.services import documents_files as files


@pytest.mark.parametrize(
    ("data", "filename", "kind"),
    [
        (files.pdf(["One"]), "a.pdf", FileKind.PDF),
        (files.docx_bytes(["One"]), "a.docx", FileKind.DOCX),
        (files.odt_bytes(["One"]), "a.odt", FileKind.ODT),
        (files.xlsx_bytes({"S": [["a", "b"]]}), "a.xlsx", FileKind.XLSX),
        (b"a,b,c\n1,2,3\n", "a.csv", FileKind.CSV),
        (b"Plain notes.\nMore notes.\n", "a.txt", FileKind.TEXT),
        (files.picture("PNG"), "a.png", FileKind.PNG),
        (files.picture("JPEG"), "a.jpeg", FileKind.JPEG),
        (files.picture("JPEG"), "a.JPG", FileKind.JPEG),
        (files.pdf(["One"]), "no-ending", FileKind.PDF),
    ],
)
def test_each_kind_is_found_in_its_bytes(data, filename, kind):
    assert sniff(data, filename).kind == kind


def test_a_table_without_a_name_is_csv_and_prose_is_text():
    assert sniff(b"a,b\n1,2\n3,4\n", "upload").kind == FileKind.CSV
    assert sniff(b"Dear panel, thank you.\nRegards\n", "upload").kind == FileKind.TEXT
    assert sniff(b"a,b\n1,2\n", "a.txt").kind == FileKind.TEXT


@pytest.mark.parametrize(
    ("data", "filename", "says"),
    [
        (b"", "a.pdf", "The file is empty."),
        (files.pdf(["One"]), "a.png", "The file is called .png, as a PNG image would be, but it is a PDF."),
        (files.docx_bytes(["One"]), "a.xlsx", "but it is a Word document"),
        (b"Just prose and no table at all.\nA second line.\n", "a.csv", "it is plain text, not a table"),
        (files.picture("PNG") + b"<svg onload=alert(1)>", "a.png", "can also be opened as a web page"),
        (b"PK\x03\x04not really a zip", "a.docx", "cannot be opened; it may be damaged"),
        (b"\x00\x01\x02\x03binary", "a.txt", "cannot tell what kind of file this is"),
    ],
)
def test_refused_with_a_message(data, filename, says):
    with pytest.raises(DocumentRefusedError) as refused:
        sniff(data, filename)
    assert says in str(refused.value)


def test_extension_of_reads_only_the_last_part_of_the_name():
    assert extension_of("C:\\papers\\Minutes.PDF") == ".pdf"
    assert extension_of(".bashrc") == ""
    assert extension_of("notes") == ""


@pytest.mark.parametrize(
    ("uploaded", "kind", "listed"),
    [
        ("Board papers (final).pdf", FileKind.PDF, "Board-papers-final.pdf"),
        ("../../etc/passwd.txt", FileKind.TEXT, "passwd.txt"),
        ("Réunion d’été.odt", FileKind.ODT, "Reunion-dete.odt"),
        ("....pdf", FileKind.PDF, "document.pdf"),
        ("scan", FileKind.PNG, "scan.png"),
        ("photo.jpeg", FileKind.JPEG, "photo.jpg"),
        ("a" * 400 + ".csv", FileKind.CSV, "a" * 196 + ".csv"),
    ],
)
def test_listed_names_are_safe_to_export(uploaded, kind, listed):
    assert listed_filename(uploaded, FILE_TYPES[kind]) == listed
