"""Search: a person, a vehicle or a place looked up in the published snapshot, with its 360 view.

Search reads only a published read-only snapshot (``snapshot.open_published``), never the
pipeline's warehouse. The snapshot carries a search index (schema ``search``) built by
``build_search_index`` when it is published, so a query reads a few keyed slices of sorted
tables instead of scanning the hub.

**People by name.** A name is split into name keys (upper-case letters only, accents dropped):
the first is the forename, the last the surname, those between middle names; ``"Smith, Jon"``
puts the surname first. Without a comma the reverse order is tried too. Candidates are the
entities with a known name whose surname is the query's, sounds like it (``wmp_sound_key``,
a Soundex-style key) or is close to it (Jaro-Winkler >= ``SURNAME_SIMILARITY``), plus, when a
date of birth is given, every entity known with that date or with its day and month swapped.
Each known name of a candidate (every alias the hub keeps) is scored and the best counts:

- surname: 1 the same; the sounds-alike key the same: at least 0.9; else Jaro-Winkler, 0
  below ``SURNAME_SIMILARITY``;
- forename: 1 the same; 0.95 another form of the same name (``forename_variants.csv``: Jon,
  John, Jonathan); 0.85 an initial on either side; sounds alike or Jaro-Winkler >= 0.8: at
  least 0.85; 0.8 a short form (one name starts the other, three letters at least, or ends it,
  four at least) or the record's middle name; 0.3 when the record has no forename; else 0;
- name = the surname score, averaged with the forename score when a forename was given; a
  name below ``MIN_NAME_SCORE`` is no hit;
- date of birth, when given: 1 one of the entity's dates; 0.8 day and month swapped; 0.6 one
  keystroke away; 0.3 no date known; 0 another date. The score is then 0.6 name + 0.4 date.

Hits are ranked by score, then by how many records the entity has.

**Identifiers** match exactly after the platform's normalisation (``identifiers.py``): PNC ID,
CRO number, NI number and phone for people (``search person "2008/0056560Z"``), registration for
vehicles (every registration the vehicle was recorded under, misreads included), postcode and
UPRN for places. **Address text** is split into words with street types spelt out, as the place
resolver does; every house number must match and the score is the share of the other words the
place's addresses hold (a word of four letters or more also matches at Jaro-Winkler >=
``locations.WORD_SIMILARITY``).

A hit carries a summary and, for the first ``views`` hits, its 360 view (``views_360``).
Bad input raises ``SearchError`` with a message fit to show the user.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

import duckdb
import pyarrow as pa

from wmp_platform.identifiers import (
    is_valid_cro,
    is_valid_ni,
    is_valid_phone,
    is_valid_pnc,
    is_valid_postcode,
    is_valid_uprn,
    normalise_cro,
    normalise_ni,
    normalise_phone,
    normalise_pnc,
    normalise_postcode,
    normalise_vrm,
)
from wmp_platform.matching.locations import WORD_SIMILARITY, _words
from wmp_platform.matching.person_model import _key, forename_variants

SCHEMA = "search"
KINDS = ("person", "vehicle", "location")
SURNAME_SIMILARITY = 0.8
MIN_NAME_SCORE = 0.5
MAX_SURNAME_KEYS = 40  # surnames near the query whose people are scored; the closest first
MAX_QUERY_LENGTH = 200
DEFAULT_LIMIT = 10
PERSON_IDENTIFIERS = ("pnc_id", "cro_number", "ni_number", "phone")
_NAME_TEXT = re.compile(r"[^\W\d_]+(?:['’.\-][^\W\d_]*)*\.?", re.UNICODE)  # a part of a name: letters, - ' .


class SearchError(ValueError):
    """Bad input, or nothing to search: the message says what and why."""


# --- keys shared by the index and the queries ----------------------------------------------

SOUND_CODES = (("AEIOUY" "BFPV" "CGJKQSXZ" "DT" "L" "MN" "R" "HW"),
               ("000000" "1111" "22222222" "33" "4" "55" "6"))  # H and W have no code: translate drops them
_COLLAPSED = "codes"
for _digit in "0123456":
    _COLLAPSED = f"regexp_replace({_COLLAPSED}, '{_digit}+', '{_digit}', 'g')"

SEARCH_MACROS = (
    f"CREATE OR REPLACE MACRO wmp_name_key(x) AS ({_key('x')})",
    # name keys of a written name, in order: "O'Brien-Smith, Mary-Jo" -> [OBRIENSMITH, MARYJO]
    ("CREATE OR REPLACE MACRO wmp_name_tokens(x) AS (list_filter(list_transform("
     r"regexp_split_to_array(trim(upper(strip_accents(x))), '[\s,]+'), "
     "lambda t: regexp_replace(t, '[^A-Z]', '', 'g')), lambda t: t <> ''))"),
    # Soundex-style: first-letter spellings folded (KN-, WR-, PH, K/C, Z/S), then Soundex's codes
    # with runs collapsed and vowels dropped after; first letter and three digits.
    ("CREATE OR REPLACE MACRO wmp__sound_spelling(k) AS (regexp_replace(regexp_replace(regexp_replace("
     "regexp_replace(replace(k, 'PH', 'F'), '^(KN|GN|PN)', 'N'), '^WR', 'R'), '^[KQ]', 'C'), '^[ZX]', 'S'))"),
    f"CREATE OR REPLACE MACRO wmp__sound_digits(codes) AS ({_COLLAPSED})",
    ("CREATE OR REPLACE MACRO wmp_sound_key(k) AS (CASE WHEN coalesce(k, '') <> '' THEN "
     "left(wmp__sound_spelling(k), 1) || rpad(left(replace(substr(wmp__sound_digits(translate(wmp__sound_spelling(k), "
     f"'{SOUND_CODES[0]}', '{SOUND_CODES[1]}')), 2), '0', ''), 3), 3, '0') END)"),
)


def install_search_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Create the search macros in the connection's default catalog (the snapshot, when building)."""
    for statement in SEARCH_MACROS:
        con.execute(statement)


