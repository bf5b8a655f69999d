"""Entries as Markdown files with YAML front matter: parsing, checking, import and export."""
