"""The quality gate: run a feed's rules over one staged Parquet file, in-database.

great-expectations validates the file where it lies, through DuckDB (SQLAlchemy engine,
query asset over ``read_parquet``), and reports every failing row by its record key and
lineage (source file, row number). Rows that break an error rule are the ones to quarantine.
``run_rules_in_sql`` computes the same failing counts in one plain DuckDB query, as a
yardstick for the gate's cost.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from wmp_platform.ingest import RECORD_KEY, SOURCE_FILE, connect, count_rows
from wmp_platform.quality.rules import BETWEEN, EXISTS_IN_FEED, IDENTIFIER_MACROS, IN_SET, UNIQUE, Rule
from wmp_platform.readers import ROW_NUMBER
from wmp_platform.sql import quote, sql_literal

INDEX_COLUMNS = [RECORD_KEY, SOURCE_FILE, ROW_NUMBER]
RowId = tuple[str, int]  # (_source_file, _row_number): one staged row, even when its key is duplicated

RESULT_FORMAT = {
    "result_format": "COMPLETE",
    "unexpected_index_column_names": INDEX_COLUMNS,
    # On SQL, GX cuts unexpected_index_list to partial_unexpected_count even under COMPLETE.
    "partial_unexpected_count": 10**9,
    "return_unexpected_index_query": False,
}


class GateError(RuntimeError):
    """great-expectations could not evaluate a rule (a bad declared rule, a missing column)."""


@dataclass
class RuleResult:
    """What one rule found in the file."""

    rule: Rule
    rows_checked: int = 0
    rows_failing: int = 0
    failing_keys: list[str] = field(default_factory=list)  # _record_key of each failing row
    failing_rows: list[RowId] = field(default_factory=list)
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
    """Every rule's result over one staged file of ``rows`` rows."""

    rows: int
    results: list[RuleResult]

    def broken_rules_by_row(self) -> dict[RowId, list[str]]:
        """The error rules each failing row broke: the rows to quarantine, with their reasons."""
        broken: dict[RowId, list[str]] = {}
        for result in self.results:
            if result.severity == "error":
                for row in result.failing_rows:
                    broken.setdefault(row, []).append(result.rule.name)
        return broken

    def result(self, name: str) -> RuleResult:
        """The result of the rule called name."""
        return next(r for r in self.results if r.rule.name == name)


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


def _mask(value: Any) -> Any:
    return None if value is None else str(value)[:1] + "***"


def _all_but_first(entries: list[dict[str, Any]], column: str) -> list[dict[str, Any]]:
    """GX fails every copy of a duplicated value; the first copy (entries come in lineage
    order) is the one to keep, so only the others fail."""
    seen, later = set(), []
    for entry in entries:
        value = entry.get(column)
        if value in seen:
            later.append(entry)
        seen.add(value)
    return later


def run_gate(
    staged_path: Path,
    rules: list[Rule],
    lake_dir: Path | None = None,
    sample_size: int = 5,
    personal_columns: Collection[str] = (),
) -> GateResult:
    """Validate one staged Parquet file against the rules with great-expectations, in DuckDB.

    Every failing row is reported (keys and lineage), with a sample of the first few in which
    the values of ``personal_columns`` are masked. A reference to another feed is checked
    against that feed's staged files under ``lake_dir`` and skipped while it has none. For a
    uniqueness rule, the first copy of each value (lowest source file and row number) passes,
    so quarantining the failures keeps exactly one. An empty file passes without running GX.
    """
    rows = count_rows(Path(staged_path))
    resolved = {rule.name: _resolve(rule, lake_dir) for rule in rules}
    to_run = [(rule, resolved[rule.name][0]) for rule in rules if not resolved[rule.name][1]]
    failing = _validate(Path(staged_path), to_run) if rows and to_run else {}
    results = []
    for rule in rules:
        skipped = resolved[rule.name][1]
        if skipped:
            results.append(RuleResult(rule, skipped_reason=skipped))
            continue
        entries = sorted(failing.get(rule.name, []), key=lambda e: (e[SOURCE_FILE], e[ROW_NUMBER]))
        if rule.expectation == UNIQUE:
            entries = _all_but_first(entries, rule.column)
        masked = rule.column in personal_columns and rule.column not in INDEX_COLUMNS
        results.append(RuleResult(
            rule,
            rows_checked=rows,
            rows_failing=len(entries),
            failing_keys=[e[RECORD_KEY] for e in entries],
            failing_rows=[(e[SOURCE_FILE], e[ROW_NUMBER]) for e in entries],
            sample=[
                {**{c: e[c] for c in INDEX_COLUMNS},
                 rule.column: _mask(e.get(rule.column)) if masked else e.get(rule.column)}
                for e in entries[:sample_size]
            ],
        ))
    return GateResult(rows, results)


