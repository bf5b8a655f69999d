"""The request doorway: every request's characters are checked before any view, hook or database sees them.

Paths, query strings, form fields (names and values, URL-encoded or multipart, file names
included) and JSON bodies are read from their raw bytes, before Werkzeug decodes them with
replacement characters. A value holding invalid
UTF-8, a lone surrogate, NUL or another forbidden control (`kb.text`) is refused with a 400
page naming the character and where it was. Form values and JSON strings may hold tab, CR
and LF; paths, query strings and names only tab. The hook runs first among the app's
`before_request` hooks, so neither the CSRF check nor the database ever sees such a request.

`one_line` is the form filter for titles, tags and labels: invisible characters removed,
NFC, one line.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote_to_bytes

from flask import Flask, request
from werkzeug.exceptions import BadRequest
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData

from kb import text
from kb.text import INVISIBLE, describe_character, forbidden_character, normalise

NESTED_TOO_DEEPLY = "The JSON body is nested too deeply to read. Nothing was saved."


class RefusedInputError(BadRequest):
    """A request holding a character kb never accepts: answered with a plain 400 naming it and where."""

    name = "Character not accepted"

    def __init__(self, what: str, where: str) -> None:
        super().__init__(
            f"kb cannot accept {what} in {where}. Nothing was saved. "
            "Go back, remove it (it may be invisible: retype the text if you pasted it), and send it again."
        )
        self.what = what
        self.where = where


def _text_of(raw: bytes, where: str) -> str:
    """`raw` decoded as strict UTF-8 (lone surrogates and overlong forms are invalid), else RefusedInputError."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        bad = "".join(f"%{byte:02X}" for byte in raw[error.start : error.end])
        raise RefusedInputError(f"the bytes {bad}, which are not UTF-8 text", where) from None


def check_text(text: str, where: str, *, multiline: bool = False) -> None:
    """Raise RefusedInputError if `text` holds a forbidden character (`kb.text.forbidden_character`)."""
    character = forbidden_character(text, multiline=multiline)
    if character is not None:
        raise RefusedInputError(f"the character {describe_character(character)}", where)


def _decoded(raw: bytes, where: str, *, multiline: bool = False) -> str:
    text = _text_of(raw, where)
    check_text(text, where, multiline=multiline)
    return text


def _pairs(encoded: bytes) -> Iterator[tuple[bytes, bytes]]:
    """The raw (name, value) byte pairs of a URL-encoded string, `+` read as a space."""
    for part in encoded.split(b"&"):
        if part:
            name, _, value = part.partition(b"=")
            yield unquote_to_bytes(name.replace(b"+", b" ")), unquote_to_bytes(value.replace(b"+", b" "))


def check_encoded(encoded: bytes, what: str, *, multiline_values: bool) -> None:
    """Check every name and value of a URL-encoded query string or form body; raises RefusedInputError."""
    for raw_name, raw_value in _pairs(encoded):
        name = _decoded(raw_name, f"the name of a {what}")
        _decoded(raw_value, f"the {what} “{name}”", multiline=multiline_values)


def wsgi_bytes(text: str) -> bytes:
    """The bytes behind a WSGI string (latin-1 by the WSGI rule; UTF-8 for a test client's own text)."""
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


def _raw_path(environ: dict[str, Any]) -> bytes:
    """The path as the client sent it: the raw request line when the server gives it, else PATH_INFO's bytes."""
    raw_uri = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if isinstance(raw_uri, str):
        path = raw_uri.split("?", 1)[0]
        if "://" in path:  # an absolute-form request line: keep only the path
            path = "/" + path.split("://", 1)[1].partition("/")[2]
        return unquote_to_bytes(wsgi_bytes(path))
    return b""


def check_path(environ: dict[str, Any]) -> None:
    """Check the request's path, raw and as decoded for WSGI (latin-1 bytes in PATH_INFO)."""
    _decoded(_raw_path(environ), "the address")
    for key in ("SCRIPT_NAME", "PATH_INFO"):
        _decoded(wsgi_bytes(str(environ.get(key, ""))), "the address")