# --- the index -------------------------------------------------------------------------------

def build_search_index(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Create the search tables in schema ``search`` of the connection's default catalog, which holds
    the hub (schema ``entities``), the 360 views (schema ``views``) and the platform's macros.
    Returns rows per table.

    Every table is sorted by the key it is looked up by, so a lookup reads only the blocks that
    can hold the key.
    """
    install_search_macros(con)
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    pairs = forename_variants()
    con.register("_variant_pairs", pa.table({"name": [n for n, _ in pairs], "variant": [v for _, v in pairs]}))
    con.execute(f"""
        CREATE OR REPLACE TABLE {SCHEMA}.forename_roots AS
        SELECT wmp_name_key(variant) AS forename, list(DISTINCT wmp_name_key(name) ORDER BY wmp_name_key(name)) AS roots
        FROM _variant_pairs GROUP BY ALL ORDER BY forename""")
    con.unregister("_variant_pairs")
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _person_dobs AS
        SELECT entity_id, list(DISTINCT dob ORDER BY dob) AS dobs
        FROM (SELECT entity_id, TRY_CAST(value AS DATE) AS dob FROM entities.person_identifiers WHERE attribute = 'dob'
              UNION ALL SELECT entity_id, dob FROM entities.person_golden)
        WHERE dob IS NOT NULL GROUP BY entity_id""")
    con.execute(f"""
        CREATE OR REPLACE TABLE {SCHEMA}.person_names AS
        WITH forms AS (
          SELECT entity_id, wmp_name_tokens(value) AS t, arg_max(value, mentions) AS name, sum(mentions) AS name_mentions
          FROM entities.person_aliases GROUP BY ALL
        ),
        split AS (
          SELECT entity_id, name, name_mentions, CASE WHEN len(t) > 1 THEN t[1] END AS forename,
                 CASE WHEN len(t) > 2 THEN t[2:-2] ELSE [] END AS middle, t[-1] AS surname
          FROM forms WHERE len(t) > 0
        )
        SELECT s.entity_id, s.name, s.forename, s.middle, s.surname,
               wmp_sound_key(s.forename) AS forename_sound, wmp_sound_key(s.surname) AS surname_sound,
               CASE WHEN s.forename IS NOT NULL THEN list_distinct(list_concat([s.forename], coalesce(r.roots, []))) END
                 AS forename_roots,
               coalesce(d.dobs, []) AS dobs, s.name_mentions,
               concat_ws(' ', v.forename, v.middle_names, v.surname) AS golden_name, v.dob AS golden_dob,
               v.pnc_id, v.postcode, v.mentions, v.active_warnings
        FROM split s
        JOIN views.person_360 v USING (entity_id)
        LEFT JOIN {SCHEMA}.forename_roots r ON r.forename = s.forename
        LEFT JOIN _person_dobs d USING (entity_id)
        ORDER BY s.surname, s.forename, s.entity_id""")
    con.execute(f"""
        CREATE OR REPLACE TABLE {SCHEMA}.person_name_dobs AS
        SELECT dob, * EXCLUDE (dob) FROM (SELECT unnest(dobs) AS dob, * FROM {SCHEMA}.person_names) ORDER BY dob, entity_id""")
    con.execute(f"""
        CREATE OR REPLACE TABLE {SCHEMA}.surname_vocabulary AS
        SELECT surname, any_value(surname_sound) AS surname_sound, count(DISTINCT entity_id) AS people
        FROM {SCHEMA}.person_names GROUP BY surname ORDER BY surname""")
    con.execute(f"""
        CREATE OR REPLACE TABLE {SCHEMA}.person_identifiers AS
        SELECT i.value, i.attribute, i.entity_id, i.mentions AS value_mentions,
               concat_ws(' ', v.forename, v.middle_names, v.surname) AS golden_name, v.dob AS golden_dob, v.pnc_id,
               v.postcode, v.mentions, v.active_warnings
        FROM entities.person_identifiers i JOIN views.person_360 v USING (entity_id)
        WHERE i.attribute IN ({", ".join(f"'{a}'" for a in PERSON_IDENTIFIERS)})
        ORDER BY i.value, i.entity_id""")
    con.execute(f"""
        CREATE OR REPLACE TABLE {SCHEMA}.vehicle_registrations AS
        SELECT r.registration, r.entity_id, bool_or(r.current) AS current, g.registration AS current_registration,
               g.make, g.model, g.colour, g.mentions
        FROM (SELECT wmp_vrm(registration) AS registration, entity_id, true AS current FROM entities.vehicle_golden
              UNION ALL
              SELECT wmp_vrm(value), entity_id, false FROM entities.vehicle_identifiers WHERE attribute = 'registration') r
        JOIN entities.vehicle_golden g USING (entity_id)
        WHERE r.registration IS NOT NULL GROUP BY ALL ORDER BY r.registration, r.entity_id""")
    place = "g.address, g.postcode AS current_postcode, g.uprn AS current_uprn, g.mentions"
    con.execute(f"""
        CREATE OR REPLACE TABLE {SCHEMA}.location_postcodes AS
        SELECT p.postcode, p.entity_id, bool_or(p.current) AS current, {place}
        FROM (SELECT wmp_postcode(postcode) AS postcode, entity_id, true AS current FROM entities.location_golden
              UNION ALL
              SELECT wmp_postcode(regexp_extract(value, ',([^,]*)$', 1)), entity_id, false FROM entities.location_addresses) p
        JOIN entities.location_golden g USING (entity_id)
        WHERE wmp_valid_postcode(p.postcode) GROUP BY ALL ORDER BY p.postcode, p.entity_id""")
    con.execute(f"""
        CREATE OR REPLACE TABLE {SCHEMA}.location_uprns AS
        SELECT DISTINCT u.uprn, u.entity_id, {place}
        FROM (SELECT CAST(uprn AS VARCHAR) AS uprn, entity_id FROM entities.location_golden
              UNION ALL
              SELECT value, entity_id FROM entities.location_identifiers WHERE attribute = 'uprn') u
        JOIN entities.location_golden g USING (entity_id)
        WHERE u.uprn IS NOT NULL ORDER BY u.uprn, u.entity_id""")
    con.execute(f"""
        CREATE OR REPLACE TABLE {SCHEMA}.location_words AS
        SELECT DISTINCT word, entity_id
        FROM (SELECT entity_id, unnest({_words('address')}) AS word FROM entities.location_golden
              UNION ALL
              SELECT entity_id, unnest({_words("regexp_replace(value, ',[^,]*$', '')")}) FROM entities.location_addresses)
        ORDER BY word, entity_id""")
    con.execute(f"""
        CREATE OR REPLACE TABLE {SCHEMA}.location_word_vocabulary AS
        SELECT word, count(*) AS places FROM {SCHEMA}.location_words GROUP BY word ORDER BY word""")
    con.execute(f"""
        CREATE OR REPLACE TABLE {SCHEMA}.location_summaries AS
        SELECT g.entity_id, {place} FROM entities.location_golden g ORDER BY g.entity_id""")
    tables = [row[0] for row in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = ? "
        "ORDER BY table_name", [SCHEMA]).fetchall()]
    return {t: con.execute(f"SELECT count(*) FROM {SCHEMA}.{t}").fetchall()[0][0] for t in tables}


