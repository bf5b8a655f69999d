"""Entries and the taxonomy as files (Markdown with front matter, `taxonomy.yaml`): parsing, checks, import, export."""
