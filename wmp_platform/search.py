"""Search: a person, a vehicle or a place looked up in the published snapshot, with its 360 view.

Search reads only a published read-only snapshot (``snapshot.open_published``), never the
pipeline's warehouse. The snapshot carries a search index (schema ``search``) built by
``build_search_index`` when it is published: identifiers sorted for keyed reads, each 360 view
as one JSON text (one keyed read gives the whole picture), and the person name index:
names numbered, entities numbered, each known name of an entity a row of numbers. A reader
loads the name index into memory once per snapshot (``PersonIndex``: 4 s and about 500 MB for a
million people) and a name search is then array look-ups: DuckDB would spend longer planning
the scoring SQL than the search takes.

**People by name.** A name is split into name keys (upper-case letters only, accents dropped):
the first is the forename, the last the surname, those between middle names; ``"Smith, Jon"``
puts the surname first. Without a comma the reverse order is tried too. Candidates are the
entities with a known name whose surname is the query's, sounds like it (``sound_key``, a
Soundex-style key) or is close to it (Jaro-Winkler >= ``SURNAME_SIMILARITY``), plus, when a
date of birth is given, every entity known with that date or with its day and month swapped.
Each known name of a candidate (every alias the hub keeps) is scored and the best counts:

- surname: 1 the same; the sounds-alike key the same: at least 0.9; else Jaro-Winkler, 0
  below ``SURNAME_SIMILARITY``; 0.3 when the record has none (a caller who gave a forename);
- forename: 1 the same; 0.95 another form of the same name (``forename_variants.csv``: Jon,
  John, Jonathan); 0.85 an initial on either side; sounds alike or Jaro-Winkler >= 0.8: at
  least 0.85; 0.8 a short form (one name starts the other, three letters at least, or ends it,
  four at least) or the record's middle name; 0.3 when the record has no forename; else 0;
- name = the surname score, averaged with the forename score when a forename was given (so
  the forename and date of birth of someone since married still find her); a name below
  ``MIN_NAME_SCORE`` is no hit;
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
import threading
import time
import unicodedata
import weakref
from collections.abc import Collection
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
from jellyfish import jaro_winkler_similarity

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
from wmp_platform.sql import sql_literal
from wmp_platform.storage import UNPARTITIONED

SCHEMA = "search"
KINDS = ("person", "vehicle", "location")
SURNAME_SIMILARITY = 0.8
MIN_NAME_SCORE = 0.5
MAX_QUERY_LENGTH = 200
DEFAULT_LIMIT = 10
PERSON_IDENTIFIERS = ("pnc_id", "cro_number", "ni_number", "phone")
_NAME_TEXT = re.compile(r"[^\W\d_]+(?:['’.\-][^\W\d_]*)*\.?", re.UNICODE)  # a part of a name: letters, - ' .


class SearchError(ValueError):
    """Bad input, or nothing to search: the message says what and why."""


# --- keys shared by the index and the queries ----------------------------------------------

# The sounds-alike key: Soundex with a few first-letter spellings folded first. The rules exist once,
# here; ``sound_key`` (Python) and the macro ``wmp_sound_key`` (SQL) are both made from them, so a
# query's key and the index's agree. It takes a name key (letters A-Z only).
SOUND_SPELLINGS = (("PH", "F"), ("^(KN|GN|PN)", "N"), ("^WR", "R"), ("^[KQ]", "C"), ("^[ZX]", "S"))
SOUND_LETTERS = "AEIOUY" "BFPV" "CGJKQSXZ" "DT" "L" "MN" "R" "HW"
SOUND_CODES = "000000" "1111" "22222222" "33" "4" "55" "6"  # H and W have no code: they are dropped
SOUND_UNCODED = "HW"
_SOUND_TABLE = str.maketrans(SOUND_LETTERS[: len(SOUND_CODES)], SOUND_CODES, SOUND_UNCODED)


def sound_key(key: str | None) -> str | None:
    """The sounds-alike key of a name key: ``SMITH`` and ``SMYTH`` -> ``S530``; ``KATE`` -> ``C300``."""
    if not key:
        return None
    spelt = key
    for pattern, replacement in SOUND_SPELLINGS:
        spelt = re.sub(pattern, replacement, spelt)
    codes = spelt.translate(_SOUND_TABLE)
    for digit in "0123456":
        codes = re.sub(f"{digit}+", digit, codes)
    # the first letter stands for itself: its code (if it has one) is not repeated
    digits = codes[0 if spelt[0] in SOUND_UNCODED else 1:].replace("0", "")
    return spelt[0] + digits[:3].ljust(3, "0")


def _sound_macros() -> tuple[str, ...]:
    spelt = "k"
    for pattern, replacement in SOUND_SPELLINGS:
        spelt = f"regexp_replace({spelt}, '{pattern}', '{replacement}', 'g')"
    collapsed = f"translate(spelt, '{SOUND_LETTERS}', '{SOUND_CODES}')"
    for digit in "0123456":
        collapsed = f"regexp_replace({collapsed}, '{digit}+', '{digit}', 'g')"
    digits = (f"replace(substr({collapsed}, CASE WHEN left(spelt, 1) IN ({', '.join(map(repr, SOUND_UNCODED))}) "
              "THEN 1 ELSE 2 END), '0', '')")
    return (
        f"CREATE OR REPLACE MACRO wmp__sound_spelling(k) AS ({spelt})",
        f"CREATE OR REPLACE MACRO wmp__sound_of(spelt) AS (left(spelt, 1) || rpad(left({digits}, 3), 3, '0'))",
        ("CREATE OR REPLACE MACRO wmp_sound_key(k) AS "
        "(CASE WHEN coalesce(k, '') <> '' THEN wmp__sound_of(wmp__sound_spelling(k)) END)"),
    )


SEARCH_MACROS = (
    f"CREATE OR REPLACE MACRO wmp_name_key(x) AS ({_key('x')})",
    # name keys of a written name, in order: "O'Brien-Smith, Mary-Jo" -> [OBRIENSMITH, MARYJO]
    ("CREATE OR REPLACE MACRO wmp_name_tokens(x) AS (list_filter(list_transform("
     r"regexp_split_to_array(trim(upper(strip_accents(x))), '[\s,]+'), "
     "lambda t: regexp_replace(t, '[^A-Z]', '', 'g')), lambda t: t <> ''))"),
    *_sound_macros(),
)


def install_search_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Create the search macros in the connection's default catalog (the snapshot, when building)."""
    for statement in SEARCH_MACROS:
        con.execute(statement)