# --- results -----------------------------------------------------------------------------------

@dataclass
class Hit:
    """One entity found: its id, score (0-1), what matched, a summary and (for the first hits) its 360 view."""

    entity_id: str
    score: float
    matched: str
    summary: dict[str, Any]
    view: dict[str, Any] | None = None


@dataclass
class SearchResult:
    kind: str
    query: dict[str, Any]
    snapshot_id: str | None
    hits: list[Hit] = field(default_factory=list)
    elapsed_ms: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, default=_json_default, ensure_ascii=False)

    def render(self) -> str:
        """Text for a terminal: the ranked hits, then the 360 view of each hit that carries one."""
        what = ", ".join(f"{k} {v}" for k, v in self.query.items() if v is not None)
        lines = [(f"{self.kind} search: {what} ({len(self.hits)} hit{'s' * (len(self.hits) != 1)}, "
                 f"{self.elapsed_ms:.0f} ms, snapshot {self.snapshot_id})")]
        for rank, hit in enumerate(self.hits, 1):
            summary = ", ".join(f"{k} {_text(v)}" for k, v in hit.summary.items() if v not in (None, "", 0))
            lines.append(f"{rank:>3}. {hit.entity_id}  {hit.score:.2f}  {summary}  [{hit.matched}]")
        for hit in self.hits:
            if hit.view is not None:
                lines.append("")
                lines.append(render_view(self.kind, hit.view))
        return "\n".join(lines)


