"""Entries: lessons, reviews and meeting papers, their links and their revisions."""
