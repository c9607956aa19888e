"""Landing-file writers, one per declared format, all driven by the feed's declaration.

Every writer takes rows keyed by column name and writes the columns in declared order under
their source names (CSV header, JSON keys, Parquet columns) or at their declared positions
(fixed width), so a file can only ever say what its declaration says.
"""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from wmp_platform.declarations import FeedDeclaration

Row = dict[str, object]


class CsvWriter:
    """Header of source names, then one line per row; blanks are empty fields."""

    def __init__(self, path: Path, feed: FeedDeclaration):
        self.names = [c.name for c in feed.columns]
        self.handle = path.open("w", encoding=feed.csv.encoding, newline="")
        self.writer = csv.writer(self.handle, delimiter=feed.csv.delimiter, quotechar=feed.csv.quote,
                                 lineterminator="\n")
        self.writer.writerow([c.source for c in feed.columns])

    def write(self, rows: list[Row]) -> None:
        names = self.names
        self.writer.writerows([[row[n] for n in names] for row in rows])

    def close(self) -> None:
        self.handle.close()


class JsonLinesWriter:
    """One JSON object per line, keyed by source names, blanks as null."""

    def __init__(self, path: Path, feed: FeedDeclaration):
        self.keys = [(c.name, c.source) for c in feed.columns]
        self.handle = path.open("w", encoding="utf-8", newline="\n")

    def write(self, rows: list[Row]) -> None:
        keys, dumps = self.keys, json.dumps
        self.handle.writelines(dumps({source: row[name] for name, source in keys}) + "\n" for row in rows)

    def close(self) -> None:
        self.handle.close()


class ParquetWriter:
    """Text columns named by source name; each write is a row group."""

    def __init__(self, path: Path, feed: FeedDeclaration):
        self.columns = [(c.name, c.source) for c in feed.columns]
        self.schema = pa.schema([(source, pa.string()) for _, source in self.columns])
        self.writer = pq.ParquetWriter(path, self.schema, compression="zstd")

    def write(self, rows: list[Row]) -> None:
        arrays = [pa.array([row[name] for row in rows], pa.string()) for name, _ in self.columns]
        self.writer.write_table(pa.Table.from_arrays(arrays, schema=self.schema))

    def close(self) -> None:
        self.writer.close()


class FixedWidthWriter:
    """No header; each value cut or padded to its width at its start; every line the full record width."""

    def __init__(self, path: Path, feed: FeedDeclaration):
        layout = sorted(feed.columns, key=lambda c: c.start)
        self.width = max(c.start + c.width - 1 for c in layout)
        self.fields = []  # (column name, blank columns before it, width)
        position = 1
        for column in layout:
            if column.start < position:
                raise ValueError(f"feed {feed.name!r}: fixed-width column {column.name!r} overlaps the one before")
            self.fields.append((column.name, column.start - position, column.width))
            position = column.start + column.width
        self.handle = path.open("w", encoding=feed.csv.encoding, newline="\n")

    def line(self, row: Row) -> str:
        parts = []
        for name, gap, width in self.fields:
            value = row[name] or ""
            parts.append(" " * gap + value[:width].ljust(width))
        return "".join(parts).ljust(self.width)

    def write(self, rows: list[Row]) -> None:
        self.handle.writelines(self.line(row) + "\n" for row in rows)

    def close(self) -> None:
        self.handle.close()


WRITERS = {"csv": CsvWriter, "jsonl": JsonLinesWriter, "parquet": ParquetWriter, "fixed_width": FixedWidthWriter}


def landing_file_name(feed: FeedDeclaration, delivery: date) -> str:
    """The file name the declaration's landing pattern gives a delivery on that date."""
    return feed.landing.pattern.replace("{date}", delivery.strftime(feed.landing.date_format)).replace("*", "")


class LandingWriter:
    """Writes each feed's rows into the landing file for their delivery date, under root/<feed folder>/.

    One file per feed is open at a time: rows for a daily feed go to that day's file, rows for a
    monthly feed are appended to the month's file until the month changes.
    """

    def __init__(self, root: Path):
        self.root = root
        self.files: list[Path] = []
        self._open: dict[str, tuple[Path, object]] = {}

    def write(self, feed: FeedDeclaration, delivery: date, rows: list[Row]) -> None:
        path = self.root / feed.landing_folder / landing_file_name(feed, delivery)
        current = self._open.get(feed.name)
        if current is None or current[0] != path:
            if current is not None:
                current[1].close()
            path.parent.mkdir(parents=True, exist_ok=True)
            current = self._open[feed.name] = (path, WRITERS[feed.format](path, feed))
            self.files.append(path)
        if rows:
            current[1].write(rows)

    def close(self) -> None:
        for _, writer in self._open.values():
            writer.close()
        self._open.clear()