def _json_strings(value: Any) -> Iterator[tuple[str, bool]]:
    """Every string in a JSON value: (text, is_a_key)."""
    if isinstance(value, str):
        yield value, False
    elif isinstance(value, list):
        for item in value:
            yield from _json_strings(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key, True
            yield from _json_strings(item)


def check_json(raw: bytes) -> None:
    """Check a JSON body: UTF-8, and no forbidden character in any key or string (escapes included).

    Raises RefusedInputError for a bad character, BadRequest for a body nested too deeply to read.
    """
    text = _text_of(raw, "the JSON body")
    try:
        value = json.loads(text)
        strings = list(_json_strings(value))
    except ValueError:
        return  # not JSON: the view answers for that
    except RecursionError:
        raise BadRequest(NESTED_TOO_DEEPLY) from None
    for string, is_key in strings:
        check_text(string, "a JSON key" if is_key else "the JSON body", multiline=not is_key)


def _multipart_parts(raw: bytes, boundary: str) -> Iterator[tuple[Field | File, bytes]]:
    """Each part of a multipart body with its raw bytes, as the client sent them (nothing decoded)."""
    decoder = MultipartDecoder(boundary.encode("latin-1", "replace"))
    decoder.receive_data(raw)
    decoder.receive_data(None)
    part: Field | File | None = None
    chunks: list[bytes] = []
    while not isinstance(event := decoder.next_event(), NeedData | Epilogue):
        if isinstance(event, Field | File):
            part, chunks = event, []
        elif isinstance(event, Data) and part is not None:
            chunks.append(event.data)
            if not event.more_data:
                yield part, b"".join(chunks)


def check_multipart(raw: bytes, boundary: str) -> None:
    """Check a multipart body's field names, text values and file names from their raw bytes.

    A file's contents are not text and are left to whatever reads the file. A body that is not
    well-formed multipart is left to Werkzeug, which reads no fields from it.
    """
    try:
        parts = list(_multipart_parts(raw, boundary))
    except UnicodeDecodeError as error:  # a part's headers are read as strict UTF-8
        bad = "".join(f"%{byte:02X}" for byte in error.object[error.start : error.end])
        raise RefusedInputError(f"the bytes {bad}, which are not UTF-8 text", "the header of a form part") from None
    except ValueError:
        return
    for part, data in parts:
        name = part.name
        check_text(name, "the name of a form field")
        if isinstance(part, File):
            check_text(part.filename or "", f"the name of the file sent as “{name}”")
        else:
            _decoded(data, f"the form field “{name}”", multiline=True)


def check_body() -> None:
    """Check the current request's form or JSON body from its raw bytes; raises RefusedInputError."""
    if request.mimetype == "application/x-www-form-urlencoded":
        check_encoded(request.get_data(cache=True), "form field", multiline_values=True)
    elif request.mimetype == "multipart/form-data":
        check_multipart(request.get_data(cache=True), request.mimetype_params.get("boundary", ""))
    elif request.is_json:
        check_json(request.get_data(cache=True))


def check_request() -> None:
    """The `before_request` hook: refuse the request (RefusedInputError, a 400) if any part holds a bad character."""
    environ = request.environ
    check_path(environ)
    check_encoded(wsgi_bytes(str(environ.get("QUERY_STRING", ""))), "query parameter", multiline_values=False)
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        check_body()


def one_line(value: Any) -> Any:
    """A WTForms filter for titles, tags and labels (`kb.text.one_line`); leaves a missing value as it is."""
    return text.one_line(value) if isinstance(value, str) else value


def visible_text(value: Any) -> Any:
    """A WTForms filter for short multi-line text (a question): invisible characters removed, NFC."""
    return normalise(INVISIBLE.sub("", value)) if isinstance(value, str) else value


def init_app(app: Flask) -> None:
    """Check every request's characters before the other hooks (CSRF, sessions, rate limits) and views.

    Call it before any extension that adds a `before_request` hook (only the request log's comes first).
    """
    app.before_request(check_request)
