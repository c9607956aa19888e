"""The quality gate: a feed's rules over the rows about to be staged, in DuckDB.

Two engines evaluate every rule on the same rows:

- **plain SQL**, in the staging query's own pass (``failed_rules_sql``; uniqueness just after,
  ``flag_later_copies``), names the rules each row breaks: the rows to quarantine (those breaking an error rule), the counts, and a sample
  for people to look at.
- **great-expectations** validates the rows as an expectation suite, in-database (SQLAlchemy
  through duckdb-engine), each expectation asked to pass the share of the values it considers
  that leaves at most ``max_failure_rate`` of all rows failing (``_least_share``), and gives
  the verdict shown in Dagster. A rule GX fails must have failing rows in SQL, or the gate
  stops (``GateError``): the two forms of a rule cannot drift apart unnoticed.

Why GX does not find the rows itself: on SQL it lists failing rows with several queries per
expectation and carries every row through Python; at 10 million rows that cost 20 times the
SQL. Asked only for its verdict, GX runs one query for the whole suite (uniqueness included, as
the share of distinct values), in a thread of its own while staging writes its files.

``engine="sql"`` skips great-expectations (the verdict then comes from the SQL counts), the
yardstick the gate's benchmark measures it against.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa

from wmp_platform.ingest import RECORD_KEY, SOURCE_FILE, connect
from wmp_platform.quality.references import VALUE, ensure_reference_table, reference_table_name
from wmp_platform.quality.rules import BETWEEN, EXISTS_IN_FEED, IDENTIFIER_MACROS, IN_SET, NOT_NULL, UNIQUE, Rule
from wmp_platform.readers import ROW_NUMBER
from wmp_platform.sql import quote, sql_literal

INDEX_COLUMNS = [RECORD_KEY, SOURCE_FILE, ROW_NUMBER]
FAILED_RULES = "_failed_rules"
Engine = Literal["great_expectations", "sql"]
GX_DATABASE = "wmp_quality_gate"
GATE_ROWS = "gate_rows"  # the table great-expectations validates, replaced for each validation
UNIQUE_SHARE = "expect_column_proportion_of_unique_values_to_be_between"  # how GX validates UNIQUE (see _Validator)


class GateError(RuntimeError):
    """A rule could not be evaluated (a bad declared rule, a missing column), or the two engines disagree."""


@dataclass
class RuleResult:
    """What one rule found in the rows."""

    rule: Rule
    rows_checked: int = 0
    rows_failing: int = 0  # for uniqueness, every copy after the first (the rows quarantined)
    passed: bool = True
    sample: list[dict[str, Any]] = field(default_factory=list)  # first failing rows, personal values masked
    skipped_reason: str | None = None

    @property
    def failure_rate(self) -> float:
        return self.rows_failing / self.rows_checked if self.rows_checked else 0.0

    @property
    def expectation(self) -> str:
        return self.rule.expectation

    @property
    def severity(self) -> str:
        return self.rule.severity

    @property
    def category(self) -> str:
        return self.rule.category


@dataclass
class GateResult:
    """Every rule's result over ``rows`` rows, and the failing rows: lineage and the rules each broke."""

    rows: int
    results: list[RuleResult]
    failures: pa.Table  # _record_key, _source_file, _row_number, _failed_rules (list of rule names)

    def result(self, name: str) -> RuleResult:
        """The result of the rule called name."""
        return next(r for r in self.results if r.rule.name == name)

    def failing_keys(self, name: str) -> list[str]:
        """The record keys of the rows that broke the rule called name, in lineage order."""
        return [row[RECORD_KEY] for row in self.failures.to_pylist() if name in row[FAILED_RULES]]


def _resolve(rule: Rule, lake_dir: Path | None) -> tuple[dict[str, Any] | None, str | None]:
    """The expectation's kwargs, or why the rule is skipped. A reference names another feed;
    it becomes that feed's staged files under lake_dir."""
    if rule.expectation != EXISTS_IN_FEED:
        return rule.kwargs, None
    feed = rule.kwargs["feed"]
    if lake_dir is None:
        return None, f"refers to feed {feed!r}, but no lake directory was given"
    staged = Path(lake_dir) / feed / "staged"
    if not any(staged.glob("*.parquet")):
        return None, f"feed {feed!r} has no staged files yet"
    return {"parquet": str(staged / "*.parquet"), "parquet_column": rule.kwargs["feed_column"]}, None


