"""Scoring in production: the REST app, champions in memory, the link store, batch scoring, monitoring."""
