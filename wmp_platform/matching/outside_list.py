"""Linking an outside list of people: the engine of ``wmp link dedupe`` and ``wmp link match``.

An analyst's CSV (a partner agency's list, a spreadsheet of attendees) is read as text,
its columns recognised by their headers (``HEADER_NAMES``, or mapped with ``COLUMN=attribute``),
its values normalised as the platform normalises staged rows, and its rows scored with the
trained person model as person mentions:

- **dedupe**: the rows against each other; rows that are one person share an ``entity_id``
  (``E1``, ``E2`` ... in order of first appearance);
- **match**: the rows against the hub's person mentions; a row takes the entity of the hub
  mention it matches best, or of a row it matches that does; others get ``NEW1``, ``NEW2`` ...

Both write every input column unchanged plus ``entity_id`` and ``match_probability`` (the
strongest link that put the row in its entity; empty for a row alone). Entities are formed by
the hub's clustering rule (``clusters.cluster_full``) at the platform's person threshold.

What is read from a data folder is what the person hub keeps there for scoring against it
(``hub.person_features_path``: the matching features of every mention; ``hub.person_entities_path``:
mention_id -> entity_id; both written atomically by each build of entities/person) and the
current trained model (``hub.person_model_path``); the warehouse itself is never opened, so a
list is linked while the pipeline writes. Without a trained model, ``default_person_model.json``
beside this module is used: the person model trained on the synthetic estate (``wmp generate
--size small --seed 42``, every feed staged).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from wmp_platform.declarations import PERSON_ATTRIBUTES
from wmp_platform.hub import (
    DEFAULT_PERSON_MODEL,
    current_person_model,
    person_entities_path,
    person_features_path,
)
from wmp_platform.identifiers import (
    is_valid_cro,
    is_valid_pnc,
    normalise_cro,
    normalise_pnc,
)
from wmp_platform.ingest import connect
from wmp_platform.matching.clusters import PERSON_SETTINGS, HubTables, Run, cluster_full
from wmp_platform.matching.mentions import completed_names_sql
from wmp_platform.matching.person_model import (
    load_person_model,
    person_features_files,
    predict_person_pairs,
)
from wmp_platform.sql import quote, sql_literal
from wmp_platform.storage import DataLayout

DEFAULT_MODEL = DEFAULT_PERSON_MODEL
OUTPUT_COLUMNS = ("entity_id", "match_probability")
IGNORE = "none"  # map a column to this to leave it out of matching

LINKABLE = tuple(a for a in PERSON_ATTRIBUTES if a != "collar_number")
HEADER_NAMES: dict[str, tuple[str, ...]] = {
    "forename": ("forename", "forenames", "first_name", "firstname", "given_name", "given_names", "christian_name"),
    "middle_names": ("middle_names", "middle_name", "middlename", "other_names"),
    "surname": ("surname", "last_name", "lastname", "family_name", "familyname"),
    "full_name": ("full_name", "fullname", "name"),
    "dob": ("dob", "date_of_birth", "dateofbirth", "birth_date", "birthdate", "d_o_b"),
    "sex": ("sex", "gender"),
    "address": ("address", "home_address", "street_address", "address_line"),
    "postcode": ("postcode", "post_code", "postal_code"),
    "phone": ("phone", "phone_number", "telephone", "telephone_number", "tel", "mobile", "mobile_number"),
    "ni_number": ("ni_number", "ni_no", "nino", "ni", "national_insurance_number"),
    "pnc_id": ("pnc_id", "pnc", "pnc_number", "pnc_no"),
    "cro_number": ("cro_number", "cro", "cro_no"),
}
# Dates as written in the UK (day first) and in ISO form; a two-digit year is the latest that
# is not in the future.
DATE_FORMATS = ("%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%d %m %Y", "%d %b %Y", "%d %B %Y", "%d-%b-%Y",
                "%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%d/%m/%y", "%d-%m-%y", "%d.%m.%y")
NORMALISERS = {"forename": "wmp_name", "middle_names": "wmp_name", "surname": "wmp_name", "full_name": "wmp_name",
               "sex": "wmp_sex", "address": "wmp_address", "postcode": "wmp_postcode", "phone": "wmp_phone",
               "ni_number": "wmp_ni", "pnc_id": "wmp_pnc", "cro_number": "wmp_cro"}


class OutsideListError(ValueError):
    """The list cannot be read as people: the message names the file, the line and the field."""


@dataclass
class LinkResult:
    """What a link run did: rows read and written, entities, rows linked to others or to the hub."""

    rows: int
    entities: int
    linked_rows: int  # rows in an entity with another row (dedupe) or holding a hub entity (match)
    out: Path
    columns: dict[str, str]  # attribute -> input column used

    def __str__(self) -> str:
        used = ", ".join(f"{column} as {attribute}" for attribute, column in self.columns.items())
        return (f"{self.rows:,} rows -> {self.entities:,} entities; {self.linked_rows:,} rows linked; "
                f"written to {self.out}\ncolumns used: {used}")


def _header_key(header: str) -> str:
    return re.sub("[^a-z0-9]+", "_", header.strip().lower()).strip("_")


def recognise_columns(path: Path, header: list[str], mapping: Mapping[str, str] | None = None) -> dict[str, str]:
    """attribute -> column for the header: explicit ``mapping`` (column -> attribute, or 'none')
    first, then the usual names. Two columns for one attribute, an unknown attribute or no name
    column at all is an error."""
    mapping = dict(mapping or {})
    for column, attribute in mapping.items():
        if column not in header:
            raise OutsideListError(f"{path}: --map names column {column!r}, which the header does not have "
                                   f"(columns: {', '.join(header)})")
        if attribute not in (*LINKABLE, IGNORE):
            raise OutsideListError(f"{path}: --map {column}={attribute}: unknown attribute {attribute!r} "
                                   f"(one of {', '.join(LINKABLE)}, or {IGNORE})")
    columns: dict[str, str] = {}
    for column in header:
        attribute = mapping.get(column) or next(
            (a for a, names in HEADER_NAMES.items() if _header_key(column) in names), None)
        if attribute is None or attribute == IGNORE:
            continue
        if attribute in columns:
            raise OutsideListError(f"{path}: columns {columns[attribute]!r} and {column!r} both read as {attribute}; "
                                   f"map one of them with --map '{column}={IGNORE}' or to another attribute")
        columns[attribute] = column
    if not {"forename", "surname", "full_name"} & set(columns):
        raise OutsideListError(f"{path}: no name column recognised in the header ({', '.join(header)}); "
                               "map one with --map COLUMN=forename|surname|full_name")
    return columns


def parse_date(text: str) -> date | None:
    """A date of birth in a UK or ISO form; None if it is in none of them."""
    value = " ".join(text.split())
    for pattern in DATE_FORMATS:
        try:
            parsed = datetime.strptime(value, pattern).date()
        except ValueError:
            continue
        if parsed > date.today() and "%y" in pattern:
            parsed = parsed.replace(year=parsed.year - 100)
        return parsed
    return None


def read_list(path: Path, mapping: Mapping[str, str] | None = None) -> tuple[list[str], list[list[str]], dict[str, str], pa.Table]:
    """The header, the rows as text, the columns used, and the rows as person mentions
    (mention_id ``row:<n>``, n counting data rows from 1), normalised as staged rows are."""
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            sample = f.read(65536)
            f.seek(0)
            try:
                dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
            except csv.Error:
                dialect = csv.excel
            lines = list(csv.reader(f, dialect))
    except FileNotFoundError:
        raise OutsideListError(f"{path}: no such file") from None
    except UnicodeDecodeError as error:
        raise OutsideListError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start})") from None
    except csv.Error as error:
        raise OutsideListError(f"{path}: not a readable CSV file: {error}") from None
    if not lines or not any(cell.strip() for cell in lines[0]):
        raise OutsideListError(f"{path}: empty file (a header line is needed)")
    header, rows = lines[0], [row for row in lines[1:] if any(cell.strip() for cell in row)]
    for column in OUTPUT_COLUMNS:
        if column in header:
            raise OutsideListError(f"{path}: the input already has a column {column!r}, which the output adds")
    columns = recognise_columns(path, header, mapping)
    position = {attribute: header.index(column) for attribute, column in columns.items()}
    values: dict[str, list[Any]] = {a: [] for a in LINKABLE}
    for number, row in enumerate(lines[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise OutsideListError(f"{path}: line {number}: {len(row)} fields where the header has {len(header)}")
        for attribute in LINKABLE:
            text = row[position[attribute]].strip() if attribute in position else ""
            values[attribute].append(_value(path, number, columns.get(attribute), attribute, text))
    mentions = pa.table({
        "mention_id": [f"row:{n}" for n in range(1, len(rows) + 1)],
        "partition": ["input"] * len(rows),
        **{a: pa.array(v, pa.date32() if a == "dob" else pa.string()) for a, v in values.items()},
    })
    return header, rows, columns, _normalised(mentions)


def _value(path: Path, line: int, column: str | None, attribute: str, text: str) -> Any:
    if not text:
        return None
    where = f"{path}: line {line}, column {column!r} ({attribute})"
    if attribute == "dob":
        parsed = parse_date(text)
        if parsed is None:
            raise OutsideListError(f"{where}: {text!r} is not a date (day first, e.g. 31/12/1990, or ISO, 1990-12-31)")
        return parsed
    if attribute == "pnc_id" and not is_valid_pnc(text):
        raise OutsideListError(f"{where}: {text!r} is not a PNC ID with a valid check letter "
                               f"(read as {normalise_pnc(text)!r}); correct it or leave it blank")
    if attribute == "cro_number" and not is_valid_cro(text):
        raise OutsideListError(f"{where}: {text!r} is not a CRO number with a valid check letter "
                               f"(read as {normalise_cro(text)!r}); correct it or leave it blank")
    return text


def _normalised(mentions: pa.Table) -> pa.Table:
    """The platform's normal forms (the staging macros), then names completed from full names."""
    with connect() as con:
        con.register("list_rows", mentions)
        columns = ", ".join(
            f"{NORMALISERS[a]}({quote(a)}) AS {quote(a)}" if a in NORMALISERS else quote(a) for a in LINKABLE
        )
        con.execute(f"CREATE TEMP TABLE list_mentions AS SELECT mention_id, partition, {columns} FROM list_rows")
        return con.sql(completed_names_sql("list_mentions")).to_arrow_table()


