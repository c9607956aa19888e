"""Golden records: one row per entity with the value of each attribute that survives, and the
history of every name, address and identifier its mentions ever gave.

Survivorship is data: ``survivorship.csv`` (kind, attributes, rule, sources, why), loaded as a
table, so the business changes which source wins without touching code. Each row is a group
of attributes taken together from one winning mention (an address with its own postcode); the
first attribute leads: only mentions giving it compete. Rules:

- ``source_rank``: the first feed of ``sources`` that gives a value wins (feeds not listed come
  after); within a feed the most frequent value, then the most recent.
- ``most_recent``: the latest partition wins; then the source order, then frequency.
- ``most_frequent``: the value most mentions give; then the source order, then recency.

Remaining ties go to the smallest mention id. Unpartitioned reference data (``all``) counts as
the oldest. Each group also records the feed its value came from (``<lead>_source``).

History tables (``history_tables``): ``<kind>_aliases`` (names as written), ``<kind>_addresses``
(address with postcode) and ``<kind>_identifiers`` (attribute, value), each with entity_id,
value, feeds, first_seen, last_seen (partitions) and mentions; nothing is ever dropped from them.
An attribute the mentions table lacks (no feed maps it) is left out of both.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from wmp_platform.matching.clusters import (
    columns_of,
    filling,
    require_columns,
    table_exists,
)
from wmp_platform.matching.mentions import ATTRIBUTES
from wmp_platform.sql import quote, sql_literal
from wmp_platform.storage import UNPARTITIONED

SURVIVORSHIP_FILE = Path(__file__).with_name("survivorship.csv")
RULES = ("source_rank", "most_recent", "most_frequent")


@dataclass(frozen=True)
class HistorySpec:
    """What a kind keeps as history: SQL over a mention for aliases and addresses, identifier columns."""

    alias: str | None
    address: str | None
    identifiers: tuple[str, ...]


HISTORY = {
    "person": HistorySpec(
        alias="coalesce(nullif(concat_ws(' ', forename, middle_names, surname), ''), full_name)",
        address="nullif(concat_ws(', ', address, postcode), '')",
        identifiers=("pnc_id", "cro_number", "ni_number", "phone", "dob", "collar_number"),
    ),
    "vehicle": HistorySpec(alias=None, address=None, identifiers=("registration", "make", "model", "colour")),
    "location": HistorySpec(
        alias=None, address="nullif(concat_ws(', ', address, postcode), '')", identifiers=("uprn",),
    ),
}


def load_survivorship(con: duckdb.DuckDBPyConnection, table: str = "survivorship_rules",
                      path: Path = SURVIVORSHIP_FILE) -> str:
    """Load the survivorship rules into ``table`` (line, kind, attributes, rule, sources, why) and
    check them: errors name the file, the line and the field."""
    rows = []
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = {"kind", "attributes", "rule", "sources"} - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{path}: header lacks {', '.join(sorted(missing))}")
        for row in reader:
            line = reader.line_num
            kind, attributes, rule = row["kind"], (row["attributes"] or "").split(), row["rule"]
            if kind not in ATTRIBUTES:
                raise ValueError(f"{path}, line {line}: kind {kind!r} is not one of {sorted(ATTRIBUTES)}")
            unknown = [a for a in attributes if a not in ATTRIBUTES[kind]]
            if not attributes or unknown:
                raise ValueError(f"{path}, line {line}: attributes {row['attributes']!r} must name {kind} attributes "
                                 f"out of {ATTRIBUTES[kind]}")
            if rule not in RULES:
                raise ValueError(f"{path}, line {line}: rule {rule!r} is not one of {RULES}")
            rows.append({"line": line, "kind": kind, "attributes": " ".join(attributes), "rule": rule,
                         "sources": " ".join((row["sources"] or "").split()), "why": row.get("why") or ""})
    con.register("_rules", pa.Table.from_pylist(rows, schema=pa.schema(
        [("line", pa.int64())] + [(c, pa.string()) for c in ("kind", "attributes", "rule", "sources", "why")])))
    con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM _rules")
    con.unregister("_rules")
    return table


def _rules(con, rules: str, kind: str) -> list[tuple[list[str], str, list[str]]]:
    return [(attributes.split(), rule, sources.split()) for attributes, rule, sources in con.execute(
        f"SELECT attributes, rule, sources FROM {rules} WHERE kind = ? ORDER BY line", [kind]).fetchall()]


def golden_records(
    con: duckdb.DuckDBPyConnection,
    kind: str,
    *,
    mentions: str,
    assignments: str,
    rules: str = "survivorship_rules",
    out: str | None = None,
    changed: str | None = None,
) -> str:
    """Create ``out`` (default ``<kind>_golden``): entity_id, each surviving attribute and the feed it
    came from (``<lead>_source``), mentions, feeds, first_seen, last_seen.

    mentions: the kind's mentions (mention_id, feed, partition, attributes); assignments:
    mention_id -> entity_id; rules: a table from ``load_survivorship``; changed: entity ids
    (``clusters.changed_entities``) whose rows alone are made again in an existing ``out``.
    """
    out = out or f"{kind}_golden"
    require_columns(con, mentions, ("mention_id", "feed", "partition"), f"{kind} mentions")
    present = columns_of(con, mentions)
    # an attribute no feed maps may be missing from the mentions: its group is left out
    groups = [(group, rule, sources) for group, rule, sources in _rules(con, rules, kind) if group[0] in present]
    if not groups:
        raise ValueError(f"survivorship table {rules!r} has no rules for kind {kind!r} that {mentions!r} can follow")
    attributes = [a for group, _, _ in groups for a in group]
    require_columns(con, mentions, attributes, f"{kind} mentions")
    recency = f"nullif(m.partition, {sql_literal(UNPARTITIONED)})"
    refresh = _refresh(con, out, changed)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _golden_mentions AS
        SELECT a.entity_id, m.mention_id, m.feed, {recency} AS recency, {", ".join(f"m.{quote(x)}" for x in attributes)}
        FROM {mentions} m JOIN {_scoped(assignments, changed if refresh else None)} a USING (mention_id)""")
    selects, joins = [], []
    for i, (group, rule, sources) in enumerate(groups):
        lead = group[0]
        rank = (f"coalesce(list_position({'[' + ', '.join(sql_literal(s) for s in sources) + ']::VARCHAR[]'}, feed), "
                f"{len(sources) + 1})")
        frequency = "frequency"
        order = {
            "source_rank": f"{rank}, {frequency} DESC, recency DESC NULLS LAST",
            "most_recent": f"recency DESC NULLS LAST, {rank}, {frequency} DESC",
            "most_frequent": f"{frequency} DESC, {rank}, recency DESC NULLS LAST",
        }[rule]
        alias = f"g{i}"
        joins.append(f"""LEFT JOIN (
            SELECT entity_id, {", ".join(quote(a) for a in group)}, feed AS {quote(lead + '_source')}
            FROM (SELECT *, count(*) OVER (PARTITION BY entity_id, {quote(lead)}) AS frequency
                  FROM _golden_mentions WHERE {quote(lead)} IS NOT NULL)
            QUALIFY row_number() OVER (PARTITION BY entity_id ORDER BY {order}, mention_id) = 1
        ) {alias} USING (entity_id)""")
        selects.extend([f"{alias}.{quote(a)}" for a in group] + [f"{alias}.{quote(lead + '_source')}"])
    con.execute(f"""
        {filling(out, refresh)}
        SELECT e.entity_id, {", ".join(selects)}, e.mentions, e.feeds, e.first_seen, e.last_seen
        FROM (SELECT entity_id, count(*) AS mentions, list_sort(list(DISTINCT feed)) AS feeds,
                     min(recency) AS first_seen, max(recency) AS last_seen
              FROM _golden_mentions GROUP BY entity_id) e
        {" ".join(joins)}
        ORDER BY e.entity_id""")
    return out


