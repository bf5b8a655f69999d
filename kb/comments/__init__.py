"""Threaded comments on entries: posting, replying, editing and the thread's shape."""
