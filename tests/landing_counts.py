"""Counting records in landing files independently of the platform's readers."""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow.parquet as pq

from wmp_platform.declarations import FeedDeclaration


def records_in(path: Path, feed: FeedDeclaration) -> int:
    if feed.format == "parquet":
        return pq.ParquetFile(path).metadata.num_rows
    with path.open(encoding=feed.csv.encoding, newline="") as handle:
        if feed.format == "csv":
            return sum(1 for _ in csv.reader(handle, delimiter=feed.csv.delimiter, quotechar=feed.csv.quote)) - 1
        return sum(1 for line in handle if line.strip())
