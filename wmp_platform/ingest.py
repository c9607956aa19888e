"""Raw and staged layers of a feed, one partition at a time.

raw: every record of the partition's landing files, as text, with lineage. staged: typed
and normalised, with POLE columns named the same way in every feed. A record that cannot
be typed goes to the feed's quarantine with every reason, so staged + quarantined = raw.

Each partition is one Parquet file per layer, written to a temporary name and renamed into
place: re-running a partition replaces it, a killed run leaves the old file intact, and
runs for different feeds or partitions never share a lock.
"""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from wmp_platform.declarations import Column, FeedDeclaration
from wmp_platform.identifiers import install_macros
from wmp_platform.landing import files_for_partition
from wmp_platform.sql import quote, sql_literal
from wmp_platform.readers import LOAD_ERROR, RAW_RECORD, ROW_NUMBER, read_landing_file
from wmp_platform.storage import DataLayout, remove_stale_temporaries, temporary_sibling

if TYPE_CHECKING:  # the quality gate imports this module
    from wmp_platform.quality import GateResult, Rule

SOURCE_FILE, FILE_SHA256, LOADED_AT, PARTITION = "_source_file", "_file_sha256", "_loaded_at", "_partition"
RECORD_KEY, ISSUES = "_record_key", "_issues"
LINEAGE = (SOURCE_FILE, ROW_NUMBER, FILE_SHA256, LOADED_AT, PARTITION)
TIMEZONE = "Europe/London"


@dataclass
class RawLoad:
    rows: int = 0
    files: list[str] = field(default_factory=list)
    skipped_duplicates: list[str] = field(default_factory=list)
    malformed_records: int = 0


@dataclass
class StageResult:
    raw_rows: int
    staged_rows: int
    quarantined_rows: int
    issue_counts: dict[str, int]
    gate: GateResult | None = None

    @property
    def reconciled(self) -> bool:
        return self.staged_rows + self.quarantined_rows == self.raw_rows


@functools.cache
def _engine() -> duckdb.DuckDBPyConnection:
    """One in-memory DuckDB per process with the platform's macros, installed once."""
    con = duckdb.connect()
    install_macros(con)
    return con


def connect() -> duckdb.DuckDBPyConnection:
    """A connection for one step (its own temp tables and settings), London time."""
    con = _engine().cursor()
    con.execute(f"SET TimeZone = {sql_literal(TIMEZONE)}")
    return con


def _write_parquet_atomically(write, target: Path) -> None:
    remove_stale_temporaries(target)
    temporary = temporary_sibling(target)
    try:
        write(temporary)
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


CHECKSUMS_KEY = b"wmp.file_sha256"  # footer metadata of a raw partition file: the checksums it holds


def _checksums_in_other_partitions(layout: DataLayout, feed: FeedDeclaration, partition: str) -> dict[str, str]:
    """Checksum -> partition for files loaded elsewhere; read from Parquet footers, not data."""
    folder = layout.layer_dir(feed.name, "raw")
    found: dict[str, str] = {}
    for path in sorted(folder.glob("*.parquet")) if folder.is_dir() else []:
        if path.stem != partition:
            metadata = pq.read_schema(path).metadata or {}
            for checksum in json.loads(metadata.get(CHECKSUMS_KEY, b"[]")):
                found.setdefault(checksum, path.stem)
    return found


def raw_schema(feed: FeedDeclaration) -> pa.Schema:
    return pa.schema(
        [(c.name, pa.string()) for c in feed.columns]
        + [(ROW_NUMBER, pa.int64()), (LOAD_ERROR, pa.string()), (RAW_RECORD, pa.string()),
           (SOURCE_FILE, pa.string()), (FILE_SHA256, pa.string()),
           (LOADED_AT, pa.timestamp("us", tz="UTC")), (PARTITION, pa.string())]
    )


