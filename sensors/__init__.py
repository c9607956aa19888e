"""Dagster sensors of the platform."""
