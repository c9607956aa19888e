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

DATA_LAYERS = ("raw", "staged", "quarantine")
LAYERS = (*DATA_LAYERS, "quality")  # quality: each partition's quality-gate results, one row per rule


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

    @property
    def reports(self) -> Path:
        """Generated reports: the KPI report (HTML) and its charts (SVG)."""
        return self.root / "reports"

    @property
    def alerts(self) -> Path:
        """The alerts table: run failures and unloadable landing files, JSON Lines per month."""
        return self.root / "alerts"

    def feed_landing(self, folder: str) -> Path:
        return self.landing / folder

    def layer_dir(self, feed: str, layer: str) -> Path:
        assert layer in LAYERS, layer
        return self.lake / feed / layer

    def partition_file(self, feed: str, layer: str, partition: str) -> Path:
        return self.layer_dir(feed, layer) / f"{partition}.parquet"


UNPARTITIONED = "all"


def temporary_sibling(path: Path) -> Path:
    """A unique temporary name next to path, marked with this process's id; os.replace() onto
    path is then atomic, and readers globbing *.parquet never see it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp")


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temporaries(path: Path) -> None:
    """Remove what killed writers of path left behind; a live writer's temporary file is kept."""
    for leftover in path.parent.glob(f".{path.name}.*.tmp"):
        pid = leftover.name[len(path.name) + 2 :].split(".", 1)[0]
        if not pid.isdigit() or not _running(int(pid)):
            leftover.unlink(missing_ok=True)
