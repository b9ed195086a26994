"""Badges and filter (stub)."""
