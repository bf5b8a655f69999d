"""Flags, the moderators' queues, decisions on submitted lessons, and curation of entries (merge, feature, maturity)."""
