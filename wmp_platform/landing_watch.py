"""Watching the landing folders: which delivered files are new since the last look, which
feed and partition each belongs to, which are already in the lake, and which fit no feed.

The landing sensor calls `scan_landing` on every tick and keeps the returned cursor; the
ingest schedules call `pending_deliveries` to catch what the sensor could not (a failed
run, a sensor switched off). Plain Python over the file system and Parquet footers.

How a file is recognised as new: a file's status-change time (ctime) is set by the kernel
whenever it is created, renamed into place, written or re-linked, and cannot be set by the
sender (unlike the modification time, which `cp -p` and rsync keep). The cursor keeps, per
landing folder, the time up to which the folder has been looked at, so a tick only reads
the names, sizes and times of the folder and hashes nothing it has seen before.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path

import pyarrow.parquet as pq

from wmp_platform.declarations import FeedDeclaration
from wmp_platform.ingest import CHECKSUMS_KEY
from wmp_platform.landing import LandingNameError, classify, file_name_regex, landing_files
from wmp_platform.storage import UNPARTITIONED, DataLayout

# A file's timestamps come from the kernel's coarse clock and a network share's clock may lag
# the sensor's: files changed this long before the folder's mark are looked at again, and
# those already seen are recognised by name and time.
OVERLAP_NS = 2_000_000_000
CURSOR_VERSION = 1
ROOT = "."  # files directly in the landing folder, which belong to no feed


@dataclass(frozen=True)
class Delivery:
    """A delivered file of a feed: its name under the landing folder and its content hash."""

    feed: str
    name: str
    partition: str
    size: int
    changed_ns: int
    sha256: str


@dataclass(frozen=True)
class LandingProblem:
    """A landed file the platform cannot load, and why, for the platform team to act on.

    kind: unknown_folder (the folder is no feed's), unmatched_name (the name fits no pattern
    of the folder's feeds), bad_date (the date in the name does not parse), ambiguous_name
    (it fits several feeds), outside_partitions (its date is outside the feed's partitions),
    subfolder (feeds read only files directly in their folder).
    """

    kind: str
    name: str
    reason: str
    feed: str | None = None
    changed_ns: int | None = None


@dataclass(frozen=True)
class LoadRequest:
    """Load the deliveries of one feed: a run over a contiguous range of its partitions."""

    feed: str
    partitions: tuple[str, ...]
    deliveries: tuple[Delivery, ...]

    @property
    def first(self) -> str:
        return self.partitions[0]

    @property
    def last(self) -> str:
        return self.partitions[-1]

    @property
    def span(self) -> str:
        return self.first if self.first == self.last else f"{self.first}..{self.last}"

    @property
    def run_key(self) -> str:
        """feed/partition/sha256 of the file; for several files, a digest of their hashes, so
        the same bytes delivered again for the same partitions ask for the same run."""
        if len(self.deliveries) == 1:
            return f"{self.feed}/{self.span}/{self.deliveries[0].sha256}"
        digest = hashlib.sha256("\n".join(sorted(f"{d.partition}:{d.sha256}" for d in self.deliveries)).encode())
        return f"{self.feed}/{self.span}/{digest.hexdigest()}"


@dataclass
class FolderMark:
    """How far a landing folder has been looked at: every entry changed up to `seen_until_ns`,
    and, by name, the entries changed within the overlap before it."""

    seen_until_ns: int
    recent: dict[str, int] = field(default_factory=dict)

    def already_seen(self, name: str, changed_ns: int) -> bool:
        return changed_ns <= self.seen_until_ns - OVERLAP_NS or self.recent.get(name) == changed_ns


@dataclass
class LandingCursor:
    """The landing sensor's memory between ticks, one mark per landing folder.

    A folder's key holds a fingerprint of the declarations reading it, so declaring a feed
    for a folder (or changing its pattern) makes the folder be looked at afresh.
    """

    folders: dict[str, FolderMark] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(
            {"version": CURSOR_VERSION,
             "folders": {key: [mark.seen_until_ns, mark.recent] for key, mark in sorted(self.folders.items())}},
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str | None) -> LandingCursor:
        if not text:
            return cls()
        try:
            document = json.loads(text)
            if document.get("version") != CURSOR_VERSION:
                raise ValueError(f"version {document.get('version')!r}, expected {CURSOR_VERSION}")
            return cls({key: FolderMark(int(until), {str(n): int(t) for n, t in recent.items()})
                        for key, (until, recent) in document["folders"].items()})
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            raise ValueError(f"landing cursor is not readable ({error}): {text[:200]!r}") from None


@dataclass
class LandingScan:
    """What one look at the landing folders found."""

    requests: list[LoadRequest]
    already_loaded: list[Delivery]
    problems: list[LandingProblem]
    settling: list[str]  # names changed too recently: possibly still being written
    deferred: list[str]  # names left for the next look: the hashing budget ran out
    cursor: LandingCursor


# --- what is in the lake ---------------------------------------------------------------

def loaded_checksums(layout: DataLayout, feed: FeedDeclaration, partition: str) -> frozenset[str]:
    """SHA-256 of every landing file the partition's raw layer holds (from its Parquet footer)."""
    path = layout.partition_file(feed.name, "raw", partition)
    if not path.exists():
        return frozenset()
    metadata = pq.read_schema(path).metadata or {}
    return frozenset(json.loads(metadata.get(CHECKSUMS_KEY, b"[]")))


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --- grouping deliveries into runs ----------------------------------------------------------

def next_partition(feed: FeedDeclaration, partition: str) -> str | None:
    """The partition after this one, in the feed's partitioning (None for reference data)."""
    if feed.partitioning == "none":
        return None
    day = date.fromisoformat(partition)
    if feed.partitioning == "monthly":
        return (day.replace(day=28) + timedelta(days=4)).replace(day=1).isoformat()
    return (day + timedelta(days=1)).isoformat()


def load_requests(
    deliveries: Iterable[Delivery], feeds: dict[str, FeedDeclaration], max_partitions: int = 31
) -> list[LoadRequest]:
    """One request per feed and contiguous range of partitions (at most max_partitions long):
    a day's file is one run; ninety days delivered at once are three, not ninety."""
    by_feed: dict[str, dict[str, list[Delivery]]] = {}
    for delivery in deliveries:
        by_feed.setdefault(delivery.feed, {}).setdefault(delivery.partition, []).append(delivery)
    requests = []
    for name in sorted(by_feed):
        feed, partitions = feeds[name], by_feed[name]
        run: list[str] = []
        for partition in sorted(partitions):
            if run and (next_partition(feed, run[-1]) != partition or len(run) >= max_partitions):
                requests.append(_request(name, run, partitions))
                run = []
            run.append(partition)
        requests.append(_request(name, run, partitions))
    return requests


def _request(feed: str, run: list[str], partitions: dict[str, list[Delivery]]) -> LoadRequest:
    files = sorted((d for p in run for d in partitions[p]), key=lambda d: (d.partition, d.name))
    return LoadRequest(feed, tuple(run), tuple(files))


# --- looking at the landing folders --------------------------------------------------------

def folder_key(folder: str, feeds: Sequence[FeedDeclaration]) -> str:
    """The cursor key of a landing folder: its name and a fingerprint of the feeds reading it."""
    readers = sorted(
        (f.name, f.landing.pattern, f.landing.date_format, f.partitioning, str(f.partition_start)) for f in feeds
    )
    return f"{folder}#{hashlib.sha256(json.dumps(readers).encode()).hexdigest()[:12]}"


@dataclass(frozen=True)
class _Entry:
    location: str  # the full path, as listed
    name: str  # relative to the landing folder
    changed_ns: int
    size: int
    is_dir: bool

    @property
    def path(self) -> Path:
        return Path(self.location)


def _entries(folder: Path, prefix: str) -> list[_Entry]:
    """The folder's entries with their change times, oldest first; hidden names (a sender's
    temporary files by convention) are not listed. Plain strings: a tick lists every file."""
    found = []
    try:
        scan = os.scandir(folder)
    except FileNotFoundError:
        return []
    with scan:
        for entry in scan:
            if entry.name.startswith("."):
                continue
            try:
                status = entry.stat()
            except FileNotFoundError:  # removed while listing
                continue
            found.append(_Entry(entry.path, prefix + entry.name, status.st_ctime_ns, status.st_size, entry.is_dir()))
    found.sort(key=lambda e: (e.changed_ns, e.name))
    return found


def _folder_problem(entry: _Entry, folder: str, readers: Sequence[FeedDeclaration]) -> LandingProblem | None:
    if not readers:
        where = "the landing folder itself" if folder == ROOT else f"folder {folder!r}"
        return LandingProblem("unknown_folder", entry.name, f"{entry.path}: no feed reads {where}")
    if entry.is_dir:
        return LandingProblem("subfolder", entry.name, f"{entry.path}: a folder inside a feed's landing folder is not read",
                              readers[0].name if len(readers) == 1 else None)
    return None


def _classify(entry: _Entry, readers: Sequence[FeedDeclaration],
              partition_exists: Callable[[FeedDeclaration, str], bool]) -> tuple[FeedDeclaration, str] | LandingProblem:
    """The feed and partition a file belongs to, or the problem that stops it being loaded."""
    matching = [feed for feed in readers if file_name_regex(feed).match(entry.path.name)]
    if len(matching) > 1:
        names = ", ".join(f"{f.name} ({f.landing.pattern})" for f in matching)
        return LandingProblem("ambiguous_name", entry.name, f"{entry.path}: the name fits several feeds: {names}")
    if not matching:
        patterns = ", ".join(f"{f.name!r} pattern {f.landing.pattern!r}" for f in readers)
        return LandingProblem("unmatched_name", entry.name, f"{entry.path}: name does not match feed {patterns}",
                              readers[0].name if len(readers) == 1 else None)
    feed = matching[0]
    try:
        landed = classify(feed, entry.path)
    except LandingNameError as error:
        return LandingProblem("bad_date", entry.name, str(error), feed.name)
    if not partition_exists(feed, landed.partition):
        return LandingProblem(
            "outside_partitions", entry.name,
            f"{entry.path}: partition {landed.partition} is outside feed {feed.name!r}'s partitions "
            f"(from {feed.partition_start} to today)", feed.name,
        )
    return feed, landed.partition


def _every_partition(feed: FeedDeclaration, partition: str) -> bool:
    return True


def scan_landing(
    layout: DataLayout,
    feeds: Iterable[FeedDeclaration],
    cursor: LandingCursor | None = None,
    *,
    now_ns: int | None = None,
    settle_seconds: float = 30.0,
    hash_budget_seconds: float = 20.0,
    max_partitions_per_run: int = 31,
    partition_exists: Callable[[FeedDeclaration, str], bool] = _every_partition,
) -> LandingScan:
    """Look at every landing folder for files changed since the cursor's marks.

    A file changed within the last `settle_seconds` is left for a later look, as its sender may
    still be writing it. A new file is hashed; one whose bytes its partition's raw layer
    already holds is reported as already loaded, the others become load requests. Files that
    fit no feed are problems. Hashing stops after `hash_budget_seconds`, and the cursor then
    marks only what was looked at, so a large backlog is worked through over several looks.
    """
    cursor = cursor or LandingCursor()
    now_ns = time.time_ns() if now_ns is None else now_ns
    cutoff = now_ns - int(settle_seconds * 1e9)
    deadline = time.monotonic() + hash_budget_seconds
    feeds = list(feeds)
    by_name = {feed.name: feed for feed in feeds}
    readers: dict[str, list[FeedDeclaration]] = {}
    for feed in feeds:
        readers.setdefault(feed.landing_folder, []).append(feed)
    folders = {ROOT: []} | {entry.name: readers.get(entry.name, []) for entry in _entries(layout.landing, "")
                            if entry.is_dir}
    for folder in readers:
        folders.setdefault(folder, readers[folder])

    deliveries, loaded, problems, settling, deferred = [], [], [], [], []
    marks: dict[str, FolderMark] = {}
    checksums: dict[tuple[str, str], frozenset[str]] = {}
    for folder, folder_readers in sorted(folders.items()):
        key = folder_key(folder, folder_readers)
        mark = cursor.folders.get(key)
        path = layout.landing if folder == ROOT else layout.feed_landing(folder)
        entries = _entries(path, "" if folder == ROOT else f"{folder}/")
        if folder == ROOT:
            entries = [e for e in entries if not e.is_dir]  # the folders are looked at on their own
        seen_until, deferred_here, hashed = cutoff, set(), 0
        for entry in entries:
            if entry.changed_ns > cutoff:
                settling.append(entry.name)
                continue
            if mark and mark.already_seen(entry.name, entry.changed_ns):
                continue
            if deferred_here or (hashed and time.monotonic() > deadline):
                # leave this entry, and everything changed after it, for the next look
                seen_until = min(seen_until, entry.changed_ns - 1)
                deferred_here.add(entry.name)
                continue
            problem = _folder_problem(entry, folder, folder_readers)
            if problem is None:
                found = _classify(entry, folder_readers, partition_exists)
                if isinstance(found, LandingProblem):
                    problem = found
                else:
                    feed, partition = found
                    delivery = Delivery(feed.name, entry.name, partition, entry.size, entry.changed_ns,
                                        file_sha256(entry.path))
                    hashed += 1
                    if (feed.name, partition) not in checksums:
                        checksums[feed.name, partition] = loaded_checksums(layout, feed, partition)
                    (loaded if delivery.sha256 in checksums[feed.name, partition] else deliveries).append(delivery)
            if problem is not None:
                problems.append(replace(problem, changed_ns=entry.changed_ns))
        # entries looked at within the overlap are remembered by name, including those changed
        # at the same instant as the first entry left for later
        recent = {e.name: e.changed_ns for e in entries
                  if seen_until - OVERLAP_NS < e.changed_ns <= cutoff and e.name not in deferred_here}
        marks[key] = FolderMark(seen_until, recent)
        deferred += sorted(deferred_here)

    return LandingScan(
        requests=load_requests(deliveries, by_name, max_partitions_per_run),
        already_loaded=loaded, problems=problems, settling=settling, deferred=deferred,
        cursor=LandingCursor(marks),
    )


def pending_deliveries(
    layout: DataLayout,
    feed: FeedDeclaration,
    partitions: Iterable[str],
    *,
    now_ns: int | None = None,
    settle_seconds: float = 30.0,
) -> list[Delivery]:
    """The feed's landed files in these partitions whose bytes the partition's raw layer does
    not hold: never loaded, or loaded by a run that failed, or replaced since."""
    wanted = set(partitions)
    cutoff = (time.time_ns() if now_ns is None else now_ns) - int(settle_seconds * 1e9)
    files, _ = landing_files(feed, layout.feed_landing(feed.landing_folder))
    pending, checksums = [], {}
    for landed in files:
        if landed.partition not in wanted:
            continue
        status = landed.path.stat()
        if status.st_ctime_ns > cutoff:
            continue  # still arriving; the landing sensor takes it
        sha = file_sha256(landed.path)
        if landed.partition not in checksums:
            checksums[landed.partition] = loaded_checksums(layout, feed, landed.partition)
        if sha not in checksums[landed.partition]:
            pending.append(Delivery(feed.name, landed.path.relative_to(layout.landing).as_posix(), landed.partition,
                                    status.st_size, status.st_ctime_ns, sha))
    return pending


def recent_partitions(feed: FeedDeclaration, today: date, days: int) -> list[str]:
    """The partition keys covering the last `days` days, today included (a file delivered
    today belongs to today's partition)."""
    if feed.partitioning == "none":
        return [UNPARTITIONED]
    keys = []
    for offset in range(days):
        day = today - timedelta(days=offset)
        key = (day.replace(day=1) if feed.partitioning == "monthly" else day).isoformat()
        if key >= str(feed.partition_start) and key not in keys:
            keys.append(key)
    return sorted(keys)
