"""Keeping the stays (analytics.models.Stay) as the records move."""
