"""Volume anomalies: a partition far outside the feed's recent history of row counts."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from wmp_platform.declarations import FeedDeclaration
from wmp_platform.ingest import count_rows
from wmp_platform.storage import DataLayout

MINIMUM_HISTORY = 3


@dataclass(frozen=True)
class VolumeResult:
    partition: str
    rows: int
    history: int  # earlier partitions compared against
    median: float | None

    def anomalous(self, min_ratio: float, max_ratio: float) -> bool:
        if self.median is None:
            return False
        return not (self.median * min_ratio <= self.rows <= self.median * max_ratio)


def volume(layout: DataLayout, feed: FeedDeclaration, partition: str) -> VolumeResult:
    """The partition's raw rows against the median of up to `history` earlier partitions
    (too little history: no median, never anomalous)."""
    folder = layout.layer_dir(feed.name, "raw")
    earlier = sorted(p for p in folder.glob("*.parquet") if p.stem < partition)[-feed.quality.volume.history :]
    counts = [count_rows(p) for p in earlier]
    median = statistics.median(counts) if len(counts) >= MINIMUM_HISTORY else None
    return VolumeResult(partition, count_rows(layout.partition_file(feed.name, "raw", partition)), len(counts), median)