# --- the index -------------------------------------------------------------------------------

def _all_feeds(column: str) -> str:
    """SQL aggregating the lists of feeds in ``column``: every feed once, sorted."""
    return f"list_sort(list_distinct(flatten(list({column}))))"


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
    # names as the hub keeps them (aliases), split into name keys: first the forename, last the surname;
    # a lone word is a surname unless the golden record has it as a forename and knows no surname; one row
    # per set of feeds, so the spelling a row shows was recorded by the feeds it is kept for
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _name_forms AS
        SELECT entity_id, arg_max(value, mentions) AS name, sum(mentions) AS name_mentions,
               CASE WHEN len(t) > 1 OR forename_only THEN t[1] END AS forename,
               CASE WHEN len(t) > 2 THEN t[2:-2] ELSE [] END AS middle,
               CASE WHEN NOT forename_only THEN t[-1] END AS surname, feeds
        FROM (SELECT a.entity_id, a.value, a.mentions, a.feeds, wmp_name_tokens(a.value) AS t,
                     len(t) = 1 AND g.surname IS NULL AND wmp_name_key(g.forename) = t[1] AS forename_only
              FROM entities.person_aliases a LEFT JOIN entities.person_golden g USING (entity_id))
        WHERE len(t) > 0 GROUP BY entity_id, t, forename_only, feeds""")
    con.execute(f"""
        CREATE OR REPLACE TABLE {SCHEMA}.name_keys AS
        WITH used AS (
          SELECT DISTINCT k FROM (SELECT forename AS k FROM _name_forms UNION ALL SELECT surname FROM _name_forms
                                  UNION ALL SELECT unnest(middle[1:2]) FROM _name_forms) WHERE k IS NOT NULL
        )
        SELECT CAST(row_number() OVER (ORDER BY k) - 1 AS INTEGER) AS name_no, k AS name_key,
               wmp_sound_key(k) AS sound, coalesce(r.roots, []) AS roots
        FROM used LEFT JOIN {SCHEMA}.forename_roots r ON r.forename = used.k ORDER BY name_no""")
    con.execute(f"""
        CREATE OR REPLACE TABLE {SCHEMA}.person_entities AS
        SELECT CAST(row_number() OVER (ORDER BY entity_id) - 1 AS INTEGER) AS entity_no, entity_id,
               concat_ws(' ', forename, middle_names, surname) AS golden_name, dob AS golden_dob, pnc_id, postcode,
               mentions, active_warnings
        FROM views.person_360 ORDER BY entity_no""")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _person_dobs AS
        SELECT entity_id, dob, {_all_feeds("feeds")} AS feeds
        FROM (SELECT entity_id, TRY_CAST(value AS DATE) AS dob, feeds FROM entities.person_identifiers
              WHERE attribute = 'dob'
              UNION ALL SELECT entity_id, dob, [dob_source] FROM entities.person_golden)
        WHERE dob IS NOT NULL GROUP BY entity_id, dob""")
    # the sets of feeds a name or a date of birth comes from, numbered: the name index holds numbers
    con.execute(f"""
        CREATE OR REPLACE TABLE {SCHEMA}.feed_sets AS
        SELECT CAST(row_number() OVER (ORDER BY feeds) - 1 AS INTEGER) AS feed_set, feeds
        FROM (SELECT feeds FROM _name_forms UNION SELECT feeds FROM _person_dobs) ORDER BY feed_set""")
    con.execute(f"""
        CREATE OR REPLACE TABLE {SCHEMA}.person_names AS
        SELECT e.entity_no, f.name_no AS forename_no, s.name_no AS surname_no, m1.name_no AS middle_no,
               m2.name_no AS middle2_no, x.name, CAST(x.name_mentions AS INTEGER) AS name_mentions, fs.feed_set
        FROM _name_forms x
        JOIN {SCHEMA}.person_entities e USING (entity_id)
        JOIN {SCHEMA}.feed_sets fs USING (feeds)
        LEFT JOIN {SCHEMA}.name_keys s ON s.name_key = x.surname
        LEFT JOIN {SCHEMA}.name_keys f ON f.name_key = x.forename
        LEFT JOIN {SCHEMA}.name_keys m1 ON m1.name_key = x.middle[1]
        LEFT JOIN {SCHEMA}.name_keys m2 ON m2.name_key = x.middle[2]
        ORDER BY surname_no NULLS FIRST, entity_no, forename_no""")
    con.execute(f"""
        CREATE OR REPLACE TABLE {SCHEMA}.person_dobs AS
        SELECT e.entity_no, d.dob, fs.feed_set
        FROM _person_dobs d JOIN {SCHEMA}.person_entities e USING (entity_id) JOIN {SCHEMA}.feed_sets fs USING (feeds)
        ORDER BY d.dob, e.entity_no""")
    con.execute(f"""
        CREATE OR REPLACE TABLE {SCHEMA}.person_identifiers AS
        SELECT i.value, i.attribute, i.entity_id, i.mentions AS value_mentions, i.feeds,
               concat_ws(' ', v.forename, v.middle_names, v.surname) AS golden_name, v.dob AS golden_dob, v.pnc_id,
               v.postcode, v.mentions, v.active_warnings
        FROM entities.person_identifiers i JOIN views.person_360 v USING (entity_id)
        WHERE i.attribute IN ({", ".join(f"'{a}'" for a in PERSON_IDENTIFIERS)})
        ORDER BY i.value, i.entity_id""")
    con.execute(f"""
        CREATE OR REPLACE TABLE {SCHEMA}.vehicle_registrations AS
        SELECT r.registration, r.entity_id, r.current, g.registration AS current_registration,
               g.make, g.model, g.colour, g.mentions, {_all_feeds("r.feeds")} AS feeds
        FROM (SELECT wmp_vrm(registration) AS registration, entity_id, true AS current, [registration_source] AS feeds
              FROM entities.vehicle_golden
              UNION ALL
              SELECT wmp_vrm(value), entity_id, false, feeds FROM entities.vehicle_identifiers
              WHERE attribute = 'registration') r
        JOIN entities.vehicle_golden g USING (entity_id)
        WHERE r.registration IS NOT NULL GROUP BY ALL ORDER BY r.registration, r.entity_id""")
    place = "g.address, g.postcode AS current_postcode, g.uprn AS current_uprn, g.mentions"
    con.execute(f"""
        CREATE OR REPLACE TABLE {SCHEMA}.location_postcodes AS
        SELECT p.postcode, p.entity_id, p.current, {place},
               {_all_feeds("p.feeds")} AS feeds
        FROM (SELECT wmp_postcode(postcode) AS postcode, entity_id, true AS current, [address_source] AS feeds
              FROM entities.location_golden
              UNION ALL
              SELECT wmp_postcode(regexp_extract(value, ',([^,]*)$', 1)), entity_id, false, feeds
              FROM entities.location_addresses) p
        JOIN entities.location_golden g USING (entity_id)
        WHERE wmp_valid_postcode(p.postcode) GROUP BY ALL ORDER BY p.postcode, p.entity_id""")
    con.execute(f"""
        CREATE OR REPLACE TABLE {SCHEMA}.location_uprns AS
        SELECT u.uprn, u.entity_id, {place}, {_all_feeds("u.feeds")} AS feeds
        FROM (SELECT CAST(uprn AS VARCHAR) AS uprn, entity_id, [uprn_source] AS feeds FROM entities.location_golden
              UNION ALL
              SELECT value, entity_id, feeds FROM entities.location_identifiers WHERE attribute = 'uprn') u
        JOIN entities.location_golden g USING (entity_id)
        WHERE u.uprn IS NOT NULL GROUP BY ALL ORDER BY u.uprn, u.entity_id""")
    con.execute(f"""
        CREATE OR REPLACE TABLE {SCHEMA}.location_words AS
        SELECT word, entity_id, {_all_feeds("feeds")} AS feeds
        FROM (SELECT entity_id, unnest({_words('address')}) AS word, [address_source] AS feeds
              FROM entities.location_golden
              UNION ALL
              SELECT entity_id, unnest({_words("regexp_replace(value, ',[^,]*$', '')")}), feeds
              FROM entities.location_addresses)
        GROUP BY word, entity_id ORDER BY word, entity_id""")
    con.execute(f"""
        CREATE OR REPLACE TABLE {SCHEMA}.location_word_vocabulary AS
        SELECT word, count(*) AS places FROM {SCHEMA}.location_words GROUP BY word ORDER BY word""")
    con.execute(f"""
        CREATE OR REPLACE TABLE {SCHEMA}.location_summaries AS
        SELECT g.entity_id, {place} FROM entities.location_golden g ORDER BY g.entity_id""")
    for kind in KINDS:
        # each entity's records (and a person's active warnings) per feed: what a reader who sees only
        # some feeds may be told of counts and dates
        warnings = ("""SELECT entity_id, w.feed, count(*) AS active_warnings
                       FROM (SELECT entity_id, unnest(warnings) AS w FROM views.person_360) WHERE w.active GROUP BY ALL"""
                    if kind == "person" else "SELECT NULL AS entity_id, NULL AS feed, 0 AS active_warnings LIMIT 0")
        con.execute(f"""
            CREATE OR REPLACE TABLE {SCHEMA}.{kind}_feed_counts AS
            SELECT entity_id, feed, coalesce(m.mentions, 0) AS mentions, m.first_seen, m.last_seen,
                   coalesce(w.active_warnings, 0) AS active_warnings
            FROM (SELECT entity_id, split_part(mention_id, '|', 1) AS feed, count(*) AS mentions,
                         min(nullif(partition, {sql_literal(UNPARTITIONED)})) AS first_seen,
                         max(nullif(partition, {sql_literal(UNPARTITIONED)})) AS last_seen
                  FROM entities.{kind}_assignments GROUP BY ALL) m
            FULL JOIN ({warnings}) w USING (entity_id, feed)
            ORDER BY entity_id, feed""")
        # each 360 view as JSON text, with the entity's records by feed: one keyed read fetches a whole picture
        con.execute(f"""
            CREATE OR REPLACE TABLE {SCHEMA}.{kind}_views AS
            SELECT entity_id, CAST(to_json(struct_insert(v, records_by_feed := coalesce(r.records, []))) AS VARCHAR) AS view
            FROM views.{kind}_360 v
            LEFT JOIN (SELECT entity_id, list({{'feed': feed, 'mentions': mentions, 'first_seen': first_seen,
                                                'last_seen': last_seen}} ORDER BY feed) AS records
                       FROM {SCHEMA}.{kind}_feed_counts GROUP BY entity_id) r USING (entity_id)
            ORDER BY entity_id""")
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
        return json.dumps(self.to_dict(), indent=indent, default=json_default, ensure_ascii=False)

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


