"""Write, audit, publish.

A mart is written into a scratch schema of its own (``scratch_<mart>``), audited there, and only
when every audit passes copied into the ``marts`` schema in one transaction. A failing audit
raises MartAuditFailed and leaves the last published version serving; the scratch schema stays
for inspection until the next build replaces it.

Audits are SQL: each query returns one row per problem (its first column says what is wrong), so
no rows means passed. Every table gets three generic audits (it has rows; its key columns are never
null; they are unique together); a mart adds its own in ``<mart>_audits.sql`` beside its SQL, as
blocks headed ``-- audit: <name>: <what it checks>``.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from wmp_platform.marts.reference import ReferenceTable
from wmp_platform.sql import quote, sql_literal

SQL_DIR = Path(__file__).resolve().parent
PUBLISHED_SCHEMA = "marts"
PUBLISHED_LOG = "published_marts"  # marts.published_marts: what was published when, per table
_AUDIT_HEADER = re.compile(r"^-- audit: *([a-z0-9_]+): *(.+)$", re.MULTILINE)
_PROBLEMS_SHOWN = 5


@dataclass(frozen=True)
class MartTable:
    """A table the mart publishes: its name in the marts schema and the columns that identify a row."""

    name: str
    keys: tuple[str, ...]
    description: str


@dataclass(frozen=True)
class Mart:
    """A mart: <name>.sql builds its tables into {schema}; <name>_audits.sql (optional) audits them.

    `requires` are the tables or views the SQL reads (checked first, for a clear error);
    reference tables are loaded into the scratch schema before the SQL and published with it.
    Restricted marts hold person-level data.
    """

    name: str
    tables: tuple[MartTable, ...]
    requires: tuple[str, ...]
    references: tuple[ReferenceTable, ...] = ()
    restricted: bool = False
    description: str = ""

    @property
    def scratch(self) -> str:
        return f"scratch_{self.name}"

    def table(self, name: str) -> MartTable:
        return next(t for t in self.tables if t.name == name)


@dataclass(frozen=True)
class AuditResult:
    name: str
    description: str
    problems: list[str]
    problem_count: int

    @property
    def passed(self) -> bool:
        return self.problem_count == 0


class MartAuditFailed(RuntimeError):
    """A mart failed its audits: nothing was published."""

    def __init__(self, mart: Mart, results: list[AuditResult]):
        self.mart = mart
        self.results = results
        failed = [r for r in results if not r.passed]
        lines = [(f"mart {mart.name!r} not published: {len(failed)} of {len(results)} audits failed "
                  f"(the last good version stays in {PUBLISHED_SCHEMA}; the candidate is in {mart.scratch})")]
        for result in failed:
            lines.append(f"  {result.name} ({result.description}): {result.problem_count} problem(s), e.g. "
                         + "; ".join(result.problems))
        super().__init__("\n".join(lines))

    @property
    def failed(self) -> list[AuditResult]:
        return [r for r in self.results if not r.passed]


@dataclass
class PublishedMart:
    mart: Mart
    rows: dict[str, int]  # per published table, reference tables included
    columns: dict[str, list[tuple[str, str]]]  # per published table: (name, DuckDB type)
    audits: list[AuditResult]
    published_at: datetime
    seconds: dict[str, float] = field(default_factory=dict)  # write, audit, publish

    def audits_markdown(self) -> str:
        """The audits as a Markdown table (for metadata)."""
        lines = ["| audit | checks | result |", "|---|---|---|"]
        lines += [f"| {a.name} | {a.description} | {'passed' if a.passed else f'{a.problem_count} problems'} |"
                  for a in self.audits]
        return "\n".join(lines)


def _sql(name: str, schema: str, parameters: dict[str, str]) -> str:
    text = (SQL_DIR / name).read_text()
    for key, value in {"schema": quote(schema), **parameters}.items():
        text = text.replace("{" + key + "}", value)
    return text


def _relation_exists(con: duckdb.DuckDBPyConnection, qualified: str) -> bool:
    schema, name = qualified.split(".")
    return bool(con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name = ? AND database_name = current_database()",
        [schema, name]).fetchone()[0] or con.execute(
        "SELECT count(*) FROM duckdb_views() WHERE schema_name = ? AND view_name = ? AND database_name = current_database()",
        [schema, name]).fetchone()[0])


def write_mart(con: duckdb.DuckDBPyConnection, mart: Mart, parameters: dict[str, str] | None = None) -> str:
    """Build the mart's tables (and load its reference tables) into a fresh scratch schema; its name."""
    missing = [r for r in mart.requires if not _relation_exists(con, r)]
    if missing:
        raise LookupError(f"mart {mart.name!r} reads {', '.join(missing)}, which the warehouse does not have yet")
    schema = mart.scratch
    con.execute(f"DROP SCHEMA IF EXISTS {quote(schema)} CASCADE")
    con.execute(f"CREATE SCHEMA {quote(schema)}")
    for reference in mart.references:
        reference.load(con, schema)
    con.execute(_sql(f"{mart.name}.sql", schema, parameters or {}))
    return schema