def _model(model: Path | None, data_dir: Path | None) -> dict[str, Any]:
    if model is not None:
        return load_person_model(model)
    if data_dir is not None:  # the data folder's current model, else the shipped one
        return current_person_model(DataLayout(Path(data_dir)))[0]
    return load_person_model(DEFAULT_MODEL)


def _clusters(mentions: Iterable[str], edges: pa.Table) -> dict[str, str]:
    """mention_id -> cluster by the hub's rule at the platform's person thresholds."""
    con = duckdb.connect()
    ids = list(mentions)
    con.register("list_mentions", pa.table({"mention_id": ids, "partition": ["input"] * len(ids)}))
    con.register("list_edges", edges.select(["mention_id_l", "mention_id_r", "match_probability", "match_weight"]))
    cluster_full(con, PERSON_SETTINGS, HubTables.for_kind("list"), mentions="list_mentions", edges="list_edges",
                 run=Run("outside-list"))
    return dict(con.execute("SELECT mention_id, entity_id FROM list_assignments").fetchall())


def _best_links(edges: pa.Table, clusters: Mapping[str, str], threshold: float) -> dict[str, float]:
    """mention_id -> the strongest edge joining it to another mention of its cluster."""
    best: dict[str, float] = {}
    for left, right, probability in zip(*(edges.column(c).to_pylist()
                                          for c in ("mention_id_l", "mention_id_r", "match_probability"))):
        if probability >= threshold and clusters.get(left) == clusters.get(right):
            for mention in (left, right):
                best[mention] = max(best.get(mention, 0.0), probability)
    return best


