"""Flags, the moderators' queues, and curation of entries (merge, feature, maturity)."""
