"""Queries shared by the search tests: field names a reader must never be able to search by."""

HIDDEN_FIELD_QUERIES = [
    "status:draft",
    "visibility:panel",
    "author:1",
    "panel:3",
    "text:foo",
    "id:5",
    "fingerprint:x",
]
"""Each names a field of the index that is not one of title:, tag:, region: or kind:."""