def _write(path: Path, out: Path, header: list[str], rows: list[list[str]], entity: list[str],
           probability: list[float | None]) -> None:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow([*header, *OUTPUT_COLUMNS])
        for row, entity_id, p in zip(rows, entity, probability):
            writer.writerow([*row, entity_id, "" if p is None else f"{p:.6f}"])


def dedupe_list(path: Path, out: Path, *, mapping: Mapping[str, str] | None = None, model: Path | None = None,
                data_dir: Path | None = None, threshold: float = PERSON_SETTINGS.match_threshold) -> LinkResult:
    """Find the rows of ``path`` that are one person; write ``out`` with every input column,
    ``entity_id`` and ``match_probability``."""
    header, rows, columns, mentions = read_list(Path(path), mapping)
    # the model's prior is kept: two rows need the evidence two hub records would need to be
    # one person (a short list would give a higher prior, and merge namesakes who live together)
    edges = predict_person_pairs(mentions, _model(model, data_dir),
                                 threshold=min(threshold, PERSON_SETTINGS.review_threshold))
    ids = mentions.column("mention_id").to_pylist()
    clusters = _clusters(ids, edges)
    labels: dict[str, str] = {}
    for mention in ids:
        labels.setdefault(clusters[mention], f"E{len(labels) + 1}")
    best = _best_links(edges, clusters, threshold)
    _write(path, out, header, rows, [labels[clusters[m]] for m in ids], [best.get(m) for m in ids])
    return LinkResult(len(rows), len(labels), len(best), Path(out), columns)


