"""Modeling: time splits, tuning, final fit, metrics, score scaling."""
