"""Dagster components of the platform: the classes that turn YAML declarations into assets."""

from wmp_platform.components.source_feed import SourceFeedComponent

__all__ = ["SourceFeedComponent"]