def match_list(path: Path, out: Path, *, data_dir: Path, mapping: Mapping[str, str] | None = None,
               model: Path | None = None, threshold: float = PERSON_SETTINGS.match_threshold) -> LinkResult:
    """Link the rows of ``path`` to the person entities of the hub in ``data_dir`` (the files the
    hub keeps for this, see the module docstring); write ``out`` with every input column,
    ``entity_id`` and ``match_probability``. Rows matching no entity get ``NEW<n>``, shared by rows
    that are one person."""
    layout = DataLayout(Path(data_dir))
    hub_features, hub_entities = person_features_path(layout), person_entities_path(layout)
    for needed, what in ((hub_features, "person features"), (hub_entities, "person entities")):
        if not (any(needed.glob("*.parquet")) if needed.is_dir() else needed.is_file()):
            raise OutsideListError(f"{needed}: the hub's {what} are not there; build entities/person first "
                                   f"or point --data-dir at the data folder that has them")
    header, rows, columns, mentions = read_list(Path(path), mapping)
    edges = predict_person_pairs(person_features_files(hub_features), _model(model, data_dir), new_mentions=mentions,
                                 threshold=min(threshold, PERSON_SETTINGS.review_threshold))
    ids = mentions.column("mention_id").to_pylist()
    with connect() as con:
        con.register("list_edges", edges.select(["mention_id_l", "mention_id_r", "match_probability"]))
        entity_of = {row: {"entity_id": entity_id, "p": p} for row, entity_id, p in con.execute(f"""
            WITH links AS (
              SELECT CASE WHEN starts_with(mention_id_l, 'row:') THEN mention_id_l ELSE mention_id_r END AS row_id,
                     CASE WHEN starts_with(mention_id_l, 'row:') THEN mention_id_r ELSE mention_id_l END AS hub_id,
                     match_probability
              FROM list_edges WHERE starts_with(mention_id_l, 'row:') <> starts_with(mention_id_r, 'row:')
                AND match_probability >= {threshold!r}
            )
            SELECT DISTINCT ON (row_id) row_id, h.entity_id, match_probability
            FROM links JOIN read_parquet({sql_literal(str(hub_entities))}) h ON h.mention_id = links.hub_id
            ORDER BY row_id, match_probability DESC, h.entity_id""").fetchall()}
    within = edges.filter(pa.compute.and_(pa.compute.starts_with(edges.column("mention_id_l"), "row:"),
                                          pa.compute.starts_with(edges.column("mention_id_r"), "row:")))
    clusters = _clusters(ids, within)
    best = _best_links(within, clusters, threshold)
    # a cluster of rows takes the hub entity its best-matched row found; else it is new
    cluster_entity: dict[str, tuple[str, float]] = {}
    for mention in ids:
        if mention in entity_of:
            found = (entity_of[mention]["entity_id"], entity_of[mention]["p"])
            current = cluster_entity.get(clusters[mention])
            if current is None or found[1] > current[1]:
                cluster_entity[clusters[mention]] = found
    labels: dict[str, str] = {}
    entity, probability = [], []
    for mention in ids:
        if mention in entity_of:
            entity.append(entity_of[mention]["entity_id"])
            probability.append(entity_of[mention]["p"])
        elif clusters[mention] in cluster_entity:
            entity.append(cluster_entity[clusters[mention]][0])
            probability.append(best.get(mention))
        else:
            entity.append(labels.setdefault(clusters[mention], f"NEW{len(labels) + 1}"))
            probability.append(best.get(mention))
    linked = sum(1 for e in entity if not e.startswith("NEW"))
    _write(path, out, header, rows, entity, probability)
    return LinkResult(len(rows), len(set(entity)), linked, Path(out), columns)
