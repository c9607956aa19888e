"""Mentions: one row per person, vehicle or place that a staged row names.

Staged partitions carry POLE columns named ``<kind>_<role>_<attribute>`` (already
normalised at staging). A mention unpivots one role of one row into the same columns for
every feed, so matching sees one table whatever the source:

    mention_id   feed || '|' || record_key || '|' || role
    feed, record_key, role, partition (the staged file's stem), source_file, row_number
    <attributes of the kind>   NULL where the feed does not map them

A role whose attributes are all NULL in a row (no suspect recorded, an empty caller) is
not a mention.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from wmp_platform.declarations import (
    LOCATION_ATTRIBUTES,
    PERSON_ATTRIBUTES,
    VEHICLE_ATTRIBUTES,
    FeedDeclaration,
)
from wmp_platform.ingest import _write_parquet_atomically, connect
from wmp_platform.sql import quote, sql_literal
from wmp_platform.storage import DataLayout

ATTRIBUTES = {"person": PERSON_ATTRIBUTES, "vehicle": VEHICLE_ATTRIBUTES, "location": LOCATION_ATTRIBUTES}
LINEAGE_COLUMNS = ("mention_id", "feed", "record_key", "role", "partition", "source_file", "row_number")
_TYPES = {"dob": "DATE", "latitude": "DOUBLE", "longitude": "DOUBLE"}  # every other attribute is text

# What call handlers type when a caller gives no name.
PLACEHOLDER_NAMES = ("Anonymous", "Unknown", "Not Known", "Not Given", "Withheld", "Refused", "N/K", "NK")
# Titles that open a full name; the sex they imply where the row gives none.
TITLES = {"Mr": "M", "Master": "M", "Sir": "M", "Lord": "M", "Mrs": "F", "Miss": "F", "Ms": "F", "Dame": "F",
          "Lady": "F", "Mx": None, "Dr": None, "Prof": None, "Rev": None}


def attribute_type(attribute: str) -> str:
    return _TYPES.get(attribute, "VARCHAR")


def _feeds(feeds: Mapping[str, FeedDeclaration] | Iterable[FeedDeclaration]) -> list[FeedDeclaration]:
    return list(feeds.values()) if isinstance(feeds, Mapping) else list(feeds)


def _staged_files(layout: DataLayout, feed: str, partitions: Iterable[str] | None) -> list[Path]:
    folder = layout.layer_dir(feed, "staged")
    files = sorted(folder.glob("*.parquet")) if folder.is_dir() else []
    if partitions is not None:
        wanted = set(partitions)
        files = [f for f in files if f.stem in wanted]
    return files


def entity_mentions_sql(
    layout: DataLayout,
    feeds: Mapping[str, FeedDeclaration] | Iterable[FeedDeclaration],
    kind: str,
    partitions: Iterable[str] | None = None,
) -> str:
    """One SELECT (DuckDB) giving the mentions of ``kind`` in the staged partitions of the feeds.

    ``partitions`` limits the files read to those stems (all staged partitions by default).
    Columns: ``LINEAGE_COLUMNS`` then every attribute of the kind, in declaration order.
    """
    if kind not in ATTRIBUTES:
        raise ValueError(f"unknown entity kind {kind!r}; expected one of {sorted(ATTRIBUTES)}")
    attributes = ATTRIBUTES[kind]
    partitions = None if partitions is None else list(partitions)
    selects = []
    for feed in _feeds(feeds):
        mappings = getattr(feed.pole, f"{kind}s")
        files = _staged_files(layout, feed.name, partitions) if mappings else []
        if not files:
            continue
        source = f"read_parquet([{', '.join(sql_literal(str(f)) for f in files)}], filename = true)"
        for mapping in mappings:
            mapped = [a for a in attributes if getattr(mapping, a, None)]
            values = {a: f"CAST({quote(f'{kind}_{mapping.role}_{a}')} AS {attribute_type(a)})" for a in mapped}
            role = sql_literal(mapping.role)
            columns = ",\n    ".join(
                f"{values.get(a, f'CAST(NULL AS {attribute_type(a)})')} AS {quote(a)}" for a in attributes
            )
            selects.append(
                f"SELECT {sql_literal(feed.name)} || '|' || _record_key || '|' || {role} AS mention_id,\n"
                f"    {sql_literal(feed.name)} AS feed, _record_key AS record_key, {role} AS role,\n"
                f"    parse_filename(filename, true) AS partition, _source_file AS source_file,\n"
                f"    _row_number AS row_number,\n    {columns}\n"
                f"FROM {source}\nWHERE {' OR '.join(f'{v} IS NOT NULL' for v in values.values())}"
            )
    if not selects:
        columns = ", ".join(
            [f"CAST(NULL AS {'BIGINT' if c == 'row_number' else 'VARCHAR'}) AS {c}" for c in LINEAGE_COLUMNS]
            + [f"CAST(NULL AS {attribute_type(a)}) AS {quote(a)}" for a in attributes]
        )
        return f"SELECT {columns} WHERE false"
    return "\nUNION ALL\n".join(selects)


def entity_mentions(
    layout: DataLayout,
    feeds: Mapping[str, FeedDeclaration] | Iterable[FeedDeclaration],
    kind: str,
    partitions: Iterable[str] | None = None,
) -> pa.Table:
    """The mentions of ``kind`` ('person', 'vehicle' or 'location') in the staged partitions, as Arrow."""
    with connect() as con:
        return con.sql(f"{entity_mentions_sql(layout, feeds, kind, partitions)} ORDER BY mention_id").to_arrow_table()


def _name_part(tokens: str, part: str) -> str:
    """forename / middle_names / surname from a list of name tokens (title already removed)."""
    if part == "forename":
        return f"{tokens}[1]"
    if part == "surname":
        return f"{tokens}[len({tokens})]"
    return f"nullif(array_to_string({tokens}[2:len({tokens}) - 1], ' '), '')"


def split_full_name_sql(full_name: str) -> dict[str, str]:
    """SQL expressions for forename, middle_names, surname and the sex a title implies, from a
    normalised full name: ``"Smith, John Paul"`` (surname first), ``"Mrs Smith"`` (a title and a
    surname), ``"John Paul Smith"``, or a lone ``"John"`` (callers often give a forename only)."""
    titles = "[" + ", ".join(sql_literal(t) for t in TITLES) + "]"
    name = f"nullif(trim({full_name}), '')"
    first = f"rtrim(split_part({name}, ' ', 1), '.')"
    titled = f"(list_contains({titles}, {first}) AND {name} LIKE '% %')"
    untitled = f"CASE WHEN {titled} THEN trim(substr({name}, length(split_part({name}, ' ', 1)) + 2)) ELSE {name} END"
    comma = f"contains({name}, ',')"
    before, after = f"nullif(trim(split_part({untitled}, ',', 1)), '')", f"trim(substr({untitled}, strpos({untitled}, ',') + 1))"
    given = f"list_filter(string_split({after}, ' '), lambda t: t <> '')"
    tokens = f"list_filter(string_split({untitled}, ' '), lambda t: t <> '')"
    single = f"len({tokens}) = 1"
    sex = "CASE " + " ".join(
        f"WHEN {first} = {sql_literal(t)} THEN {sql_literal(s)}" for t, s in TITLES.items() if s
    ) + " END"
    return {
        "forename": f"CASE WHEN {comma} THEN {given}[1] WHEN {single} AND {titled} THEN NULL"
                    f" ELSE {_name_part(tokens, 'forename')} END",
        "middle_names": f"CASE WHEN {comma} THEN nullif(array_to_string({given}[2:], ' '), '')"
                        f" WHEN {single} THEN NULL ELSE {_name_part(tokens, 'middle_names')} END",
        "surname": f"CASE WHEN {comma} THEN {before} WHEN {single} AND NOT {titled} THEN NULL"
                   f" ELSE {_name_part(tokens, 'surname')} END",
        "sex": f"CASE WHEN {titled} THEN {sex} END",
    }


def completed_names_sql(source: str) -> str:
    """SELECT * from ``source`` (a relation with the person attributes) with placeholder names
    ("Anonymous") as NULL and, where a row has only a full name, forename, middle names, surname
    (and the sex a title implies) taken from it."""
    placeholders = "[" + ", ".join(sql_literal(n) for n in PLACEHOLDER_NAMES) + "]"
    split = split_full_name_sql("full_name")
    named = "forename IS NULL AND middle_names IS NULL AND surname IS NULL"
    filled = [f"CASE WHEN {named} THEN {split[a]} ELSE {quote(a)} END AS {quote(a)}"
              for a in ("forename", "middle_names", "surname")]
    filled.append(f"coalesce(sex, CASE WHEN {named} THEN {split['sex']} END) AS sex")
    return f"""
