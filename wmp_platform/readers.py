"""Readers: one landing file in any declared format -> an Arrow table of text columns.

Raw data is kept as text, exactly as delivered, so loading is lossless; typing happens in
staging. A record that cannot be split into the declared fields is kept too, with the
record's text and the reason, instead of stopping the load or being dropped.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from wmp_platform.declarations import FeedDeclaration

ROW_NUMBER = "_row_number"  # 1-based record number in the file (the header is not counted)
LOAD_ERROR = "_load_error"  # why the record could not be split into fields, else null
RAW_RECORD = "_raw_record"  # the record's text, kept only when it could not be split


class SchemaDriftError(ValueError):
    """A file's columns differ from the declaration; the file is rejected whole."""


def _check_columns(path: Path, feed: FeedDeclaration, found: list[str]) -> None:
    declared = [c.source for c in feed.columns]
    missing = [c for c in declared if c not in found]
    unexpected = [c for c in found if c not in declared]
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing column(s) {missing}")
        if unexpected:
            parts.append(f"undeclared column(s) {unexpected}")
        raise SchemaDriftError(f"{path}: schema differs from feed {feed.name!r}: " + "; ".join(parts))


def _finish(feed: FeedDeclaration, columns: dict[str, pa.Array], numbers, errors, records) -> pa.Table:
    table = {c.name: columns[c.source] for c in feed.columns}
    table[ROW_NUMBER] = pa.array(numbers, pa.int64())
    table[LOAD_ERROR] = pa.array(errors, pa.string())
    table[RAW_RECORD] = pa.array(records, pa.string())
    return pa.table(table)


def read_csv(path: Path, feed: FeedDeclaration) -> pa.Table:
    options = feed.csv
    with path.open(encoding=options.encoding, newline="") as handle:
        header = next(csv.reader(handle, delimiter=options.delimiter, quotechar=options.quote), [])
    _check_columns(path, feed, header)
    rejected: list[tuple[int, str, str]] = []

    def keep_rejected(row) -> str:
        reason = f"expected {row.expected_columns} fields, found {row.actual_columns}"
        rejected.append((row.number, reason, row.text))
        return "skip"

    def parse(threads: bool) -> pa.Table:
        return pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(use_threads=threads, encoding=options.encoding, block_size=16 << 20),
            parse_options=pacsv.ParseOptions(
                delimiter=options.delimiter, quote_char=options.quote, newlines_in_values=True,
                invalid_row_handler=keep_rejected,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.string() for name in header}, strings_can_be_null=True,
                quoted_strings_can_be_null=False,
            ),
        )

    table = parse(threads=True)
    if rejected and any(number is None for number, _, _ in rejected):
        rejected.clear()  # record numbers are only known on a single-threaded read
        table = parse(threads=False)
    good = table.num_rows
    # the parser numbers records from the header (= 1); we number data records from 1
    bad_numbers = {number - 1: (reason, text) for number, reason, text in rejected}
    numbers = [n for n in range(1, good + len(bad_numbers) + 1) if n not in bad_numbers]
    columns = {name: table.column(name) for name in header}
    if not bad_numbers:
        return _finish(feed, columns, numbers, pa.nulls(good, pa.string()), pa.nulls(good, pa.string()))
    blanks = pa.nulls(len(bad_numbers), pa.string())
    columns = {name: pa.concat_arrays([col.combine_chunks(), blanks]) for name, col in columns.items()}
    ordered = sorted(bad_numbers)
    return _finish(
        feed, columns, numbers + ordered,
        [None] * good + [bad_numbers[n][0] for n in ordered],
        [None] * good + [bad_numbers[n][1] for n in ordered],
    )


def read_jsonl(path: Path, feed: FeedDeclaration) -> pa.Table:
    keys = [c.source for c in feed.columns]
    values: dict[str, list] = {k: [] for k in keys}
    numbers, errors, records = [], [], []
    undeclared: set[str] = set()
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            error = None
            try:
                record = json.loads(line)
                if not isinstance(record, dict):
                    raise ValueError("not a JSON object")
            except ValueError as exc:
                record, error = {}, f"invalid JSON: {exc}"
            undeclared.update(record.keys() - values.keys())
            for key in keys:
                value = record.get(key)
                values[key].append(None if value is None else value if isinstance(value, str) else json.dumps(value))
            numbers.append(number)
            errors.append(error)
            records.append(line.rstrip("\n") if error else None)
    if undeclared:
        _check_columns(path, feed, keys + sorted(undeclared))
    columns = {k: pa.array(v, pa.string()) for k, v in values.items()}
    return _finish(feed, columns, numbers, errors, records)


def read_parquet(path: Path, feed: FeedDeclaration) -> pa.Table:
    table = pq.read_table(path)
    _check_columns(path, feed, table.column_names)
    columns = {}
    for name in table.column_names:
        column = table.column(name)
        if pa.types.is_timestamp(column.type) or pa.types.is_date(column.type):
            column = pc.strftime(column, format="%Y-%m-%dT%H:%M:%S" if pa.types.is_timestamp(column.type) else "%Y-%m-%d")
        columns[name] = column.cast(pa.string())
    rows = table.num_rows
    return _finish(feed, columns, range(1, rows + 1), pa.nulls(rows, pa.string()), pa.nulls(rows, pa.string()))


def read_fixed_width(path: Path, feed: FeedDeclaration) -> pa.Table:
    text = path.read_text(encoding=feed.csv.encoding)
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    lines = pa.array([line.rstrip("\r") for line in lines], pa.string())
    expected = max(c.start + c.width - 1 for c in feed.columns)
    # trailing blanks are often trimmed in transit; only text past the declared width would be lost
    overlong = pc.greater(pc.utf8_length(pc.utf8_rtrim_whitespace(lines)), expected)
    columns = {}
    for column in feed.columns:
        field = pc.utf8_trim_whitespace(pc.utf8_slice_codeunits(lines, column.start - 1, column.start - 1 + column.width))
        columns[column.source] = pc.if_else(pc.equal(field, ""), pa.scalar(None, pa.string()), field)
    errors = pc.if_else(overlong, pa.scalar(f"record longer than the declared {expected} characters"),
                        pa.scalar(None, pa.string()))
    records = pc.if_else(overlong, lines, pa.scalar(None, pa.string()))
    return _finish(feed, columns, range(1, len(lines) + 1), errors, records)


READERS = {"csv": read_csv, "jsonl": read_jsonl, "parquet": read_parquet, "fixed_width": read_fixed_width}


def read_landing_file(path: Path, feed: FeedDeclaration) -> pa.Table:
    """The file's records as text columns named as declared, with record numbers and load errors."""
    return READERS[feed.format](Path(path), feed)