def json_default(value: Any) -> str:
    """JSON for what json does not know: dates and times as ISO text, anything else as text."""
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
    """A name as searched, in name keys: forename (may be an initial), middle names, surname."""

    forename: str | None
    middle: tuple[str, ...]
    surname: str
    surname_first: bool  # written "Surname, Forename": the order is known

    def readings(self) -> list[tuple[str | None, str]]:
        """(forename, surname) readings: as written, and reversed when the order is unknown."""
        readings = [(self.forename, self.surname)]
        if self.forename and not self.surname_first and len(self.forename) > 1:
            readings.append((self.surname, self.forename))
        return readings


def name_tokens(text: str) -> list[str]:
    """Name keys of a written name, in order, as the macro ``wmp_name_tokens`` makes them: accents
    dropped, upper case, letters A-Z only; words split at spaces and commas."""
    bare = "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")
    upper = "".join(c.upper() if len(c.upper()) == 1 else c for c in bare)
    return [key for key in (re.sub("[^A-Z]", "", word) for word in re.split(r"[\s,]+", upper.strip())) if key]


def parse_person_name(text: str) -> PersonName:
    """Split a written name into name keys; errors name what is wrong."""
    parts = text.split(",")
    if len(parts) > 2:
        raise SearchError(f"name {text!r}: at most one comma (Surname, Forenames)")
    for part in parts:
        stray = _NAME_TEXT.sub("", part).strip()
        if stray:
            raise SearchError(f"name {text!r}: {stray[:20]!r} is not part of a name (letters, spaces, hyphens and "
                              "apostrophes); for an identifier give a PNC ID, CRO number, NI number or phone number")
    tokens = [name_tokens(part) for part in parts]
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


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: Any = None) -> list[tuple]:
    try:
        return con.execute(sql, params).fetchall()
    except duckdb.CatalogException as error:
        raise SearchError(f"this database is no published snapshot with a search index ({error}); search what "
                          "snapshot.open_published opens") from None