def resolve_rules(rules: list[Rule], lake_dir: Path | None) -> tuple[list[tuple[Rule, dict[str, Any]]], dict[str, str]]:
    """The rules to run with their expectation kwargs, and why each of the others is skipped."""
    resolved = {rule.name: _resolve(rule, lake_dir) for rule in rules}
    to_run = [(rule, resolved[rule.name][0]) for rule in rules if not resolved[rule.name][1]]
    return to_run, {name: skipped for name, (_, skipped) in resolved.items() if skipped}


def ensure_reference_tables(con, rules: list[tuple[Rule, dict[str, Any]]]) -> None:
    """Build (or refresh) in con's database the key sets the reference rules check against."""
    for rule, kwargs in rules:
        if rule.expectation == EXISTS_IN_FEED:
            ensure_reference_table(lambda sql: con.execute(sql).fetchall(), kwargs["parquet"], kwargs["parquet_column"])


def failed_rules_sql(rules: list[tuple[Rule, dict[str, Any]]]) -> str:
    """SQL for the list of the names of the row-level rules a row breaks (uniqueness, which
    needs the other rows, is ``flag_later_copies``'s). Reference rules read the key sets
    ``ensure_reference_tables`` keeps in the database."""
    flags = ", ".join(f"CASE WHEN {_fails(rule, kwargs)} THEN {sql_literal(rule.name)} END"
                      for rule, kwargs in rules if rule.expectation != UNIQUE)
    return f"list_filter([{flags}], lambda name: name IS NOT NULL)" if flags else "[]::VARCHAR[]"


def flag_later_copies(con, table: str, rules: list[tuple[Rule, dict[str, Any]]], scope: str = "true") -> None:
    """Add each uniqueness rule to the ``_failed_rules`` of every copy after the first (lowest
    source file and row number) among the rows of ``table`` where ``scope`` holds. The window
    runs over three columns and only the copies are updated: sorting whole rows costs more
    than the rest of the gate."""
    for rule, _ in rules:
        if rule.expectation != UNIQUE:
            continue
        column = quote(rule.column)
        con.execute(f"""
            UPDATE {table} SET {FAILED_RULES} = list_append({FAILED_RULES}, {sql_literal(rule.name)})
            FROM (
                SELECT {SOURCE_FILE}, {ROW_NUMBER} FROM (
                    SELECT {SOURCE_FILE}, {ROW_NUMBER},
                           row_number() OVER (PARTITION BY {column} ORDER BY {SOURCE_FILE}, {ROW_NUMBER}) AS copy
                    FROM {table} WHERE {scope} AND {column} IS NOT NULL
                ) WHERE copy > 1
            ) later
            WHERE {table}.{SOURCE_FILE} = later.{SOURCE_FILE} AND {table}.{ROW_NUMBER} = later.{ROW_NUMBER}""")


