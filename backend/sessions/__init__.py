"""Vaccination sessions: what a center offers on a day, and the public search."""
