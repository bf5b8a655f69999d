"""The errors of documents: a file kb will not attach, and text it could not read."""

from __future__ import annotations

from kb.errors import InvalidInputError


class DocumentRefusedError(InvalidInputError):
    """A file kb will not attach (empty, too large, of a kind it does not take, named as another kind).

    The message says why, in words for the person who chose the file.
    """