def load_raw(layout: DataLayout, feed: FeedDeclaration, partition: str) -> RawLoad:
    """Load every landing file of the partition into the raw layer, replacing what was there.

    A file whose bytes were already loaded (same SHA-256, in this partition under another
    name or in another partition) is skipped and reported, so a re-delivery never doubles rows.
    """
    landing = layout.feed_landing(feed.landing_folder)
    loaded_elsewhere = _checksums_in_other_partitions(layout, feed, partition)
    loaded_at = datetime.now(timezone.utc)
    result, tables, seen = RawLoad(), [], {}
    schema = raw_schema(feed)
    for landing_file in files_for_partition(feed, landing, partition):
        name = landing_file.path.relative_to(layout.landing).as_posix()
        checksum = landing_file.sha256()
        earlier = seen.get(checksum) or loaded_elsewhere.get(checksum)
        if earlier:
            result.skipped_duplicates.append(f"{name} (same bytes as {earlier})")
            continue
        seen[checksum] = name
        table = read_landing_file(landing_file.path, feed)
        rows = table.num_rows
        for column, value in ((SOURCE_FILE, name), (FILE_SHA256, checksum), (LOADED_AT, loaded_at), (PARTITION, partition)):
            table = table.append_column(column, pa.repeat(pa.scalar(value, schema.field(column).type), rows))
        tables.append(table.select(schema.names).cast(schema))
        result.files.append(name)
        result.rows += rows
        result.malformed_records += rows - table.column(LOAD_ERROR).null_count
    combined = pa.concat_tables(tables) if tables else schema.empty_table()
    combined = combined.replace_schema_metadata({CHECKSUMS_KEY: json.dumps(sorted(seen)).encode()})
    _write_parquet_atomically(
        lambda path: pq.write_table(combined, path, compression="zstd"),
        layout.partition_file(feed.name, "raw", partition),
    )
    return result


# --- staging ---------------------------------------------------------------------------

def _typed(column: Column) -> str:
    """SQL turning the column's text into its declared type (NULL where it does not parse)."""
    text = f"nullif(trim({quote(column.name)}), '')"
    if column.type == "string":
        return text
    if column.type == "integer":
        return f"TRY_CAST({text} AS BIGINT)"
    if column.type == "decimal":
        return f"TRY_CAST({text} AS DECIMAL(18, 6))"
    if column.type == "float":
        return f"TRY_CAST({text} AS DOUBLE)"
    if column.type == "boolean":
        trues = ", ".join(sql_literal(v.lower()) for v in column.true_values)
        falses = ", ".join(sql_literal(v.lower()) for v in column.false_values)
        return f"CASE WHEN lower({text}) IN ({trues}) THEN true WHEN lower({text}) IN ({falses}) THEN false END"
    zoned = [f for f in column.formats if "%z" in f or "%Z" in f]
    local = [f for f in column.formats if f not in zoned]

    def parse(formats: list[str]) -> str:
        return f"TRY_STRPTIME({text}, [{', '.join(sql_literal(f) for f in formats)}])"

    if column.type == "date":
        return f"CAST({parse(column.formats)} AS DATE)"
    # timestamps without an offset are wall-clock times in London
    candidates = ([parse(zoned)] if zoned else []) + ([f"timezone('{TIMEZONE}', {parse(local)})"] if local else [])
    return candidates[0] if len(candidates) == 1 else f"coalesce({', '.join(candidates)})"


_NORMALISERS = {
    ("person", "forename"): "wmp_name", ("person", "middle_names"): "wmp_name",
    ("person", "surname"): "wmp_name", ("person", "full_name"): "wmp_name",
    ("person", "sex"): "wmp_sex", ("person", "postcode"): "wmp_postcode", ("person", "phone"): "wmp_phone",
    ("person", "pnc_id"): "wmp_pnc", ("person", "cro_number"): "wmp_cro", ("person", "ni_number"): "wmp_ni",
    ("person", "address"): "wmp_address", ("person", "collar_number"): "upper",
    ("vehicle", "registration"): "wmp_vrm", ("vehicle", "make"): "upper", ("vehicle", "model"): "upper",
    ("vehicle", "colour"): "upper",
    ("location", "postcode"): "wmp_postcode", ("location", "address"): "wmp_address",
    ("location", "latitude"): "TRY_CAST", ("location", "longitude"): "TRY_CAST",
}


def _canonical(canonical: str, attribute: str, source: Column) -> str:
    entity = canonical.split("_", 1)[0]
    normaliser = _NORMALISERS.get((entity, attribute))
    value = quote(source.name)
    if normaliser == "TRY_CAST":
        return f"TRY_CAST({value} AS DOUBLE)"
    if normaliser:
        return f"{normaliser}(CAST({value} AS VARCHAR))" if source.type != "string" else f"{normaliser}({value})"
    return value


def _issue_checks(feed: FeedDeclaration) -> list[str]:
    checks = [f"CASE WHEN {LOAD_ERROR} IS NOT NULL THEN 'record: ' || {LOAD_ERROR} END"]
    for column in feed.columns:
        text, typed = quote(f"{column.name}__text"), quote(column.name)
        if column.type != "string":
            expected = f"a {column.type}" + (f" in format {' or '.join(column.formats)}" if column.formats else "")
            checks.append(
                f"CASE WHEN {text} IS NOT NULL AND {typed} IS NULL THEN {sql_literal(f'{column.name}: not {expected}')} END"
            )
        if not column.nullable:
            checks.append(
                f"CASE WHEN {LOAD_ERROR} IS NULL AND {text} IS NULL THEN {sql_literal(f'{column.name}: required value missing')} END"
            )
    return checks


