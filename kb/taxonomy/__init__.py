"""Themes and tags: the controlled vocabulary that groups entries."""
