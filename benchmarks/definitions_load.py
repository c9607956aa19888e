"""Time to load the Dagster definitions with the shipped feeds and with 80 feeds.

80 feeds is the plan: 65 extra declarations are generated in a temporary project (copies
of the shipped ones under new names) and loaded the way Dagster loads the code location.
Each load runs in a fresh Python process, as `dagster dev` or a run worker would.

    python benchmarks/definitions_load.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
FEEDS = REPO / "assets" / "feeds"

LOADER = """
import sys, time
started = time.perf_counter()
from pathlib import Path
import dagster
imported = time.perf_counter()
from wmp_platform.definitions import build_definitions
defs = build_definitions(Path(sys.argv[1]))
keys = defs.resolve_all_asset_keys()
done = time.perf_counter()
print(f"{len(keys)} {imported - started:.3f} {done - imported:.3f}")
"""


def make_project(folder: Path, total_feeds: int) -> Path:
    """A dg project whose defs folder holds the shipped feeds plus generated copies up to total_feeds."""
    package = folder / "bench_feeds"
    (package / "feeds").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (folder / "pyproject.toml").write_text(
        '[tool.dg]\ndirectory_type = "project"\n[tool.dg.project]\n'
        'root_module = "bench_feeds"\ndefs_module = "bench_feeds"\n'
        'registry_modules = ["wmp_platform.components.*"]\n'
    )
    shipped = sorted(FEEDS.glob("*/defs.yaml"))
    for index in range(total_feeds):
        source = shipped[index % len(shipped)]
        document = yaml.safe_load(source.read_text())
        if index >= len(shipped):
            document["attributes"]["name"] = f"{document['attributes']['name']}_{index}"
        target = package / "feeds" / document["attributes"]["name"] / "defs.yaml"
        target.parent.mkdir(parents=True)
        target.write_text(yaml.safe_dump(document, sort_keys=False))
    return folder


def load_once(project: Path) -> tuple[int, float, float, float]:
    started = time.perf_counter()
    output = subprocess.run(
        [sys.executable, "-c", LOADER, str(project)], check=True, capture_output=True, text=True,
        env={"PYTHONPATH": f"{project}:{REPO}", "PATH": "/usr/bin:/bin"},
    ).stdout.split()
    return int(output[0]), float(output[1]), float(output[2]), time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    shipped = len(list(FEEDS.glob("*/defs.yaml")))
    print(f"definitions load, median of {args.repeat} fresh processes")
    print(f"{'feeds':>6} {'assets':>7} {'import dagster':>15} {'build defs':>11} {'process total':>14}")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for feeds in (shipped, 80):
            project = make_project(Path(tmp) / f"p{feeds}", feeds)
            runs = [load_once(project) for _ in range(args.repeat)]
            assets = runs[0][0]
            imported, built, total = (statistics.median(r[i] for r in runs) for i in (1, 2, 3))
            results[feeds] = built
            print(f"{feeds:>6} {assets:>7} {imported:>14.2f}s {built:>10.2f}s {total:>13.2f}s")
    print(f"building definitions for 80 feeds takes {results[80] / results[shipped]:.1f}x the time for {shipped}")


if __name__ == "__main__":
    main()
