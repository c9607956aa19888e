"""Generating a synthetic estate: every feed's landing files for a run of days, plus the ground truth.

The estate is deterministic for a seed: the population comes from the seed alone, and each
feed on each day draws from its own generator seeded by (seed, feed, day), so the same
arguments always give byte-identical files, however many processes share the work. Memory
stays bounded whatever the size: the population is built once per process, then each feed
writes each day's records before drawing the next day's.
"""

from __future__ import annotations

import os
import shutil
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from multiprocessing import get_context
from pathlib import Path

from wmp_platform.declarations import FeedDeclaration, load_declarations
from wmp_platform.landing import file_name_regex
from wmp_platform.synthetic.days import days_from
from wmp_platform.synthetic.feeds import FEEDS, Feed
from wmp_platform.synthetic.ground_truth import FACTS, MentionWriter, merge_mentions, write_population
from wmp_platform.synthetic.population import Population, PopulationSize, build_population
from wmp_platform.synthetic.roster import Roster
from wmp_platform.synthetic.sampling import rng_for
from wmp_platform.synthetic.writers import LandingWriter

DEFAULT_FEEDS_DIR = Path(__file__).resolve().parents[2] / "assets" / "feeds"

# size name -> (target total feed rows, days)
SIZES: dict[str, tuple[int, int]] = {
    "tiny": (2_000, 3),
    "small": (50_000, 7),
    "medium": (1_000_000, 30),
    "large": (10_000_000, 90),
}
DEFAULT_DAYS = 7  # for a size given as a number of rows
PEOPLE_PER_ROW = 0.1
PEOPLE_RANGE = (300, 300_000)
ROWS_PER_EXTRA_PROCESS = 20_000  # below this, starting processes costs more than it saves


@dataclass
class EstateSummary:
    """What generate_estate wrote."""

    root: Path
    seed: int
    start: date
    days: int
    rows: dict[str, int] = field(default_factory=dict)  # per feed
    files: list[Path] = field(default_factory=list)  # landing files
    people: int = 0
    vehicles: int = 0
    addresses: int = 0
    skipped_feeds: list[str] = field(default_factory=list)  # declared without a generator, or the reverse

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    def __str__(self) -> str:
        lines = [f"{feed:20} {rows:>12,}" for feed, rows in sorted(self.rows.items())]
        lines.append(f"{'total':20} {self.total_rows:>12,}  in {len(self.files)} files under {self.root / 'landing'}")
        lines.append(f"{'':20} {self.people:>12,} people, {self.vehicles:,} vehicles, {self.addresses:,} addresses; "
                     f"ground truth in {self.root / 'ground_truth'}")
        return "\n".join(lines)


@dataclass(frozen=True)
class EstatePlan:
    """How big everything is: the population and each daily feed's rows per day."""

    days: int
    population: PopulationSize
    daily_rows: dict[str, int]