def _json_default(value: Any) -> str:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)


def _text(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return ", ".join(map(_text, value))
    return str(value)


VIEW_LISTS = {
    "person": ("warnings", "aliases", "identifiers", "addresses", "places", "vehicles", "events"),
    "vehicle": ("registrations", "keepers", "sightings", "events"),
    "location": ("recent_incidents", "people", "addresses", "event_counts", "events"),
}
RENDERED_ITEMS = 10  # items of each list a terminal shows


def render_view(kind: str, view: dict[str, Any]) -> str:
    """A 360 view as text: the record's own fields, then each list, at most ``RENDERED_ITEMS`` items."""
    lists = VIEW_LISTS[kind]
    own = {k: v for k, v in view.items() if k not in lists and not k.endswith("_source") and v not in (None, [], "")}
    lines = [f"{kind} 360: {view['entity_id']}  (restricted)"]
    lines += [f"  {k:<16} {_text(v)}" for k, v in own.items() if k != "entity_id"]
    for name in lists:
        items = view.get(name) or []
        lines.append(f"  {name} ({len(items)})")
        for item in items[:RENDERED_ITEMS]:
            lines.append("    - " + "; ".join(f"{k} {_text(v)}" for k, v in item.items() if v not in (None, [], "")))
        if len(items) > RENDERED_ITEMS:
            lines.append(f"    ... {len(items) - RENDERED_ITEMS} more (--json shows all)")
    return "\n".join(lines)


# --- input -------------------------------------------------------------------------------------

def _query_text(value: str | None, what: str) -> str:
    if value is None or not value.strip():
        raise SearchError(f"{what}: nothing to search for")
    text = " ".join(value.split())
    if len(text) > MAX_QUERY_LENGTH:
        raise SearchError(f"{what}: {len(text)} characters; at most {MAX_QUERY_LENGTH}")
    if any(not c.isprintable() for c in text):
        raise SearchError(f"{what} {text!r}: holds control characters")
    return text


DOB_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y")


def parse_dob(value: str | date | None) -> date | None:
    """A date of birth as ``YYYY-MM-DD`` or ``DD/MM/YYYY``, from 1900 to today."""
    if value is None or isinstance(value, date):
        day = value
    else:
        text = value.strip()
        for form in DOB_FORMATS:
            try:
                day = datetime.strptime(text, form).date()
                break
            except ValueError:
                continue
        else:
            raise SearchError(f"date of birth {value!r}: not a date; write it YYYY-MM-DD or DD/MM/YYYY")
    if day is not None and not date(1900, 1, 1) <= day <= date.today():
        raise SearchError(f"date of birth {day.isoformat()}: must be from 1900-01-01 to today")
    return day


def _swapped(day: date) -> date | None:
    if day.day <= 12 and day.day != day.month:
        return day.replace(month=day.day, day=day.month)
    return None


def person_identifier(text: str) -> tuple[str, str] | None:
    """(attribute, normal form) when the text is a person identifier: PNC ID, CRO number, NI number or
    phone number; None when it is no identifier (a name). A PNC ID or CRO number whose check letter is
    wrong is an error, not a name."""
    for attribute, normalise, valid, shape in (
        ("pnc_id", normalise_pnc, is_valid_pnc, r"\d{2}(\d{2})?/?\d{1,7}[A-Z]"),
        ("cro_number", normalise_cro, is_valid_cro, r"(SF\d{2}/\d{1,6}|\d{1,6}/\d{2})[A-Z]"),
        ("ni_number", normalise_ni, is_valid_ni, r"[A-Z]{2}\d{6}[A-D]?"),
        ("phone", normalise_phone, is_valid_phone, r"\+?[\d ()-]{10,}"),
    ):
        value = normalise(text)
        if valid(value):
            return attribute, value
        if re.fullmatch(shape, text.upper().replace(" ", "") if attribute != "phone" else text):
            label = {"pnc_id": "PNC ID", "cro_number": "CRO number", "ni_number": "NI number", "phone": "phone number"}
            reason = " (its check letter is wrong)" if attribute in ("pnc_id", "cro_number") else ""
            raise SearchError(f"{text!r} looks like a {label[attribute]} but is not a valid one{reason}")
    return None


@dataclass(frozen=True)
class PersonName:
    """A name as searched: forename (may be an initial), middle names, surname; name keys."""

    forename: str | None
    middle: tuple[str, ...]
    surname: str
    surname_first: bool  # written "Surname, Forename": the order is known


def parse_person_name(con: duckdb.DuckDBPyConnection, text: str) -> PersonName:
    """Split a written name into name keys (``wmp_name_tokens``); errors name what is wrong."""
    parts = text.split(",")
    if len(parts) > 2:
        raise SearchError(f"name {text!r}: at most one comma (Surname, Forenames)")
    for part in parts:
        stray = _NAME_TEXT.sub("", part).strip()
        if stray:
            raise SearchError(f"name {text!r}: {stray[:20]!r} is not part of a name (letters, spaces, hyphens and "
                              "apostrophes); for an identifier give a PNC ID, CRO number, NI number or phone number")
    tokens = [con.execute("SELECT wmp_name_tokens(?)", [part]).fetchall()[0][0] for part in parts]
    if len(parts) == 2:
        surname_tokens, given = tokens
        if not surname_tokens:
            raise SearchError(f"name {text!r}: no surname before the comma")
        surname = "".join(surname_tokens)  # "Van Der Berg, Jan": the surname as one key
        return PersonName(given[0] if given else None, tuple(given[1:]), surname, True)
    (words,) = tokens
    if not words:
        raise SearchError(f"name {text!r}: holds no letters")
    if len(words) == 1:
        return PersonName(None, (), words[0], False)
    return PersonName(words[0], tuple(words[1:-1]), words[-1], False)


# --- searching ---------------------------------------------------------------------------------

def _snapshot_id(con: duckdb.DuckDBPyConnection) -> str | None:
    try:
        return con.execute("SELECT snapshot_id FROM published.manifest").fetchall()[0][0]
    except duckdb.CatalogException:
        return None


def _require_index(con: duckdb.DuckDBPyConnection) -> None:
    found = con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name = 'person_names'",
                        [SCHEMA]).fetchall()[0][0]
    if not found:
        raise SearchError("this database has no search index: search a published snapshot (snapshot.open_published)")


