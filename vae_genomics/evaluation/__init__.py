"""Evaluation: numbers computed from arrays and models (no files)."""