_SNAPSHOT_OF: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # connection -> its snapshot's id


def _snapshot_id(con: duckdb.DuckDBPyConnection) -> str:
    """The id of the snapshot a connection reads (asked once per connection: a snapshot never changes)."""
    snapshot_id = _SNAPSHOT_OF.get(con)
    if snapshot_id is None:
        snapshot_id = _SNAPSHOT_OF[con] = _rows(con, "SELECT snapshot_id FROM published.manifest")[0][0]
    return snapshot_id


# --- the person name index, in memory ------------------------------------------------------------

class PersonIndex:
    """A snapshot's person name index held in memory as integer-coded arrays, so a name search is a few
    array look-ups and vector operations instead of SQL to plan (planning alone costs more than the
    search). Loaded once per snapshot (``person_index``) from the tables ``build_search_index`` made;
    snapshots never change, so it never goes stale.

    Names are numbered (``name_keys``), entities too (``person_entities``, in entity id order), and
    each known name of an entity is a row of (entity, forename, surname, two middle names), sorted
    by surname, so the rows of a surname are one slice. Scores are worked out once per distinct
    name among the candidates, then spread over the rows.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, snapshot_id: str):
        self.snapshot_id = snapshot_id
        keys = con.sql(f"SELECT name_key, sound, roots FROM {SCHEMA}.name_keys ORDER BY name_no").fetchall()
        self.keys = [k for k, _, _ in keys]
        self.number = {k: n for n, k in enumerate(self.keys)}
        self.sounds = [s for _, s, _ in keys]
        self.roots = [set(r) | {k} for k, _, r in keys]
        self.forename_roots = dict(con.execute(f"SELECT forename, roots FROM {SCHEMA}.forename_roots").fetchall())
        self.feed_sets = [frozenset(f) for (f,) in con.sql(
            f"SELECT feeds FROM {SCHEMA}.feed_sets ORDER BY feed_set").fetchall()]
        self._seen_sets: dict[frozenset[str], np.ndarray] = {}
        self.sound_number = {sound: n for n, sound in enumerate(sorted(set(self.sounds)))}
        self.sound_of = np.array([self.sound_number[s] for s in self.sounds], dtype=np.int32)
        self.first_letter = np.array([ord(k[0]) for k in self.keys], dtype=np.int32)
        self.length = np.array([len(k) for k in self.keys], dtype=np.int32)
        by_root: dict[str, list[int]] = {}
        for n, roots in enumerate(self.roots):
            for root in roots:
                by_root.setdefault(root, []).append(n)
        self.by_root = {root: np.array(numbers, dtype=np.int32) for root, numbers in by_root.items()}
        names = con.sql(f"""
            SELECT entity_no, coalesce(forename_no, -1) AS forename_no, coalesce(surname_no, -1) AS surname_no,
                   coalesce(middle_no, -1) AS middle_no, coalesce(middle2_no, -1) AS middle2_no, name_mentions,
                   feed_set, name
            FROM {SCHEMA}.person_names ORDER BY surname_no NULLS FIRST, entity_no, forename_no""").to_arrow_table()
        column = {c: _array(names, c) for c in names.column_names if c != "name"}
        self.entity, self.forename, self.surname = column["entity_no"], column["forename_no"], column["surname_no"]
        self.middle = np.stack([column["middle_no"], column["middle2_no"]], axis=1)
        self.name_mentions, self.name_feed_set = column["name_mentions"], column["feed_set"]
        self.name_text = names["name"].combine_chunks()
        self.forename_letter = np.where(self.forename >= 0, self.first_letter[np.maximum(self.forename, 0)], 0)
        self.surname_start = np.searchsorted(self.surname, np.arange(len(self.keys) + 1))
        # the surnames, by sound and by first letter, for finding those near a query's
        self.by_sound: dict[str, list[int]] = {}
        self.by_letter: dict[str, list[int]] = {}
        for n in np.flatnonzero(np.diff(self.surname_start)).tolist():
            self.by_sound.setdefault(self.sounds[n], []).append(n)
            self.by_letter.setdefault(self.keys[n][0], []).append(n)
        self.by_entity = np.argsort(self.entity, kind="stable")
        self.summaries = con.sql(f"SELECT {', '.join(PERSON_SUMMARY)}, entity_id FROM {SCHEMA}.person_entities "
                                 "ORDER BY entity_no").to_arrow_table().combine_chunks()
        self.entity_mentions = _array(self.summaries, "mentions")
        entities = self.summaries.num_rows
        self.entity_start = np.searchsorted(self.entity, np.arange(entities + 1), sorter=self.by_entity)
        dobs = con.sql(f"SELECT entity_no, CAST(dob - DATE '1970-01-01' AS INTEGER) AS day, feed_set "
                       f"FROM {SCHEMA}.person_dobs ORDER BY entity_no, dob").to_arrow_table()
        dob_entity, days, dob_set = _array(dobs, "entity_no"), _array(dobs, "day"), _array(dobs, "feed_set")
        dob_order = np.argsort(days, kind="stable")
        self.dob_sorted, self.dob_entities, self.dob_sorted_set = days[dob_order], dob_entity[dob_order], dob_set[dob_order]
        # each entity's dates of birth (days since 1970; the first DOB_SLOTS of them), padded with NO_DOB,
        # and the feed set of each
        self.dobs = np.full((entities, DOB_SLOTS), NO_DOB, dtype=np.int32)
        self.dob_sets = np.zeros((entities, DOB_SLOTS), dtype=np.int32)
        slot = np.arange(len(dob_entity)) - np.searchsorted(dob_entity, dob_entity)  # rows are in entity order
        kept = slot < DOB_SLOTS
        self.dobs[dob_entity[kept], slot[kept]] = days[kept]
        self.dob_sets[dob_entity[kept], slot[kept]] = dob_set[kept]

    def seen_sets(self, feeds: Collection[str]) -> np.ndarray:
        """Whether each feed set holds one of ``feeds``, by feed set number (kept per distinct ``feeds``)."""
        key = frozenset(feeds)
        seen = self._seen_sets.get(key)
        if seen is None:
            if len(self._seen_sets) > 64:
                self._seen_sets.clear()
            seen = self._seen_sets[key] = np.array([bool(s & key) for s in self.feed_sets] or [False])
        return seen

    # -- scoring, per distinct name number ------------------------------------------------------------

    def surnames_near(self, surname: str) -> dict[int, float]:
        """Surname numbers near the query's, with their surname score: 1 the same; sounding alike at
        least 0.9; else Jaro-Winkler when >= SURNAME_SIMILARITY (same first letter: slips rarely
        touch it)."""
        sound = sound_key(surname)
        near = {n: max(0.9, jaro_winkler_similarity(self.keys[n], surname)) for n in self.by_sound.get(sound, ())}
        for n in self.by_letter.get(surname[0], ()):
            if n not in near:
                similarity = jaro_winkler_similarity(self.keys[n], surname)
                if similarity >= SURNAME_SIMILARITY:
                    near[n] = similarity
        if surname in self.number:
            near[self.number[surname]] = 1.0
        return near

    def surname_scores(self, numbers: np.ndarray, surname: str, near: dict[int, float]) -> np.ndarray:
        """Surname scores of distinct surname numbers (-1: no surname)."""
        sound = sound_key(surname)
        scores = []
        for n in numbers.tolist():
            if n < 0:
                scores.append(0.3)
            elif n in near:
                scores.append(near[n])
            else:
                similarity = jaro_winkler_similarity(self.keys[n], surname)
                scores.append(max(0.9, similarity) if self.sounds[n] == sound
                              else similarity if similarity >= SURNAME_SIMILARITY else 0.0)
        return np.array(scores)

    def forename_scores(self, numbers: np.ndarray, forename: str) -> np.ndarray:
        """The forename rules of the module docstring (but the middle-name rule, applied per row), for
        distinct forename numbers (-1: no forename)."""
        known = numbers >= 0
        n = np.maximum(numbers, 0)
        letter = self.first_letter[n]
        exact = known & (numbers == self.number.get(forename, -2))
        query_roots = {forename, *self.forename_roots.get(forename, ())}
        related = [self.by_root[root] for root in query_roots if root in self.by_root]
        same_name = known & np.isin(numbers, np.concatenate(related)) if related else np.zeros(len(numbers), bool)
        if len(forename) == 1:  # the query gives an initial
            initial = known & (letter == ord(forename))
        else:  # the record does
            initial = known & (self.length[n] == 1) & (letter == ord(forename[0]))
        alike = known & (self.sound_of[n] == self.sound_number.get(sound_key(forename), -1))
        similarity, short = np.zeros(len(numbers)), np.zeros(len(numbers), bool)
        for i in np.flatnonzero(known & (letter == ord(forename[0]))).tolist():  # slips and short forms
            key = self.keys[numbers[i]]
            similarity[i] = jaro_winkler_similarity(key, forename)
            shorter = min(len(key), len(forename))
            short[i] = (shorter >= 3 and (key.startswith(forename) or forename.startswith(key))) or (
                shorter >= 4 and (key.endswith(forename) or forename.endswith(key)))
        return np.select(
            [~known, exact, same_name, initial, alike | (similarity >= 0.8), short],
            [0.3, 1.0, 0.95, 0.85, np.maximum(0.85, similarity), 0.8], default=0.0)

    # -- the search ---------------------------------------------------------------------------------

    def search(self, name: PersonName, day: date | None, limit: int, feeds: Collection[str] | None = None
               ) -> list[tuple]:
        """(entity_id, score, matched, *summary) of the best entities, best first; with ``feeds``, only
        names and dates of birth those feeds recorded count."""
        seen = None if feeds is None else self.seen_sets(feeds)
        readings = name.readings()
        near = [self.surnames_near(surname) for _, surname in readings]
        slices = []
        for i, ((forename, _), found) in enumerate(zip(readings, near)):
            for n in found:
                rows = np.arange(self.surname_start[n], self.surname_start[n + 1])
                if i:  # the reversed reading: only forenames that could be the query's first word
                    rows = rows[self.forename_letter[rows] == ord(forename[0])]
                slices.append(rows)
        if day is not None:  # everyone known with the date, or with its day and month swapped
            for when in {day, _swapped(day)} - {None}:
                lo, hi = np.searchsorted(self.dob_sorted, np.array([_days(when), _days(when) + 1], np.int32))
                known = self.dob_entities[lo:hi]
                if seen is not None:
                    known = known[seen[self.dob_sorted_set[lo:hi]]]
                slices += [self.by_entity[self.entity_start[e]:self.entity_start[e + 1]] for e in known]
        rows = np.unique(np.concatenate(slices)) if slices else np.array([], dtype=np.int64)
        if seen is not None:
            rows = rows[seen[self.name_feed_set[rows]]]
        if not len(rows):
            return []
        surnames, surname_at = np.unique(self.surname[rows], return_inverse=True)
        forenames, forename_at = np.unique(self.forename[rows], return_inverse=True)
        name_score = np.zeros(len(rows))
        for (forename, surname), found in zip(readings, near):
            s_score = self.surname_scores(surnames, surname, found)[surname_at]
            if forename is None:
                score = s_score
            else:
                f_score = self.forename_scores(forenames, forename)[forename_at]
                goes_by_middle = (self.middle[rows] == self.number.get(forename, -2)).any(axis=1)
                f_score = np.where(goes_by_middle & (f_score < 0.8), 0.8, f_score)
                score = (s_score + f_score) / 2
            name_score = np.maximum(name_score, score)
        keep = name_score >= MIN_NAME_SCORE
        rows, name_score = rows[keep], name_score[keep]
        if not len(rows):
            return []
        entities = self.entity[rows]
        if day is None:
            dob_score = None
        else:
            dobs = self.dobs[entities]
            if seen is not None:
                dobs = np.where(seen[self.dob_sets[entities]], dobs, NO_DOB)
            dob_score = self._dob_scores(dobs, day)
        score = name_score if dob_score is None else 0.6 * name_score + 0.4 * dob_score
        # best row per entity (ties: the name given by more records), then the best entities
        order = np.lexsort((-self.name_mentions[rows], -score, entities))
        first = order[np.r_[True, entities[order][1:] != entities[order][:-1]]]
        ranked = first[np.lexsort((entities[first], -self.entity_mentions[entities[first]], -score[first]))][:limit]
        hits = []
        summaries = self.summaries.take(pa.array(entities[ranked])).to_pylist()
        for i, summary in zip(ranked.tolist(), summaries):
            matched = f"name {self.name_text[int(rows[i])].as_py()}"
            if dob_score is not None:
                matched += ", dob " + DOB_MATCHES[float(dob_score[i])]
            hits.append((summary.pop("entity_id"), float(score[i]), matched, *summary.values()))
        return hits

    @staticmethod
    def _dob_scores(dobs: np.ndarray, day: date) -> np.ndarray:
        """1 a date of the entity's; 0.8 day and month swapped; 0.6 one keystroke away; 0.3 none known; else 0."""
        known = dobs != NO_DOB
        swapped = _swapped(day)
        score = np.where(known.any(axis=1), 0.0, 0.3)
        near = np.isin(dobs, np.array([_days(d) for d in _one_keystroke(day)], np.int32)) & known
        score = np.where(near.any(axis=1), 0.6, score)
        if swapped:
            score = np.where((dobs == _days(swapped)).any(axis=1), 0.8, score)
        return np.where((dobs == _days(day)).any(axis=1), 1.0, score)