def _orientations(name: PersonName) -> list[tuple[str | None, str]]:
    """(forename, surname) readings of the name: as written, and reversed when the order is unknown."""
    readings = [(name.forename, name.surname)]
    if name.forename and not name.surname_first and len(name.forename) > 1:
        readings.append((name.surname, name.forename))
    return readings


def _surname_score(i: int) -> str:
    jw = f"jaro_winkler_similarity(surname, $s{i})"
    return (f"(CASE WHEN surname = $s{i} THEN 1.0 WHEN surname_sound = wmp_sound_key($s{i}) THEN greatest(0.9, {jw}) "
            f"WHEN {jw} >= {SURNAME_SIMILARITY} THEN {jw} ELSE 0.0 END)")


def _forename_score(i: int) -> str:
    f, jw = f"$f{i}", f"jaro_winkler_similarity(forename, $f{i})"
    short = (f"(least(length(forename), length({f})) >= 3 AND (starts_with(forename, {f}) OR starts_with({f}, forename)))"
             f" OR (least(length(forename), length({f})) >= 4 AND (ends_with(forename, {f}) OR ends_with({f}, forename)))")
    return (f"(CASE WHEN {f} IS NULL THEN NULL WHEN forename IS NULL THEN 0.3 WHEN forename = {f} THEN 1.0 "
            f"WHEN list_has_any(forename_roots, $roots{i}) THEN 0.95 "
            f"WHEN (length({f}) = 1 AND left(forename, 1) = {f}) OR (length(forename) = 1 AND forename = left({f}, 1)) "
            f"THEN 0.85 WHEN forename_sound = wmp_sound_key({f}) OR {jw} >= 0.8 THEN greatest(0.85, {jw}) "
            f"WHEN {short} OR list_contains(middle, {f}) THEN 0.8 ELSE 0.0 END)")


def _name_score(i: int) -> str:
    surname, forename = _surname_score(i), _forename_score(i)
    return f"(CASE WHEN {surname} = 0 THEN 0.0 WHEN $f{i} IS NULL THEN {surname} ELSE ({surname} + {forename}) / 2 END)"