def run_gate(
    rows: Path | str,
    rules: list[Rule],
    lake_dir: Path | None = None,
    sample_size: int = 5,
    personal_columns: Collection[str] = (),
    max_failure_rate: float = 0.0,
    min_failing_rows: int = 1,
    engine: Engine = "great_expectations",
    con=None,
    flagged: bool = False,
    meanwhile: Callable[[], None] | None = None,
) -> GateResult:
    """Evaluate the rules over ``rows``: a Parquet file, or the name of a table or view in ``con``;
    ``flagged`` when it already has the ``_failed_rules`` column (``failed_rules_sql``), as
    staging computes it in its own pass.

    A rule passes when at most ``max_failure_rate`` of the rows it checks break it, or fewer
    than ``min_failing_rows`` do. A reference to another feed is checked against that feed's
    staged files under ``lake_dir`` and skipped while it has none. For uniqueness the first
    copy of each value (lowest source file and row number) passes, so quarantining the failures
    keeps exactly one. The sample masks the values of ``personal_columns``.

    ``meanwhile``: more work on ``con`` (staging writes its files), done while great-expectations
    validates in a thread of its own: GX spends most of its time in Python and DuckDB's work runs
    without the interpreter lock, so the two overlap.
    """
    if con is None:
        with connect() as con:
            return run_gate(rows, rules, lake_dir, sample_size, personal_columns, max_failure_rate, min_failing_rows,
                            engine, con, flagged, meanwhile)
    source = f"read_parquet({sql_literal(str(rows))})" if isinstance(rows, Path) else quote(rows)
    to_run, skipped = resolve_rules(rules, lake_dir)
    present = {name for name, *_ in con.sql(f"DESCRIBE SELECT * FROM {source}").fetchall()}
    for rule, _ in to_run:
        if rule.column not in present:
            raise GateError(f"rule {rule.name!r} could not be evaluated: the rows have no column {rule.column!r}")
    if not flagged:
        ensure_reference_tables(con, to_run)
        con.execute(f"CREATE OR REPLACE TEMP TABLE gate_flagged AS SELECT *, {failed_rules_sql(to_run)} AS {FAILED_RULES} "
                    f"FROM {source}")
        flag_later_copies(con, "gate_flagged", to_run)
        source = "gate_flagged"
    count = con.sql(f"SELECT count(*) FROM {source}").fetchall()[0][0]
    validation = None
    if engine == "great_expectations" and count and to_run:
        columns = ", ".join(quote(c) for c in dict.fromkeys(r.column for r, _ in to_run))
        validation = _Validator.submit(con.sql(f"SELECT {columns} FROM {source}").to_arrow_table(),  # what the rules read
                                       to_run, max_failure_rate)
    try:
        failing = dict(con.sql(f"SELECT name, count(*) FROM (SELECT unnest({FAILED_RULES}) AS name FROM {source}) "
                               "GROUP BY ALL").fetchall())
        failures = con.sql(f"SELECT {', '.join(INDEX_COLUMNS)}, {FAILED_RULES} FROM {source} "
                           f"WHERE len({FAILED_RULES}) > 0 ORDER BY {SOURCE_FILE}, {ROW_NUMBER}").to_arrow_table()
        samples = {rule.name: _sample(con, source, rule, sample_size,
                                      rule.column in personal_columns and rule.column not in INDEX_COLUMNS)
                   for rule, _ in to_run if failing.get(rule.name)}
        if meanwhile is not None:
            meanwhile()
    except BaseException:
        if validation is not None:
            wait([validation])  # nothing left running behind the error
        raise
    verdicts = (
        _verdicts(validation.result(), failing) if validation is not None
        else {rule.name: failing.get(rule.name, 0) <= max_failure_rate * count for rule, _ in to_run}
    )
    results = []
    for rule in rules:
        if rule.name in skipped:
            results.append(RuleResult(rule, skipped_reason=skipped[rule.name]))
            continue
        results.append(RuleResult(
            rule, rows_checked=count, rows_failing=failing.get(rule.name, 0),
            passed=verdicts[rule.name] or failing.get(rule.name, 0) < min_failing_rows,
            sample=samples.get(rule.name, []),
        ))
    return GateResult(count, results, failures)


def _mask(value: Any) -> Any:
    return None if value is None else str(value)[:1] + "***"


def _sample(con, source: str, rule: Rule, size: int, masked: bool) -> list[dict[str, Any]]:
    """The first failing rows of the rule: lineage and the rule's column."""
    rows = con.sql(f"""
        SELECT {', '.join(INDEX_COLUMNS)}, {quote(rule.column)} FROM {source}
        WHERE list_contains({FAILED_RULES}, {sql_literal(rule.name)})
        ORDER BY {SOURCE_FILE}, {ROW_NUMBER} LIMIT {int(size)}
    """).fetchall()
    return [
        {**dict(zip(INDEX_COLUMNS, row[:3])), rule.column: _mask(row[3]) if masked else row[3]} for row in rows
    ]


# --- the rules in SQL --------------------------------------------------------------------