def staging_sql(feed: FeedDeclaration, raw_path: str) -> str:
    """One SELECT from the raw Parquet giving typed columns, POLE columns and each row's issues."""
    typed = ",\n    ".join(
        f"nullif(trim({quote(c.name)}), '') AS {quote(c.name + '__text')}, {_typed(c)} AS {quote(c.name)}"
        for c in feed.columns
    )
    key = "concat_ws('|', " + ", ".join(quote(k + "__text") for k in feed.primary_key) + ")"
    pole = "".join(
        f",\n    {_canonical(canonical, attribute, feed.column(source))} AS {quote(canonical)}"
        for canonical, attribute, source in feed.pole.pole_columns()
    )
    issues = ",\n        ".join(_issue_checks(feed))
    lineage = ", ".join(LINEAGE)
    return f"""
WITH typed AS (
  SELECT {lineage}, {LOAD_ERROR}, {RAW_RECORD},
    {typed}
  FROM read_parquet({sql_literal(raw_path)})
)
SELECT {key} AS {RECORD_KEY}, {lineage}, {LOAD_ERROR}, {RAW_RECORD},
    {", ".join(quote(c.name + "__text") + ", " + quote(c.name) for c in feed.columns)}{pole},
    list_filter([
        {issues}
    ], lambda issue: issue IS NOT NULL) AS {ISSUES}
FROM typed
"""


def stage(
    layout: DataLayout, feed: FeedDeclaration, partition: str, rules: list[Rule] | None = None,
    gate_engine: str = "great_expectations",
) -> StageResult:
    """Type and normalise one raw partition into staged and quarantine, replacing both.

    With rules, the typed rows pass the quality gate (great-expectations, in DuckDB): a row
    breaking an error rule goes to quarantine with the rule's name. The files are written while
    great-expectations validates and put in place, with the gate's results, only once it has
    given its verdict: a gate that cannot decide leaves the partition as it was.
    """
    raw_path = layout.partition_file(feed.name, "raw", partition)
    if not raw_path.exists():
        raise FileNotFoundError(f"{raw_path}: raw partition {partition!r} of feed {feed.name!r} has not been loaded")
    typed_columns = ", ".join(quote(c.name) for c in feed.columns)
    pole = "".join(f", {quote(canonical)}" for canonical, _, _ in feed.pole.pole_columns())
    lineage = ", ".join(LINEAGE)
    staged = f"SELECT {RECORD_KEY}, {lineage}, {typed_columns}{pole} FROM checked WHERE len({ISSUES}) = 0"
    quarantined = (
        f"SELECT {RECORD_KEY}, {lineage}, {ISSUES}, {LOAD_ERROR}, {RAW_RECORD}, "
        + ", ".join(f"{quote(c.name + '__text')} AS {quote(c.name)}" for c in feed.columns)
        + f" FROM checked WHERE len({ISSUES}) > 0"
    )
    outputs = {layout.partition_file(feed.name, "staged", partition): staged,
               layout.partition_file(feed.name, "quarantine", partition): quarantined}
    written: dict[Path, Path] = {}  # each file's temporary, put in place once the gate has its verdict

    def temporary(path: Path) -> str:
        remove_stale_temporaries(path)
        written[path] = temporary_sibling(path)
        return str(written[path])

    def write_outputs() -> None:
        for path, query in outputs.items():
            con.execute(f"COPY ({query}) TO {sql_literal(temporary(path))} (FORMAT parquet, COMPRESSION zstd)")

    with connect() as con:
        to_run = _rules_to_run(con, feed, rules, layout)
        con.execute(f"CREATE TEMP TABLE checked AS {_gated_sql(feed, str(raw_path), to_run)}")
        _flag_and_quarantine(con, feed, to_run)
        try:
            gate = _run_gate(con, feed, rules, layout, gate_engine, write_outputs) if rules else None
            if not written:  # no gate to write them during
                write_outputs()
            if gate is not None:
                pq.write_table(gate_results_table(feed.name, partition, gate),
                               temporary(layout.partition_file(feed.name, "quality", partition)))
            for path, temporary in written.items():  # back to back: the partition's files of one run
                os.replace(temporary, path)
        finally:
            for temporary in written.values():
                temporary.unlink(missing_ok=True)
        raw_rows, staged_rows = con.execute(
            f"SELECT count(*), count(*) FILTER (WHERE len({ISSUES}) = 0) FROM checked"
        ).fetchone()
        issue_counts = dict(
            con.execute(
                f"SELECT split_part(issue, ':', 1) AS field, count(*) FROM "
                f"(SELECT unnest({ISSUES}) AS issue FROM checked) GROUP BY ALL ORDER BY 2 DESC"
            ).fetchall()
        )
    return StageResult(raw_rows, staged_rows, raw_rows - staged_rows, issue_counts, gate)


