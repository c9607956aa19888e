"""The platform's Dagster definitions folder: one sub-folder per source feed (defs.yaml)."""