def _generic_audits(mart: Mart, schema: str) -> list[tuple[str, str, str]]:
    audits = []
    for table in mart.tables:
        name = f"{quote(schema)}.{quote(table.name)}"
        keys = ", ".join(quote(k) for k in table.keys)
        audits.append((f"{table.name}_has_rows", f"{table.name} has rows",
                       f"SELECT '{table.name} is empty' WHERE NOT EXISTS (SELECT 1 FROM {name})"))
        nulls = " OR ".join(f"{quote(k)} IS NULL" for k in table.keys)
        audits.append((f"{table.name}_keys_not_null", f"no key of {table.name} ({', '.join(table.keys)}) is null",
                       f"SELECT 'null key: ' || CAST(ROW({keys}) AS VARCHAR) FROM {name} WHERE {nulls}"))
        audits.append((f"{table.name}_keys_unique", f"({', '.join(table.keys)}) identifies one row of {table.name}",
                       (f"SELECT 'repeated key: ' || CAST(ROW({keys}) AS VARCHAR) || ' x' || count(*) FROM {name} "
                        f"GROUP BY {keys} HAVING count(*) > 1")))
    return audits


def _declared_audits(mart: Mart, schema: str, parameters: dict[str, str]) -> list[tuple[str, str, str]]:
    path = SQL_DIR / f"{mart.name}_audits.sql"
    if not path.exists():
        return []
    text = _sql(path.name, schema, parameters)
    headers = list(_AUDIT_HEADER.finditer(text))
    audits = []
    for header, following in zip(headers, [*headers[1:], None]):
        body = text[header.end(): following.start() if following else len(text)].strip().rstrip(";").strip()
        audits.append((header.group(1), header.group(2).strip(), body))
    return audits


def audit_mart(con: duckdb.DuckDBPyConnection, mart: Mart, parameters: dict[str, str] | None = None) -> list[AuditResult]:
    """Run every audit on the mart's scratch schema."""
    schema = mart.scratch
    results = []
    for name, description, query in _generic_audits(mart, schema) + _declared_audits(mart, schema, parameters or {}):
        try:
            count, sample = con.execute(
                f"SELECT count(*), list(CAST(p AS VARCHAR))[1:{_PROBLEMS_SHOWN}] FROM ({query}) AS t(p)").fetchone()
        except duckdb.Error as error:
            raise RuntimeError(f"audit {name!r} of mart {mart.name!r} could not run: {error}") from error
        results.append(AuditResult(name, description, sample or [], count))
    return results


def publish_mart(
    con: duckdb.DuckDBPyConnection, mart: Mart, audits: list[AuditResult]
) -> tuple[dict[str, int], dict[str, list[tuple[str, str]]], datetime]:
    """Copy the scratch tables over the published ones in one transaction, then drop the scratch schema."""
    schema = mart.scratch
    names = [t.name for t in mart.tables] + [r.name for r in mart.references]
    published_at = datetime.now(UTC)
    rows, columns = {}, {}
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {PUBLISHED_SCHEMA}")
        con.execute(f"""CREATE TABLE IF NOT EXISTS {PUBLISHED_SCHEMA}.{PUBLISHED_LOG} (
            mart VARCHAR, table_name VARCHAR, rows BIGINT, restricted BOOLEAN, audits_passed INTEGER,
            published_at TIMESTAMPTZ)""")
        descriptions = {t.name: t.description for t in mart.tables}
        for name in names:
            target = f"{PUBLISHED_SCHEMA}.{quote(name)}"
            con.execute(f"CREATE OR REPLACE TABLE {target} AS FROM {quote(schema)}.{quote(name)}")
            rows[name] = con.execute(f"SELECT count(*) FROM {target}").fetchone()[0]
            columns[name] = [(c, t) for c, t, *_ in con.execute(f"DESCRIBE {target}").fetchall()]
            about = descriptions.get(name) or f"Reference table of the {mart.name} mart, as published with it."
            con.execute(f"COMMENT ON TABLE {target} IS {sql_literal(about)}")
        con.execute(f"DELETE FROM {PUBLISHED_SCHEMA}.{PUBLISHED_LOG} WHERE mart = ?", [mart.name])
        con.executemany(
            f"INSERT INTO {PUBLISHED_SCHEMA}.{PUBLISHED_LOG} VALUES (?, ?, ?, ?, ?, ?)",
            [[mart.name, name, count, mart.restricted, len(audits), published_at] for name, count in rows.items()])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute(f"DROP SCHEMA {quote(schema)} CASCADE")
    return rows, columns, published_at


def write_audit_publish(
    con: duckdb.DuckDBPyConnection, mart: Mart, parameters: dict[str, str] | None = None
) -> PublishedMart:
    """Build the mart in scratch, audit it, and publish it only if every audit passed.

    parameters replace {name} placeholders in the mart's SQL and audits (values are SQL text).
    Raises MartAuditFailed (nothing published) when an audit fails.
    """
    seconds = {}
    started = time.perf_counter()
    write_mart(con, mart, parameters)
    seconds["write"] = time.perf_counter() - started
    started = time.perf_counter()
    results = audit_mart(con, mart, parameters)
    seconds["audit"] = time.perf_counter() - started
    if not all(r.passed for r in results):
        raise MartAuditFailed(mart, results)
    started = time.perf_counter()
    rows, columns, published_at = publish_mart(con, mart, results)
    seconds["publish"] = time.perf_counter() - started
    return PublishedMart(mart, rows, columns, results, published_at, seconds)
