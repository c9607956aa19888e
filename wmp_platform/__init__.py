"""wmp-platform: a POLE data platform for a UK police force (engine package)."""