def _literal(value: Any) -> str:
    if isinstance(value, str):
        return sql_literal(value)
    if isinstance(value, datetime):
        return f"TIMESTAMP {sql_literal(value.isoformat())}"
    if hasattr(value, "isoformat"):
        return f"DATE {sql_literal(value.isoformat())}"
    return repr(value)


def _bounds(value: str, kwargs: dict[str, Any]) -> str:
    bounds = []
    if kwargs.get("min_value") is not None:
        bounds.append(f"{value} {'>' if kwargs.get('strict_min') else '>='} {_literal(kwargs['min_value'])}")
    if kwargs.get("max_value") is not None:
        bounds.append(f"{value} {'<' if kwargs.get('strict_max') else '<='} {_literal(kwargs['max_value'])}")
    return " AND ".join(bounds) or "true"


def _passes(rule: Rule, kwargs: dict[str, Any]) -> str:
    """SQL true for a non-null value the rule accepts, as great-expectations decides it."""
    column = quote(rule.column)
    expectation = rule.expectation
    if expectation in IDENTIFIER_MACROS:
        return f"{IDENTIFIER_MACROS[expectation]}({column})"
    if expectation == BETWEEN:
        return _bounds(column, kwargs)
    if expectation == "expect_column_value_lengths_to_be_between":
        return _bounds(f"length({column})", kwargs)
    if expectation in (IN_SET, "expect_column_values_to_not_be_in_set"):
        found = f"{column} IN ({', '.join(map(_literal, kwargs['value_set']))})"
        return found if expectation == IN_SET else f"NOT ({found})"
    if expectation == EXISTS_IN_FEED:
        return f"{column} IN (SELECT {VALUE} FROM {reference_table_name(kwargs['parquet'], kwargs['parquet_column'])})"
    if expectation == "expect_column_values_to_match_regex":
        return f"regexp_matches({column}, {sql_literal(kwargs['regex'])})"
    if expectation == "expect_column_values_to_not_match_regex":
        return f"NOT regexp_matches({column}, {sql_literal(kwargs['regex'])})"
    raise GateError(f"rule {rule.name!r}: the gate has no SQL form for {expectation}")


def _fails(rule: Rule, kwargs: dict[str, Any]) -> str:
    """SQL true for a row that breaks the (row-level) rule."""
    column = quote(rule.column)
    if rule.expectation == NOT_NULL:
        return f"{column} IS NULL"
    return f"{column} IS NOT NULL AND NOT coalesce({_passes(rule, kwargs)}, false)"


# --- great-expectations --------------------------------------------------------------------

_VALIDATION_THREAD = ThreadPoolExecutor(1, thread_name_prefix="great-expectations")  # one thread: validations one at a time


