"""Where everything lives: one data folder holding landing files, the Parquet lake,
the DuckDB warehouse, ground truth and the Dagster instance. Nothing is written inside
the source tree."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path

DATA_DIR_VARIABLE = "WMP_DATA_DIR"
DEFAULT_DATA_DIR = Path.home() / "wmp-data"

LAYERS = ("raw", "staged", "quarantine")


def default_data_dir() -> Path:
    return Path(os.environ.get(DATA_DIR_VARIABLE) or DEFAULT_DATA_DIR).expanduser().resolve()


@dataclass(frozen=True)
class DataLayout:
    """Paths under one data folder."""

    root: Path

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    @property
    def lake(self) -> Path:
        return self.root / "lake"

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse.duckdb"

    @property
    def ground_truth(self) -> Path:
        return self.root / "ground_truth"

    @property
    def dagster_home(self) -> Path:
        return self.root / "dagster"

    def feed_landing(self, folder: str) -> Path:
        return self.landing / folder

    def layer_dir(self, feed: str, layer: str) -> Path:
        assert layer in LAYERS, layer
        return self.lake / feed / layer

    def partition_file(self, feed: str, layer: str, partition: str) -> Path:
        return self.layer_dir(feed, layer) / f"{partition}.parquet"


UNPARTITIONED = "all"


def temporary_sibling(path: Path) -> Path:
    """A unique temporary name next to path; os.replace() onto path is then atomic."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")


def remove_stale_temporaries(folder: Path) -> None:
    """Leftovers of a killed writer: never visible to readers (hidden, .tmp), removed on the next write."""
    if folder.is_dir():
        for leftover in folder.glob(".*.tmp"):
            leftover.unlink(missing_ok=True)