DOB_SLOTS = 4  # dates of birth kept per entity for scoring (an entity rarely has more than two)
NO_DOB = np.iinfo(np.int32).min
DOB_MATCHES = {1.0: "same", 0.8: "day and month swapped", 0.6: "one keystroke away", 0.3: "unknown", 0.0: "differs"}
_EPOCH = date(1970, 1, 1).toordinal()
_INDEXES: dict[str, PersonIndex] = {}  # snapshot id -> its index; the latest two are kept
_LOADING = threading.Lock()


def _array(table: pa.Table, column: str) -> np.ndarray:
    """An integer column without nulls as a numpy array, read from Arrow's buffer (Arrow's own
    conversion loads pandas, a second and more at start-up)."""
    values = table[column].combine_chunks()
    if values.null_count or not pa.types.is_integer(values.type):
        raise TypeError(f"{column}: {values.type} with {values.null_count} nulls; need integers without nulls")
    width = values.type.bit_width // 8
    return np.frombuffer(values.buffers()[1], dtype=f"<i{width}", count=len(values), offset=values.offset * width)


def _days(day: date) -> int:
    return day.toordinal() - _EPOCH


def _one_keystroke(day: date) -> set[date]:
    """Dates whose YYYYMMDD is one keystroke from the day's: a digit mistyped or two swapped."""
    text, found = day.strftime("%Y%m%d"), set()
    variants = [text[:i] + d + text[i + 1:] for i in range(8) for d in "0123456789" if d != text[i]]
    variants += [text[:i] + text[i + 1] + text[i] + text[i + 2:] for i in range(7) if text[i] != text[i + 1]]
    for variant in variants:
        try:
            found.add(date(int(variant[:4]), int(variant[4:6]), int(variant[6:])))
        except ValueError:
            continue
    return found