def _validate(path: Path, rules: list[tuple[Rule, dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """Rule name -> its failing rows as GX reports them (index columns and the rule's column)."""
    from wmp_platform.quality.gx_duckdb import enable_duckdb  # first: it turns GX analytics off

    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.expectations.registry import get_expectation_impl

    enable_duckdb()
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_sql("staged", connection_string="duckdb:///:memory:")
    asset = source.add_query_asset("rows", query=f"SELECT * FROM read_parquet({sql_literal(str(path))})")
    suite = gx.ExpectationSuite(name="quality_gate", expectations=[
        get_expectation_impl(rule.expectation)(column=rule.column, meta={"rule": rule.name}, **kwargs)
        for rule, kwargs in rules
    ])
    # Batch.validate rather than a ValidationDefinition: the latter also serialises every
    # failing row into the context's results store, which costs more than the validation.
    batch = asset.add_batch_definition_whole_table("all").get_batch()
    failing = {}
    for outcome in batch.validate(suite, result_format=RESULT_FORMAT).results:
        name = outcome.expectation_config.meta["rule"]
        problem = _exception_message(outcome.exception_info)
        if problem:
            raise GateError(f"rule {name!r} could not be evaluated: {problem}")
        entries = outcome.result.get("unexpected_index_list") or []
        if len(entries) != outcome.result.get("unexpected_count", 0):
            raise GateError(f"rule {name!r}: GX listed {len(entries)} of {outcome.result['unexpected_count']} failing rows")
        failing[name] = entries
    return failing


def _exception_message(info: dict[str, Any]) -> str | None:
    """GX's message for a failed expectation: one exception, or one per metric that failed."""
    if "raised_exception" in info:
        return info["exception_message"] if info["raised_exception"] else None
    return "; ".join(str(metric.get("exception_message")) for metric in info.values()) or None


# --- the same rules in plain SQL --------------------------------------------------------

def _literal(value: Any) -> str:
    if isinstance(value, str):
        return sql_literal(value)
    if isinstance(value, datetime):
        return f"TIMESTAMP {sql_literal(value.isoformat())}"
    if hasattr(value, "isoformat"):
        return f"DATE {sql_literal(value.isoformat())}"
    return repr(value)


def _passes(rule: Rule, kwargs: dict[str, Any]) -> str:
    """SQL true for a non-null value the rule accepts."""
    column = quote(rule.column)
    if rule.expectation in IDENTIFIER_MACROS:
        return f"{IDENTIFIER_MACROS[rule.expectation]}({column})"
    if rule.expectation == BETWEEN:
        bounds = []
        if kwargs.get("min_value") is not None:
            bounds.append(f"{column} {'>' if kwargs.get('strict_min') else '>='} {_literal(kwargs['min_value'])}")
        if kwargs.get("max_value") is not None:
            bounds.append(f"{column} {'<' if kwargs.get('strict_max') else '<='} {_literal(kwargs['max_value'])}")
        return " AND ".join(bounds) or "true"
    if rule.expectation == IN_SET:
        return f"{column} IN ({', '.join(map(_literal, kwargs['value_set']))})"
    if rule.expectation == EXISTS_IN_FEED:
        values = f"SELECT {quote(kwargs['parquet_column'])} FROM read_parquet({sql_literal(kwargs['parquet'])})"
        return f"{column} IN ({values})"
    if rule.expectation == "expect_column_values_to_match_regex":
        return f"regexp_matches({column}, {sql_literal(kwargs['regex'])})"
    if rule.expectation == "expect_column_values_to_not_match_regex":
        return f"NOT regexp_matches({column}, {sql_literal(kwargs['regex'])})"
    raise NotImplementedError(f"rule {rule.name!r}: no SQL twin for {rule.expectation}")


def _failing_count(rule: Rule, kwargs: dict[str, Any]) -> str:
    column = quote(rule.column)
    if rule.expectation == UNIQUE:
        return f"count({column}) - count(DISTINCT {column})"  # every copy but the first, as the gate counts
    if rule.expectation == "expect_column_values_to_not_be_null":
        return f"count(*) FILTER (WHERE {column} IS NULL)"
    return f"count(*) FILTER (WHERE {column} IS NOT NULL AND NOT coalesce({_passes(rule, kwargs)}, false))"


def run_rules_in_sql(staged_path: Path, rules: list[Rule], lake_dir: Path | None = None) -> dict[str, int]:
    """Rule name -> failing rows, computed by one DuckDB SELECT over the file; skipped rules
    are left out. The plain-SQL twin of ``run_gate``, for comparing cost."""
    resolved = {rule.name: (rule, _resolve(rule, lake_dir)[0]) for rule in rules}
    counts = [f"{_failing_count(rule, kwargs)} AS {quote(name)}" for name, (rule, kwargs) in resolved.items()
              if kwargs is not None]
    if not counts:
        return {}
    with connect() as con:
        cursor = con.execute(f"SELECT {', '.join(counts)} FROM read_parquet({sql_literal(str(staged_path))})")
        names = [d[0] for d in cursor.description]
        return dict(zip(names, cursor.fetchone()))