def plan_estate(size: str | int, days: int | None, feeds: list[type[Feed]]) -> EstatePlan:
    """Split a target number of rows between the reference data and the daily feeds by their shares."""
    if isinstance(size, str):
        if size not in SIZES:
            raise ValueError(f"unknown estate size {size!r}: use one of {sorted(SIZES)} or a number of rows")
        total, default_days = SIZES[size]
    else:
        total, default_days = int(size), DEFAULT_DAYS
    days = days or default_days
    if total < 1 or days < 1:
        raise ValueError("an estate needs at least one row and one day")
    people = min(max(round(total * PEOPLE_PER_ROW), PEOPLE_RANGE[0]), PEOPLE_RANGE[1])
    addresses = PopulationSize(people, 1, 1).addresses
    per_day = max(total - addresses, 50 * days) / days
    shares = {f.name: f.share for f in feeds if f.share}
    whole = sum(shares.values())
    daily = {name: max(1, round(per_day * share / whole)) for name, share in shares.items()}
    officers = daily.get("duty_roster", 0) or max(10, people // 100)
    cameras = min(max(10, daily.get("anpr", 0) // 300), 600)
    return EstatePlan(days, PopulationSize(people, officers, cameras), daily)


@dataclass
class _Job:
    """Everything a process needs to write feeds: built the same, from the seed, in every process."""

    root: Path
    seed: int
    start: date
    plan: EstatePlan
    declarations: dict[str, FeedDeclaration]
    population: Population


def _prepare(root: Path, seed: int, start: date, plan: EstatePlan, feeds_dir: Path) -> _Job:
    return _Job(root, seed, start, plan, load_declarations(feeds_dir), build_population(seed, plan.population, start))


_job: _Job | None = None  # the worker process's job


def _start_worker(*args) -> None:
    global _job
    _job = _prepare(*args)


def _feed_task(name: str) -> dict[str, tuple[int, list[Path]]]:
    assert _job is not None, "worker started without a job"
    return _write_feeds(_job, [name])


def _truth_task() -> tuple[int, int, int]:
    assert _job is not None, "worker started without a job"
    return _write_truth(_job)


def _write_truth(job: _Job) -> tuple[int, int, int]:
    """The true population's files; how many people, vehicles and addresses it has."""
    population = job.population
    write_population(population, job.root / "ground_truth")
    addresses = sum(1 for a in population.addresses if a.kind == "address")
    return len(population.people), len(population.vehicles), addresses


def _write_feeds(job: _Job, names: list[str]) -> dict[str, tuple[int, list[Path]]]:
    """Write the named feeds, every day, and their ground-truth parts; rows and files per feed."""
    roster = Roster(job.population, job.seed)
    calendar = days_from(job.start, job.plan.days)
    written = {}
    for name in names:
        declaration = job.declarations[name]
        feed = FEEDS[name](declaration, job.population, roster)
        landing = LandingWriter(job.root / "landing")
        facts = job.root / "ground_truth" / "facts" / f"{name}.parquet" if name in FACTS else None
        mentions = MentionWriter(_part_folder(job.root, name), facts, FACTS.get(name))
        rows = 0
        try:
            for day in calendar[:1] if declaration.partitioning == "none" else calendar:
                rng = rng_for(job.seed, name, day.date.isoformat())
                count = round(job.plan.daily_rows.get(name, 0) * (0.9 + 0.2 * rng.random()))
                records = list(feed.records(day, rng, count))
                landing.write(declaration, day.date, [r.row for r in records])
                mentions.add(name, declaration.primary_key, records)
                mentions.flush()
                rows += len(records)
        finally:
            landing.close()
            mentions.close()
        written[name] = (rows, landing.files)
    return written


def _part_folder(root: Path, feed: str) -> Path:
    return root / "ground_truth" / f".part-{feed}"


def _clear_earlier_estate(root: Path, feeds: list[FeedDeclaration]) -> None:
    """Remove what an earlier estate left: its deliveries of these feeds (files named by their landing
    patterns, nothing else) and any ground-truth parts of an interrupted run."""
    for feed in feeds:
        folder = root / "landing" / feed.landing_folder
        if folder.is_dir():
            pattern = file_name_regex(feed)
            for path in folder.iterdir():
                if path.is_file() and pattern.match(path.name):
                    path.unlink()
    for part in (root / "ground_truth").glob(".part-*"):
        shutil.rmtree(part)


def _heaviest_first(names: list[str], plan: EstatePlan, declarations: dict[str, FeedDeclaration]) -> list[str]:
    """Feeds by expected work (rows a day times columns), so the last to start are the quickest."""
    return sorted(names, key=lambda name: plan.daily_rows.get(name, 1) * len(declarations[name].columns),
                  reverse=True)


def generate_estate(
    root: Path,
    *,
    size: str | int = "tiny",
    seed: int = 42,
    start: date = date(2026, 10, 1),
    days: int | None = None,
    feeds_dir: Path = DEFAULT_FEEDS_DIR,
    processes: int | None = None,
) -> EstateSummary:
    """Write a synthetic estate under root: root/landing/<feed>/<file> and root/ground_truth/*.parquet.

    size is "tiny" (about 2,000 rows over 3 days), "small" (50,000 over 7), "medium"
    (1,000,000 over 30), "large" (10,000,000 over 90) or a target number of rows (over 7 days);
    days overrides the number of days. Only feeds both declared under feeds_dir and known to the
    generator are written; the others are listed in the summary's skipped_feeds. An earlier
    estate's deliveries of those feeds under root are replaced. Feeds are
    shared between `processes` worker processes (default: one per CPU, one for small jobs);
    the files are the same whatever the number.
    """
    root = Path(root)
    feeds_dir = Path(feeds_dir)
    declarations = load_declarations(feeds_dir)
    names = [name for name in declarations if name in FEEDS]
    plan = plan_estate(size, days, [FEEDS[name] for name in names])
    total = sum(plan.daily_rows.values()) * plan.days
    if processes is None:
        processes = max(1, min(os.cpu_count() or 1, total // ROWS_PER_EXTRA_PROCESS, len(names)))
    _clear_earlier_estate(root, [declarations[name] for name in names])
    (root / "ground_truth").mkdir(parents=True, exist_ok=True)
    setup = (root, seed, start, plan, feeds_dir)
    if processes == 1:
        job = _prepare(*setup)
        written = _write_feeds(job, names)
        people, vehicles, addresses = _write_truth(job)
    else:
        # Each worker builds the population itself from the seed (spawned, not forked: safe whatever
        # threads the caller runs) and takes the next feed whenever it finishes one, heaviest first,
        # so the workers finish together.
        with ProcessPoolExecutor(processes, mp_context=get_context("spawn"), initializer=_start_worker,
                                 initargs=setup) as pool:
            feeds = [pool.submit(_feed_task, name) for name in _heaviest_first(names, plan, declarations)]
            truth = pool.submit(_truth_task)
            written = {name: result for done in feeds for name, result in done.result().items()}
            people, vehicles, addresses = truth.result()
    merge_mentions([_part_folder(root, name) for name in names], root / "ground_truth")
    return EstateSummary(
        root, seed, start, plan.days,
        rows={name: written[name][0] for name in names},
        files=[path for name in names for path in written[name][1]],
        people=people, vehicles=vehicles, addresses=addresses,
        skipped_feeds=sorted(set(declarations) ^ set(FEEDS)),
    )