def person_index(con: duckdb.DuckDBPyConnection, snapshot_id: str) -> PersonIndex:
    """The snapshot's person index, loaded on first use and kept (the two latest snapshots)."""
    index = _INDEXES.get(snapshot_id)
    if index is None:
        with _LOADING:
            index = _INDEXES.get(snapshot_id)
            if index is None:
                try:
                    index = PersonIndex(con, snapshot_id)
                except duckdb.CatalogException as error:
                    raise SearchError(f"this snapshot has no person index ({error})") from None
                for old in list(_INDEXES)[:-1]:
                    del _INDEXES[old]
                _INDEXES[snapshot_id] = index
    return index


def _keyed_rows(con: duckdb.DuckDBPyConnection, select: str, params: list, limit: int,
                feeds: Collection[str] | None) -> list[tuple]:
    """The best row of each entity, for the first ``limit`` entities, of a keyed look-up (``select``
    starts with the entity id, ends with its ORDER BY, best first, and its last column is the row's
    ``feeds``), without that column; with ``feeds``, only rows those feeds recorded. They are kept
    here rather than by a list test in DuckDB's scan, which doubles the look-up's time; a key has
    few rows."""
    allowed = None if feeds is None else set(feeds)
    best: dict[str, tuple] = {}
    for row in _rows(con, select, params):
        if (allowed is None or allowed.intersection(row[-1])) and row[0] not in best:
            best[row[0]] = row[:-1]
            if len(best) == limit:
                break
    return list(best.values())


