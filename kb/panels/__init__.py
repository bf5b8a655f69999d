"""Review panels: the workspace where a panel drafts findings that cite lessons and evidence."""
