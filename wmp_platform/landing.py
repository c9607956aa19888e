"""Landing files: which delivered files belong to which partition of a feed."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from wmp_platform.declarations import FeedDeclaration
from wmp_platform.storage import UNPARTITIONED

# strptime directive -> regex for the part of a file name it matches
_DIRECTIVES = {"%Y": r"\d{4}", "%m": r"\d{2}", "%d": r"\d{2}", "%y": r"\d{2}", "%H": r"\d{2}", "%M": r"\d{2}",
               "%b": r"[A-Za-z]{3}", "%j": r"\d{3}"}


def _date_regex(date_format: str) -> str:
    out, i = "", 0
    while i < len(date_format):
        token = date_format[i : i + 2]
        if token in _DIRECTIVES:
            out += _DIRECTIVES[token]
            i += 2
        else:
            out += re.escape(date_format[i])
            i += 1
    return out


def file_name_regex(feed: FeedDeclaration) -> re.Pattern[str]:
    """The landing pattern as a regex with a named group 'date' where {date} stands."""
    parts = []
    for piece in re.split(r"(\{date\}|\*)", feed.landing.pattern):
        if piece == "{date}":
            parts.append(f"(?P<date>{_date_regex(feed.landing.date_format)})")
        elif piece == "*":
            parts.append(".*")
        else:
            parts.append(re.escape(piece))
    return re.compile("^" + "".join(parts) + "$")


def partition_of(feed: FeedDeclaration, delivery: date | None) -> str:
    """The partition key a file delivered on `delivery` belongs to (Dagster's key format)."""
    if feed.partitioning == "none" or delivery is None:
        return UNPARTITIONED
    if feed.partitioning == "monthly":
        delivery = delivery.replace(day=1)
    return delivery.isoformat()


@dataclass(frozen=True)
class LandingFile:
    path: Path
    partition: str

    def sha256(self) -> str:
        digest = hashlib.sha256()
        with self.path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()


class LandingNameError(ValueError):
    """A file in a feed's landing folder does not fit the declared name pattern."""


def classify(feed: FeedDeclaration, path: Path) -> LandingFile:
    """The partition a landing file belongs to, or LandingNameError saying why it has none."""
    match = file_name_regex(feed).match(path.name)
    if not match:
        raise LandingNameError(f"{path}: name does not match feed {feed.name!r} pattern {feed.landing.pattern!r}")
    delivered = match.groupdict().get("date")
    if delivered is None:
        return LandingFile(path, partition_of(feed, None))
    try:
        day = datetime.strptime(delivered, feed.landing.date_format).date()
    except ValueError:
        raise LandingNameError(
            f"{path}: {delivered!r} in the name is not a date in format {feed.landing.date_format!r}"
        ) from None
    return LandingFile(path, partition_of(feed, day))


def landing_files(feed: FeedDeclaration, folder: Path) -> tuple[list[LandingFile], list[str]]:
    """Every file in the feed's landing folder: those that fit the pattern, and a problem line for each that does not."""
    found, problems = [], []
    if folder.is_dir():
        for path in sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")):
            try:
                found.append(classify(feed, path))
            except LandingNameError as error:
                problems.append(str(error))
    return found, problems


def files_for_partition(feed: FeedDeclaration, folder: Path, partition: str) -> list[LandingFile]:
    files, _ = landing_files(feed, folder)
    return [f for f in files if f.partition == partition]