PERSON_SUMMARY = ("golden_name", "golden_dob", "pnc_id", "postcode", "mentions", "active_warnings")


def search_person(con: duckdb.DuckDBPyConnection, name: str, dob: str | date | None = None, *,
                  limit: int = DEFAULT_LIMIT, views: int = 1, feeds: Collection[str] | None = None) -> SearchResult:
    """People by name (and date of birth), or by an identifier (PNC ID, CRO number, NI number, phone),
    best first. ``con``: a published snapshot (``snapshot.open_published``). ``feeds``: match only on
    what these feeds recorded (a reader's need-to-know); all feeds when None."""
    started = time.perf_counter()
    text = _query_text(name, "person search")
    day = parse_dob(dob)
    _check_limit(limit, views)
    identifier = person_identifier(text) if any(c.isdigit() for c in text) else None
    snapshot_id = _snapshot_id(con)
    if identifier:
        attribute, value = identifier
        rows = _keyed_rows(con, f"""
            SELECT entity_id, 1.0 AS score, attribute || ' ' || value AS matched, {", ".join(PERSON_SUMMARY)}, feeds
            FROM {SCHEMA}.person_identifiers WHERE value = ? AND attribute = ?
            ORDER BY mentions DESC, entity_id""", [value, attribute], limit, feeds)
        query = {"identifier": value, "dob": day}
    else:
        rows = person_index(con, snapshot_id).search(parse_person_name(text), day, limit, feeds)
        query = {"name": text, "dob": day}
    hits = [Hit(r[0], round(r[1], 4), r[2], dict(zip(PERSON_SUMMARY, r[3:]))) for r in rows]
    return _finish(con, "person", query, hits, views, started, snapshot_id)


VEHICLE_SUMMARY = ("current_registration", "make", "model", "colour", "mentions")


def search_vehicle(con: duckdb.DuckDBPyConnection, registration: str, *, limit: int = DEFAULT_LIMIT,
                   views: int = 1, feeds: Collection[str] | None = None) -> SearchResult:
    """Vehicles recorded under the registration (normalised: upper case, letters and digits only): the
    vehicle whose registration it is first, then vehicles it was read or typed as."""
    started = time.perf_counter()
    text = _query_text(registration, "vehicle search")
    if re.search(r"[^A-Za-z0-9 \-]", text):
        raise SearchError(f"registration {text!r}: only letters, digits, spaces and hyphens")
    value = normalise_vrm(text)
    if not 2 <= len(value) <= 8:
        raise SearchError(f"registration {text!r}: a registration has 2 to 8 letters and digits, this has {len(value)}")
    _check_limit(limit, views)
    snapshot_id = _snapshot_id(con)
    rows = _keyed_rows(con, f"""
        SELECT entity_id, CASE WHEN current THEN 1.0 ELSE 0.9 END AS score,
               CASE WHEN current THEN 'registration ' ELSE 'recorded as ' END || registration AS matched,
               {", ".join(VEHICLE_SUMMARY)}, feeds
        FROM {SCHEMA}.vehicle_registrations WHERE registration = ?
        ORDER BY score DESC, mentions DESC, entity_id""", [value], limit, feeds)
    hits = [Hit(r[0], r[1], r[2], dict(zip(VEHICLE_SUMMARY, r[3:]))) for r in rows]
    return _finish(con, "vehicle", {"registration": value}, hits, views, started, snapshot_id)


