"""Themes and tags: the controlled vocabulary that groups entries, its pages, and storing it."""