DOB_SCORE = """(CASE WHEN $dob IS NULL THEN NULL WHEN list_contains(dobs, $dob) THEN 1.0
    WHEN list_contains(dobs, $dob_swapped) THEN 0.8
    WHEN list_bool_or(list_transform(dobs, lambda d: damerau_levenshtein(strftime(d, '%Y%m%d'), $dob_text) = 1)) THEN 0.6
    WHEN len(dobs) = 0 THEN 0.3 ELSE 0.0 END)"""
PERSON_SUMMARY = ("golden_name", "golden_dob", "pnc_id", "postcode", "mentions", "active_warnings")


def _forename_roots(con: duckdb.DuckDBPyConnection, forename: str | None) -> list[str]:
    if forename is None:
        return []
    rows = con.execute(f"SELECT roots FROM {SCHEMA}.forename_roots WHERE forename = ?", [forename]).fetchall()
    return sorted({forename, *(rows[0][0] if rows else [])})


def search_person(con: duckdb.DuckDBPyConnection, name: str, dob: str | date | None = None, *,
                  limit: int = DEFAULT_LIMIT, views: int = 1) -> SearchResult:
    """People by name (and date of birth), or by an identifier (PNC ID, CRO number, NI number, phone),
    best first. ``con``: a published snapshot (``snapshot.open_published``)."""
    started = time.perf_counter()
    _require_index(con)
    text = _query_text(name, "person search")
    day = parse_dob(dob)
    _check_limit(limit, views)
    identifier = person_identifier(text) if any(c.isdigit() for c in text) else None
    if identifier:
        attribute, value = identifier
        rows = con.execute(f"""
            SELECT entity_id, 1.0 AS score, attribute || ' ' || value AS matched, {", ".join(PERSON_SUMMARY)}
            FROM {SCHEMA}.person_identifiers WHERE value = ? AND attribute = ?
            ORDER BY mentions DESC, entity_id LIMIT ?""", [value, attribute, limit]).fetchall()
        query = {"identifier": value, "dob": day}
    else:
        parsed = parse_person_name(con, text)
        rows = _person_name_rows(con, parsed, day, limit)
        query = {"name": text, "dob": day}
    hits = [Hit(r[0], round(r[1], 4), r[2], dict(zip(PERSON_SUMMARY, r[3:]))) for r in rows]
    return _finish(con, "person", query, hits, views, started)


def _person_name_rows(con: duckdb.DuckDBPyConnection, name: PersonName, day: date | None, limit: int) -> list[tuple]:
    readings = _orientations(name)
    params: dict[str, Any] = {}
    for i, (forename, surname) in enumerate(readings):
        params[f"f{i}"], params[f"s{i}"] = forename, surname
        params[f"roots{i}"] = _forename_roots(con, forename)
    # the surnames near the query's (both readings), closest first
    near = " UNION ALL ".join(
        f"SELECT surname, {_surname_score(i)} AS closeness FROM {SCHEMA}.surname_vocabulary "
        f"WHERE surname_sound = wmp_sound_key($s{i}) OR jaro_winkler_similarity(surname, $s{i}) >= {SURNAME_SIMILARITY}"
        for i in range(len(readings)))
    surnames = [row[0] for row in con.execute(
        f"SELECT surname FROM ({near}) GROUP BY surname ORDER BY max(closeness) DESC, surname LIMIT {MAX_SURNAME_KEYS}",
        {f"s{i}": params[f"s{i}"] for i in range(len(readings))}).fetchall()]
    columns = "entity_id, name, name_mentions, forename, middle, surname, forename_sound, surname_sound, forename_roots, dobs, " + \
        ", ".join(PERSON_SUMMARY)
    # equality lookups, one per key: each reads only the sorted blocks holding its key
    lookups = [f"SELECT {columns} FROM {SCHEMA}.person_names WHERE surname = $k{j}" for j in range(len(surnames))]
    params.update({f"k{j}": s for j, s in enumerate(surnames)})
    params.update(dob=day, dob_swapped=day and _swapped(day), dob_text=day and day.strftime("%Y%m%d"))
    if day is not None:
        lookups.append(f"SELECT {columns} FROM {SCHEMA}.person_name_dobs WHERE dob = $dob")
        if params["dob_swapped"]:
            lookups.append(f"SELECT {columns} FROM {SCHEMA}.person_name_dobs WHERE dob = $dob_swapped")
    if not lookups:
        return []
    name_score = "greatest(" + ", ".join(_name_score(i) for i in range(len(readings))) + ")" \
        if len(readings) > 1 else _name_score(0)
    return con.execute(f"""
        WITH candidates AS ({" UNION ALL ".join(lookups)}),
        scored AS (
          SELECT *, {name_score} AS name_score, {DOB_SCORE} AS dob_score FROM candidates
        ),
        ranked AS (
          SELECT *, CASE WHEN $dob IS NULL THEN name_score ELSE 0.6 * name_score + 0.4 * dob_score END AS score
          FROM scored WHERE name_score >= {MIN_NAME_SCORE}
          QUALIFY row_number() OVER (PARTITION BY entity_id ORDER BY score DESC, name_mentions DESC, name) = 1
        )
        SELECT entity_id, score,
               'name ' || name || CASE WHEN $dob IS NULL THEN ''
                 ELSE ', dob ' || CASE dob_score WHEN 1.0 THEN 'same' WHEN 0.8 THEN 'day and month swapped'
                   WHEN 0.6 THEN 'one keystroke away' WHEN 0.3 THEN 'unknown' ELSE 'differs' END END AS matched,
               {", ".join(PERSON_SUMMARY)}
        FROM ranked ORDER BY score DESC, mentions DESC, entity_id LIMIT {int(limit)}""", params).fetchall()