def _refresh(con: duckdb.DuckDBPyConnection, out: str, changed: str | None) -> bool:
    """Whether ``out`` is made again for the ``changed`` entities only; if so their rows are removed."""
    if changed is None or not table_exists(con, out):
        return False
    con.execute(f"DELETE FROM {out} WHERE entity_id IN (SELECT entity_id FROM {changed})")
    return True


def _scoped(assignments: str, changed: str | None) -> str:
    """The assignments, of the ``changed`` entities only when given."""
    if changed is None:
        return assignments
    return f"(SELECT * FROM {assignments} WHERE entity_id IN (SELECT entity_id FROM {changed}))"


def _history_sql(value: str, attribute: str | None = None) -> str:
    label = f"{sql_literal(attribute)} AS attribute, " if attribute else ""
    return f"""
        SELECT entity_id, {label}value, list_sort(list(DISTINCT feed)) AS feeds,
               min(recency) AS first_seen, max(recency) AS last_seen, count(*) AS mentions
        FROM (SELECT a.entity_id, m.feed, nullif(m.partition, {sql_literal(UNPARTITIONED)}) AS recency,
                     CAST({value} AS VARCHAR) AS value
              FROM _history_mentions m JOIN _history_assignments a USING (mention_id))
        WHERE value IS NOT NULL GROUP BY ALL"""


def history_tables(
    con: duckdb.DuckDBPyConnection, kind: str, *, mentions: str, assignments: str, prefix: str | None = None,
    changed: str | None = None,
) -> dict[str, str]:
    """Create the kind's history tables (``<prefix>_aliases``, ``_addresses``, ``_identifiers``;
    prefix defaults to the kind) and return {what: table name}. With ``changed`` (entity ids),
    existing tables are made again for those entities only."""
    prefix = prefix or kind
    spec = HISTORY[kind]
    con.execute(f"CREATE OR REPLACE TEMP VIEW _history_mentions AS SELECT * FROM {mentions}")
    made = {}
    for what, value in (("aliases", spec.alias), ("addresses", spec.address)):
        if value:
            made[what] = f"{prefix}_{what}"
            _history_table(con, made[what], _history_sql(value), assignments, changed)
    identifiers = [a for a in spec.identifiers if a in columns_of(con, mentions)]
    if identifiers:
        made["identifiers"] = f"{prefix}_identifiers"
        _history_table(con, made["identifiers"], " UNION ALL ".join(_history_sql(quote(a), a) for a in identifiers),
                       assignments, changed)
    return made


def _history_table(con: duckdb.DuckDBPyConnection, out: str, select: str, assignments: str, changed: str | None) -> None:
    refresh = _refresh(con, out, changed)
    con.execute(f"CREATE OR REPLACE TEMP VIEW _history_assignments AS SELECT mention_id, entity_id "
                f"FROM {_scoped(assignments, changed if refresh else None)}")
    con.execute(f"{filling(out, refresh)} {select} ORDER BY ALL")
