"""Drafts of long forms kept on the server: across a sign-in, a stale form token, and while someone types."""
