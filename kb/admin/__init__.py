"""Admin pages: users, organisations, panel membership and the audit log."""