VEHICLE_SUMMARY = ("current_registration", "make", "model", "colour", "mentions")


def search_vehicle(con: duckdb.DuckDBPyConnection, registration: str, *, limit: int = DEFAULT_LIMIT,
                   views: int = 1) -> SearchResult:
    """Vehicles recorded under the registration (normalised: upper case, letters and digits only): the
    vehicle whose registration it is first, then vehicles it was read or typed as."""
    started = time.perf_counter()
    _require_index(con)
    text = _query_text(registration, "vehicle search")
    if re.search(r"[^A-Za-z0-9 \-]", text):
        raise SearchError(f"registration {text!r}: only letters, digits, spaces and hyphens")
    value = normalise_vrm(text)
    if not 2 <= len(value) <= 8:
        raise SearchError(f"registration {text!r}: {len(value)} letters and digits; a registration has 2 to 8")
    _check_limit(limit, views)
    rows = con.execute(f"""
        SELECT entity_id, CASE WHEN current THEN 1.0 ELSE 0.9 END AS score,
               CASE WHEN current THEN 'registration ' ELSE 'recorded as ' END || registration AS matched,
               {", ".join(VEHICLE_SUMMARY)}
        FROM {SCHEMA}.vehicle_registrations WHERE registration = ?
        ORDER BY score DESC, mentions DESC, entity_id LIMIT ?""", [value, limit]).fetchall()
    hits = [Hit(r[0], r[1], r[2], dict(zip(VEHICLE_SUMMARY, r[3:]))) for r in rows]
    return _finish(con, "vehicle", {"registration": value}, hits, views, started)


LOCATION_SUMMARY = ("address", "current_postcode", "current_uprn", "mentions")


def search_location(con: duckdb.DuckDBPyConnection, text: str, *, limit: int = DEFAULT_LIMIT,
                    views: int = 1) -> SearchResult:
    """Places by postcode, UPRN or address text (a postcode at the end of the text narrows it)."""
    started = time.perf_counter()
    _require_index(con)
    text = _query_text(text, "location search")
    _check_limit(limit, views)
    postcode = normalise_postcode(text)
    columns = ", ".join(LOCATION_SUMMARY)
    if is_valid_postcode(postcode):
        rows = con.execute(f"""
            SELECT entity_id, CASE WHEN current THEN 1.0 ELSE 0.9 END AS score,
                   CASE WHEN current THEN 'postcode ' ELSE 'recorded with postcode ' END || postcode, {columns}
            FROM {SCHEMA}.location_postcodes WHERE postcode = ?
            ORDER BY score DESC, address, entity_id LIMIT ?""", [postcode, limit]).fetchall()
        query = {"postcode": postcode}
    elif text.isdigit():
        if not is_valid_uprn(text):
            raise SearchError(f"{text!r}: a UPRN has at most 12 digits")
        uprn = str(int(text))
        rows = con.execute(f"""
            SELECT entity_id, 1.0, 'uprn ' || uprn, {columns} FROM {SCHEMA}.location_uprns WHERE uprn = ?
            ORDER BY entity_id LIMIT ?""", [uprn, limit]).fetchall()
        query = {"uprn": uprn}
    else:
        rows, query = _address_rows(con, text, limit), {"address": text}
    hits = [Hit(r[0], round(r[1], 4), r[2], dict(zip(LOCATION_SUMMARY, r[3:]))) for r in rows]
    return _finish(con, "location", query, hits, views, started)