LOCATION_SUMMARY = ("address", "current_postcode", "current_uprn", "mentions")


def search_location(con: duckdb.DuckDBPyConnection, text: str, *, limit: int = DEFAULT_LIMIT,
                    views: int = 1, feeds: Collection[str] | None = None) -> SearchResult:
    """Places by postcode, UPRN or address text (a postcode at the end of the text narrows it)."""
    started = time.perf_counter()
    text = _query_text(text, "location search")
    _check_limit(limit, views)
    snapshot_id = _snapshot_id(con)
    postcode = normalise_postcode(text)
    columns = ", ".join(LOCATION_SUMMARY)
    if is_valid_postcode(postcode):
        rows = _keyed_rows(con, f"""
            SELECT entity_id, CASE WHEN current THEN 1.0 ELSE 0.9 END AS score,
                   CASE WHEN current THEN 'postcode ' ELSE 'recorded with postcode ' END || postcode, {columns}, feeds
            FROM {SCHEMA}.location_postcodes WHERE postcode = ?
            ORDER BY score DESC, address, entity_id""", [postcode], limit, feeds)
        query = {"postcode": postcode}
    elif text.isdigit():
        if not is_valid_uprn(text):
            raise SearchError(f"{text!r}: a UPRN has at most 12 digits")
        uprn = str(int(text))
        rows = _keyed_rows(con, f"""
            SELECT entity_id, 1.0, 'uprn ' || uprn, {columns}, feeds FROM {SCHEMA}.location_uprns
            WHERE uprn = ? ORDER BY entity_id""", [uprn], limit, feeds)
        query = {"uprn": uprn}
    else:
        rows, query = _address_rows(con, text, limit, feeds), {"address": text}
    hits = [Hit(r[0], round(r[1], 4), r[2], dict(zip(LOCATION_SUMMARY, r[3:]))) for r in rows]
    return _finish(con, "location", query, hits, views, started, snapshot_id)


_TRAILING_POSTCODE = re.compile(r"^(.*?)[\s,]+([A-Za-z]{1,2}\d[A-Za-z\d]?\s*\d[A-Za-z]{2})$")


def _address_rows(con: duckdb.DuckDBPyConnection, text: str, limit: int, feeds: Collection[str] | None
                  ) -> list[tuple]:
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
    from_feeds = "true" if feeds is None else "list_has_any(feeds, $feeds)"
    postcode_test = "p.current_postcode = $postcode" if feeds is None else f"""EXISTS (
        SELECT 1 FROM {SCHEMA}.location_postcodes l
        WHERE l.postcode = $postcode AND l.entity_id = s.entity_id AND list_has_any(l.feeds, $feeds))"""
    lookup = " UNION ALL ".join(f"SELECT entity_id FROM {SCHEMA}.location_words WHERE word = $w{i} AND {from_feeds}"
                                for i in range(len(rarest[1])))
    params: dict[str, Any] = {f"w{i}": w for i, w in enumerate(rarest[1])}
    params.update(names=[w for w, _, _ in variants], forms=[f for _, f, _ in variants], numbers=numbers,
                  postcode=postcode, wanted=len(names))
    if feeds is not None:
        params["feeds"] = sorted(feeds)
    # candidates hold a form of the rarest word; then every form of every word is checked on them
    return con.execute(f"""
        WITH candidates AS (SELECT DISTINCT entity_id FROM ({lookup})),
        held AS (
          SELECT w.entity_id, w.word FROM {SCHEMA}.location_words w SEMI JOIN candidates USING (entity_id)
          WHERE {from_feeds}
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
          AND ($postcode IS NULL OR {postcode_test})
        ORDER BY s.score DESC, p.mentions DESC, s.entity_id LIMIT {int(limit)}""", params).fetchall()


def _check_limit(limit: int, views: int) -> None:
    if not 1 <= limit <= 100:
        raise SearchError(f"limit {limit}: from 1 to 100")
    if not 0 <= views <= limit:
        raise SearchError(f"views {views}: from 0 to the limit ({limit})")


def view(con: duckdb.DuckDBPyConnection, kind: str, entity_id: str) -> dict[str, Any] | None:
    """The 360 view of one entity as JSON values (dates and times as ISO text), or None."""
    if kind not in KINDS:
        raise SearchError(f"kind {kind!r}: one of {', '.join(KINDS)}")
    rows = _rows(con, f"SELECT view FROM {SCHEMA}.{kind}_views WHERE entity_id = ?", [entity_id])
    return json.loads(rows[0][0]) if rows else None


def _finish(con, kind: str, query: dict, hits: list[Hit], views: int, started: float,
            snapshot_id: str | None) -> SearchResult:
    for hit in hits[:views]:
        hit.view = view(con, kind, hit.entity_id)
    return SearchResult(kind, query, snapshot_id, hits, round((time.perf_counter() - started) * 1000, 2))