class _Validator:
    """One great-expectations context and DuckDB data source per process, reused for every
    validation: building them costs more than validating a partition."""

    _instance: _Validator | None = None

    def __init__(self) -> None:
        from wmp_platform.quality.gx_duckdb import enable_duckdb  # first: it turns GX analytics off

        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig
        from great_expectations.expectations.registry import get_expectation_impl

        enable_duckdb()
        self.gx, self.expectation = gx, get_expectation_impl
        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        # A named in-memory database: GX opens connections of its own, and all of them see it.
        self.source = context.data_sources.add_sql("gate", connection_string=f"duckdb:///:memory:{GX_DATABASE}")
        # One asset and batch definition for every validation, over a table each validation
        # replaces: GX reads the columns of a query asset afresh for every batch it validates,
        # and adding and deleting assets rewrites the context's configuration each time.
        self.batch_definition = self.source.add_query_asset(
            GATE_ROWS, query=f"SELECT * FROM {GATE_ROWS}").add_batch_definition_whole_table("all")

    @classmethod
    def submit(cls, rows: pa.Table, rules: list[tuple[Rule, dict[str, Any]]], max_failure_rate: float) -> Future:
        """Validate ``rows`` (Arrow) against the rules' expectations in the validation thread, where
        validations run one at a time; the outcomes come with ``result()``."""
        return _VALIDATION_THREAD.submit(cls._validate_once, rows, rules, max_failure_rate)

    @classmethod
    def _validate_once(cls, rows: pa.Table, rules: list[tuple[Rule, dict[str, Any]]], max_failure_rate: float) -> list:
        if cls._instance is None:
            cls._instance = cls()
        return cls._instance._validate(rows, rules, max_failure_rate)

    def _replace_rows(self, rows: pa.Table | None) -> None:
        """Put ``rows`` in the table GX validates (None: drop it), through the connection GX
        queries with, and commit: a transaction begun before would still see the table before."""
        with self.source.get_execution_engine().get_connection() as connection:
            if rows is None:
                connection.exec_driver_sql(f"DROP TABLE IF EXISTS {GATE_ROWS}")
            else:
                duckdb_connection = connection.connection.driver_connection
                duckdb_connection.register("arrow_rows", rows)
                try:  # copied in once: GX reads the table several times (its columns, row count, the suite)
                    connection.exec_driver_sql(f"CREATE OR REPLACE TABLE {GATE_ROWS} AS SELECT * FROM arrow_rows")
                finally:
                    duckdb_connection.unregister("arrow_rows")
            connection.commit()

    def _expectation(self, rule: Rule, kwargs: dict[str, Any], max_failure_rate: float, rows: pa.Table):
        meta, least = {"rule": rule.name}, _least_share(rule, max_failure_rate, rows)
        try:
            if rule.expectation == UNIQUE:
                # Uniqueness as the share of distinct values among the non-null ones: one minus the share
                # of later copies there, which the SQL form quarantines, and an aggregate GX computes in
                # the suite's one query (its own uniqueness expectation runs a query of its own, a third
                # of the suite's time on a large partition, and counts the first copy too).
                return self.expectation(UNIQUE_SHARE)(column=rule.column, min_value=least, meta=meta)
            return self.expectation(rule.expectation)(column=rule.column, mostly=least, meta=meta, **kwargs)
        except Exception as error:  # GX checks an expectation's arguments when it is made
            raise GateError(f"rule {rule.name!r}: great-expectations refuses {rule.expectation} with {kwargs}: "
                            f"{error}") from error

    def _validate(self, rows: pa.Table, rules: list[tuple[Rule, dict[str, Any]]], max_failure_rate: float) -> list:
        suite = self.gx.ExpectationSuite(name="quality_gate", expectations=[
            self._expectation(rule, kwargs, max_failure_rate, rows) for rule, kwargs in rules])
        self._replace_rows(rows)
        try:
            # Batch.validate rather than a ValidationDefinition, which would also store the results.
            return self.batch_definition.get_batch().validate(suite, result_format="BOOLEAN_ONLY").results
        finally:
            self._replace_rows(None)  # not held between partitions


def _least_share(rule: Rule, max_failure_rate: float, rows: pa.Table) -> float:
    """The share of the values it considers that GX must find good for the SQL verdict to pass:
    at most ``max_failure_rate`` of all the rows failing. GX counts shares of the non-null values
    (of all rows for not-null), so the share is taken of that count; a column with no value
    passes. The small margin keeps a count exactly at the tolerance passing despite rounding."""
    considered = rows.num_rows - (0 if rule.expectation == NOT_NULL else rows.column(rule.column).null_count)
    return max(0.0, 1 - max_failure_rate * rows.num_rows / considered - 1e-12) if considered else 0.0


def _verdicts(outcomes: list, failing: dict[str, int]) -> dict[str, bool]:
    """Rule name -> great-expectations' verdict; a rule GX fails must have failing rows in SQL."""
    verdicts = {}
    for outcome in outcomes:
        name = outcome.expectation_config.meta["rule"]
        problem = _exception_message(outcome.exception_info)
        if problem:
            raise GateError(f"rule {name!r} could not be evaluated: {problem}")
        if not outcome.success and not failing.get(name):
            raise GateError(f"rule {name!r}: great-expectations fails it, but its SQL form finds no failing row")
        verdicts[name] = outcome.success
    return verdicts


def _exception_message(info: dict[str, Any]) -> str | None:
    """GX's message for a failed expectation: one exception, or one per metric that failed."""
    if "raised_exception" in info:
        return info["exception_message"] if info["raised_exception"] else None
    return "; ".join(str(metric.get("exception_message")) for metric in info.values()) or None