_TRAILING_POSTCODE = re.compile(r"^(.*?)[\s,]+([A-Za-z]{1,2}\d[A-Za-z\d]?\s*\d[A-Za-z]{2})$")


def _address_rows(con: duckdb.DuckDBPyConnection, text: str, limit: int) -> list[tuple]:
    if re.search(r"[^\w\s,.'’/&()\-]", text):
        raise SearchError(f"address {text!r}: only letters, digits, spaces and , . ' / & ( ) -")
    postcode = None
    found = _TRAILING_POSTCODE.match(text)
    if found and is_valid_postcode(normalise_postcode(found.group(2))):
        text, postcode = found.group(1), normalise_postcode(found.group(2))
    words = con.execute(f"SELECT list_distinct({_words('?')})", [text]).fetchall()[0][0] or []
    numbers = sorted(w for w in words if re.search("[0-9]", w))
    names = sorted(w for w in words if not re.search("[0-9]", w))
    if not names:
        raise SearchError(f"address {text!r}: give a street or place name, or a postcode")
    # each name word and the vocabulary words it may be (itself, or a slip of it)
    variants = con.execute(f"""
        SELECT q.word, list(v.word), min(v.places) FROM (SELECT unnest(?::VARCHAR[]) AS word) q
        JOIN {SCHEMA}.location_word_vocabulary v
          ON v.word = q.word OR (length(q.word) >= 4 AND length(v.word) >= 4 AND left(v.word, 1) = left(q.word, 1)
                                 AND jaro_winkler_similarity(v.word, q.word) >= {WORD_SIMILARITY})
        GROUP BY q.word""", [names]).fetchall()
    if not variants:
        return []
    rarest = min(variants, key=lambda v: v[2])
    lookup = " UNION ALL ".join(f"SELECT entity_id FROM {SCHEMA}.location_words WHERE word = $w{i}"
                                for i in range(len(rarest[1])))
    params: dict[str, Any] = {f"w{i}": w for i, w in enumerate(rarest[1])}
    params.update(names=[w for w, _, _ in variants], forms=[f for _, f, _ in variants], numbers=numbers,
                  postcode=postcode, wanted=len(names))
    # candidates hold a form of the rarest word; then every form of every word is checked on them
    return con.execute(f"""
        WITH candidates AS (SELECT DISTINCT entity_id FROM ({lookup})),
        held AS (
          SELECT w.entity_id, w.word FROM {SCHEMA}.location_words w SEMI JOIN candidates USING (entity_id)
        ),
        scored AS (
          SELECT c.entity_id,
                 count(DISTINCT q.name) FILTER (WHERE list_contains(q.form, h.word)) / $wanted AS score,
                 count(DISTINCT h.word) FILTER (WHERE list_contains($numbers, h.word)) AS numbers_held
          FROM candidates c JOIN held h USING (entity_id), (SELECT unnest($names) AS name, unnest($forms) AS form) q
          GROUP BY c.entity_id
        )
        SELECT s.entity_id, s.score, 'address words ' || CAST(round(100 * s.score) AS INTEGER) || '%', {", ".join(
            f"p.{c}" for c in LOCATION_SUMMARY)}
        FROM scored s JOIN {SCHEMA}.location_summaries p USING (entity_id)
        WHERE s.numbers_held = len($numbers) AND s.score >= 0.5
          AND ($postcode IS NULL OR p.current_postcode = $postcode)
        ORDER BY s.score DESC, p.mentions DESC, s.entity_id LIMIT {int(limit)}""", params).fetchall()


def _check_limit(limit: int, views: int) -> None:
    if not 1 <= limit <= 100:
        raise SearchError(f"limit {limit}: from 1 to 100")
    if not 0 <= views <= limit:
        raise SearchError(f"views {views}: from 0 to the limit ({limit})")


def view(con: duckdb.DuckDBPyConnection, kind: str, entity_id: str) -> dict[str, Any] | None:
    """The 360 view of one entity (a dict of its columns, lists as lists), or None."""
    if kind not in KINDS:
        raise SearchError(f"kind {kind!r}: one of {', '.join(KINDS)}")
    cursor = con.execute(f"SELECT * FROM views.{kind}_360 WHERE entity_id = ?", [entity_id])
    rows = cursor.fetchall()
    return dict(zip([d[0] for d in cursor.description], rows[0])) if rows else None


def _finish(con, kind: str, query: dict, hits: list[Hit], views: int, started: float) -> SearchResult:
    for hit in hits[:views]:
        hit.view = view(con, kind, hit.entity_id)
    return SearchResult(kind, query, _snapshot_id(con), hits, round((time.perf_counter() - started) * 1000, 2))
