"""Lessons to action: who acts on a lesson, by when, with what evidence, and lessons that recur."""
