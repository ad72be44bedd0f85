"""Evaluating one row: targets, scorer specs and registry, scoring in isolation, concurrency."""