def gate_results_table(feed: str, partition: str, gate: GateResult) -> pa.Table:
    """One row per rule: what the data-quality mart reads."""
    checked_at = datetime.now(timezone.utc)
    return pa.Table.from_pylist(
        [
            {"feed": feed, "partition": partition, "rule": r.rule.name, "column": r.rule.column,
             "category": r.category, "severity": r.severity, "expectation": r.expectation,
             "rows_checked": r.rows_checked, "rows_failing": r.rows_failing,
             "pass_rate": None if r.skipped_reason else 1 - r.failure_rate, "passed": r.passed,
             "skipped_reason": r.skipped_reason, "checked_at": checked_at}
            for r in gate.results
        ],
        schema=GATE_RESULTS_SCHEMA,
    )


GATE_RESULTS_SCHEMA = pa.schema([
    ("feed", pa.string()), ("partition", pa.string()), ("rule", pa.string()), ("column", pa.string()),
    ("category", pa.string()), ("severity", pa.string()), ("expectation", pa.string()),
    ("rows_checked", pa.int64()), ("rows_failing", pa.int64()), ("pass_rate", pa.float64()), ("passed", pa.bool_()),
    ("skipped_reason", pa.string()), ("checked_at", pa.timestamp("us", tz="UTC")),
])


TYPED = "_typed"  # the row has no typing issue: the quality gate's rules apply to it


def _gated_sql(feed: FeedDeclaration, raw_path: str, to_run: list) -> str:
    """The staging query with the quality gate's row-level rules in the same pass: the rules
    each typed row breaks, as ``_failed_rules``."""
    from wmp_platform.quality.gate import FAILED_RULES, failed_rules_sql

    return f"""
SELECT *, CASE WHEN {TYPED} THEN {failed_rules_sql(to_run)} ELSE []::VARCHAR[] END AS {FAILED_RULES}
FROM (SELECT *, len({ISSUES}) = 0 AS {TYPED} FROM ({staging_sql(feed, raw_path)}))"""


def _flag_and_quarantine(con, feed: FeedDeclaration, to_run: list) -> None:
    """Finish flagging (uniqueness) and add each error rule a row broke to its issues."""
    from wmp_platform.quality.gate import FAILED_RULES, flag_later_copies

    flag_later_copies(con, "checked", to_run, TYPED)
    errors = "[" + ", ".join(sql_literal(rule.name) for rule, _ in to_run if rule.severity == "error") + "]::VARCHAR[]"
    broken = f"list_filter({FAILED_RULES}, lambda name: list_contains({errors}, name))"
    con.execute(f"UPDATE checked SET {ISSUES} = list_concat({ISSUES}, "
                f"list_transform({broken}, lambda name: name || ': broke quality rule')) WHERE len({broken}) > 0")


def _rules_to_run(con, feed: FeedDeclaration, rules: list[Rule] | None, layout: DataLayout) -> list:
    """The rules the gate can run now, each checked to name a staged column; the key sets of
    reference rules ready in con's database."""
    from wmp_platform.quality.gate import GateError, ensure_reference_tables, resolve_rules

    to_run = resolve_rules(rules, layout.lake)[0] if rules else []
    staged_columns = {RECORD_KEY, *LINEAGE, *(c.name for c in feed.columns), *(c for c, _, _ in feed.pole.pole_columns())}
    for rule, _ in to_run:
        if rule.column not in staged_columns:
            raise GateError(f"feed {feed.name!r}, rule {rule.name!r}: the staged rows have no column {rule.column!r}")
    ensure_reference_tables(con, to_run)
    return to_run


def _run_gate(con, feed: FeedDeclaration, rules: list[Rule], layout: DataLayout, engine: str, meanwhile):
    """The quality gate's results over the typed rows, whose failing rules staging flagged
    (``meanwhile``: see ``run_gate``)."""
    from wmp_platform.quality import personal_columns, run_gate

    con.execute(f"CREATE OR REPLACE TEMP VIEW candidates AS SELECT * FROM checked WHERE {TYPED}")
    return run_gate(
        "candidates", rules, layout.lake, personal_columns=personal_columns(feed),
        max_failure_rate=feed.quality.max_failure_rate, min_failing_rows=feed.quality.min_failing_rows,
        engine=engine, con=con, flagged=True, meanwhile=meanwhile,
    )


def count_rows(path: Path) -> int:
    return pq.ParquetFile(path).metadata.num_rows if path.exists() else 0
