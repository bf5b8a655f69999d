"""Consultations: members answer questions on a paper or on draft findings; the panel reports back."""
