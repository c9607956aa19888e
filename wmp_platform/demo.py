"""The main job on the embedded default: generate a synthetic estate, materialise every asset
into the data folder through Dagster (runs recorded in the data folder's Dagster instance,
so `dagster dev` shows them afterwards), and summarise."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from wmp_platform.declarations import load_declarations
from wmp_platform.hub import KINDS, entity_counts
from wmp_platform.landing import landing_files
from wmp_platform.storage import DATA_DIR_VARIABLE, UNPARTITIONED, DataLayout
from wmp_platform.warehouse import open_warehouse, row_counts

FEEDS_DIR = Path(__file__).resolve().parent.parent / "assets" / "feeds"
# reference data first: other feeds' quality gates check their references against it
JOB_FOR_PARTITIONING = {"none": "ingest_reference_feeds", "daily": "ingest_daily_feeds", "monthly": "ingest_monthly_feeds"}

INSTANCE_SETTINGS = """\
# Dagster instance of the wmp-platform data folder (written by `wmp demo`).
telemetry:
  enabled: false
concurrency:
  pools:
    default_limit: 1   # the only pool is the DuckDB warehouse writer
  runs:
    max_concurrent_runs: 4
"""


@dataclass
class DemoReport:
    data_dir: Path
    timings: dict[str, float] = field(default_factory=dict)
    feeds: dict[str, dict[str, int]] = field(default_factory=dict)
    runs: list[str] = field(default_factory=list)
    entities: dict[str, dict[str, int]] = field(default_factory=dict)

    def render(self) -> str:
        width = max(len(name) for name in self.feeds) if self.feeds else 4
        lines = [f"{'feed':<{width}} {'raw':>10} {'staged':>10} {'quarantined':>12}"]
        for name, counts in self.feeds.items():
            lines.append(f"{name:<{width}} {counts['raw']:>10,} {counts['staged']:>10,} {counts['quarantine']:>12,}")
        totals = {layer: sum(c[layer] for c in self.feeds.values()) for layer in ("raw", "staged", "quarantine")}
        lines.append(f"{'total':<{width}} {totals['raw']:>10,} {totals['staged']:>10,} {totals['quarantine']:>12,}")
        lines.append("")
        lines += [f"{kind} entities: {c['entities']:,} from {c['mentions']:,} mentions" for kind, c in self.entities.items()]
        lines.append("")
        lines += [f"{step:<28} {seconds:8.1f} s" for step, seconds in self.timings.items()]
        lines.append("")
        lines.append(f"data folder: {self.data_dir}   warehouse: {self.data_dir / 'warehouse.duckdb'}")
        lines.append(f"Dagster runs: {', '.join(self.runs)}")
        lines.append(f"see them in the UI: DAGSTER_HOME={self.data_dir / 'dagster'} WMP_DATA_DIR={self.data_dir} dagster dev")
        lines.append(f'search the published snapshot: wmp search person "jon smith" --data-dir {self.data_dir}')
        return "\n".join(lines)


def prepare_instance(layout: DataLayout) -> None:
    """Point Dagster and the platform's resources at the data folder."""
    layout.dagster_home.mkdir(parents=True, exist_ok=True)
    settings = layout.dagster_home / "dagster.yaml"
    if not settings.exists():
        settings.write_text(INSTANCE_SETTINGS)
    os.environ["DAGSTER_HOME"] = str(layout.dagster_home)
    os.environ[DATA_DIR_VARIABLE] = str(layout.root)


def landed_partitions(layout: DataLayout, feeds_dir: Path = FEEDS_DIR) -> dict[str, list[str]]:
    """For each ingest job, the partitions that have landing files, in order."""
    found: dict[str, set[str]] = {}
    for feed in load_declarations(feeds_dir).values():
        files, problems = landing_files(feed, layout.feed_landing(feed.landing_folder))
        for problem in problems:
            print(f"warning: {problem}")
        found.setdefault(JOB_FOR_PARTITIONING[feed.partitioning], set()).update(f.partition for f in files)
    return {job: sorted(found[job]) for job in JOB_FOR_PARTITIONING.values() if found.get(job)}


def run_demo(data_dir: Path, size: str | int = "small", seed: int = 42, regenerate: bool = False) -> DemoReport:
    import dagster as dg

    from wmp_platform.definitions import DOWNSTREAM_JOB, build_definitions
    from wmp_platform.synthetic import generate_estate

    layout = DataLayout(Path(data_dir).resolve())
    report = DemoReport(layout.root)
    prepare_instance(layout)

    started = time.perf_counter()
    if regenerate or not layout.landing.exists():
        generate_estate(layout.root, size=size, seed=seed)
    report.timings["generate synthetic estate"] = time.perf_counter() - started

    defs = build_definitions()
    instance = dg.DagsterInstance.get()
    for job_name, partitions in landed_partitions(layout).items():
        started = time.perf_counter()
        job = defs.resolve_job_def(job_name)
        tags = {}
        if partitions != [UNPARTITIONED]:
            tags = {"dagster/asset_partition_range_start": partitions[0], "dagster/asset_partition_range_end": partitions[-1]}
        result = job.execute_in_process(instance=instance, tags=tags)
        report.runs.append(f"{job_name} ({result.run_id[:8]})")
        report.timings[job_name] = time.perf_counter() - started

    started = time.perf_counter()
    result = defs.resolve_job_def(DOWNSTREAM_JOB).execute_in_process(instance=instance)
    report.runs.append(f"{DOWNSTREAM_JOB} ({result.run_id[:8]})")
    report.timings["warehouse, entities, marts"] = time.perf_counter() - started
    report.timings["total"] = sum(report.timings.values())

    with open_warehouse(layout.warehouse, read_only=True) as con:
        report.feeds = row_counts(con)
        report.entities = {kind: entity_counts(con, kind) for kind in KINDS}
    return report