SELECT * REPLACE ({", ".join(filled)})
FROM (SELECT * REPLACE (CASE WHEN list_contains({placeholders}, full_name) THEN NULL ELSE full_name END AS full_name)
      FROM {source})"""


def person_mentions_sql(
    layout: DataLayout,
    feeds: Mapping[str, FeedDeclaration] | Iterable[FeedDeclaration],
    partitions: Iterable[str] | None = None,
) -> str:
    """The person mentions, with names completed (``completed_names_sql``); a mention left with
    no attribute at all (an anonymous caller with no number) is dropped."""
    others = [a for a in PERSON_ATTRIBUTES if a != "full_name"]
    return f"""
WITH mentioned AS ({entity_mentions_sql(layout, feeds, "person", partitions)})
SELECT * FROM ({completed_names_sql("mentioned")})
WHERE full_name IS NOT NULL OR {" OR ".join(f"{quote(a)} IS NOT NULL" for a in others)}"""


def person_mentions(
    layout: DataLayout,
    feeds: Mapping[str, FeedDeclaration] | Iterable[FeedDeclaration],
    partitions: Iterable[str] | None = None,
    out: Path | None = None,
) -> pa.Table:
    """Every person mentioned in the staged partitions (all of them by default), one row each,
    ordered by mention_id; also written to ``out`` (Parquet, atomically) when given."""
    with connect() as con:
        table = con.sql(f"{person_mentions_sql(layout, feeds, partitions)} ORDER BY mention_id").to_arrow_table()
    if out is not None:
        _write_parquet_atomically(lambda path: pq.write_table(table, path, compression="zstd"), Path(out))
    return table
