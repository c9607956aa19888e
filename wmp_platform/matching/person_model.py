"""The person matching model: Splink 5 on DuckDB, trained once, then used to score pairs many times.

A person mention (see ``mentions``) becomes a row of matching features (name keys, the forms a
forename takes, date of birth, address keys, phone, identifiers) and Splink scores candidate
pairs with five comparisons. Fields that move together are folded into one comparison, since
Splink adds the weights of comparisons as if they were independent:

- **name**: forename and surname together (names run in families and communities), with a
  term-frequency adjustment on the exact full name; a forename also agrees through a short
  form or variant (``forename_variants.csv``), an initial, a typing slip or the other record's
  middle name; levels for a missing forename or surname, a former surname, swapped names;
- **dob**: exact, day and month swapped, one keystroke apart;
- **sex**;
- **address_phone**: house, street, postcode and phone number, since people who live together
  share all of them (scored apart, a household would look like one person);
- **identifiers**: PNC ID, CRO number and NI number. Strong evidence, not keys: an agreeing
  identifier adds a bounded weight that names and dates of birth can outvote, so one
  mistyped PNC ID does not merge two people.

Term frequencies count distinct people, not mentions (``TF_PERSON_KEY``). After training no
level keeps an m probability below ``M_FLOOR``, so no single slip vetoes a pair.

Officers are linked by their collar number, which the force issues: mentions sharing a
collar number are joined by a deterministic edge (weight ``DETERMINISTIC_WEIGHT``).

The model (``train_person_model``) is the Splink settings with their trained m and u
probabilities, a JSON-able dict versioned by a hash of its content (``model_version``).
``predict_person_pairs`` scores pairs with it without training, either all pairs among the
mentions or, incrementally, new mentions against existing ones and among themselves.

Identical records. A prolific offender's records are often copies of one another (the same
name, date of birth, address and identifiers in every system), and each copy meets every record
the others meet: at ten million feed rows, most candidate pairs were such repeats. Records equal
in every feature are therefore scored once: the group's earliest record (by partition, then
mention id) is scored against a copy of itself, and when that pair is certain (at or above
``IDENTICAL_ABOVE``, a probability no clustering guard cuts) the other records of the group are
linked to it by an edge with that pair's score and evidence, flagged ``identical``, and take no
further part in scoring. The clustering counts each such group as the records it holds (see
``clusters``), so the entities are those that scoring every copy would give.

Edges: ``mention_id_l < mention_id_r``, ``match_probability``, ``match_weight``,
``evidence``, a list of (comparison, level, match_weight) whose weights add up to the
pair's match weight (the first item is the prior), as in Splink's waterfall chart, and
``identical``.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import math
import os
import tempfile
import time
from collections.abc import Iterable
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from wmp_platform.declarations import PERSON_ATTRIBUTES
from wmp_platform.ingest import _write_parquet_atomically
from wmp_platform.matching.clusters import IDENTICAL, PERSON_SETTINGS
from wmp_platform.matching.mentions import attribute_type
from wmp_platform.sql import quote, sql_literal

FORENAME_VARIANTS = Path(__file__).with_name("forename_variants.csv")
DETERMINISTIC_WEIGHT = 50.0  # a collar-number edge: a bayes factor of 2**50, certain in practice
DEFAULT_THRESHOLD = 0.1  # pairs below this probability are not kept as edges
MEMORY_LIMIT = "2GB"
IDENTICAL_ABOVE = PERSON_SETTINGS.certain  # identical records are folded when their pair is this certain
M_FLOOR = 1e-4  # the least m probability a level keeps after training (see _with_floor_on_m)
FAR_APART_YEARS = 1  # dates of birth further apart than this are rarely one person's ...
FAR_APART_M = 1e-3  # ... one true match in a thousand (see the dob comparison)

Mentions = pa.Table | str | Path | duckdb.DuckDBPyRelation

# Street types as written in addresses, to their full form, so "High St" and "High Street" agree.
STREET_TYPES = {
    "ST": "STREET", "RD": "ROAD", "AVE": "AVENUE", "AV": "AVENUE", "LN": "LANE", "DR": "DRIVE",
    "CL": "CLOSE", "CRES": "CRESCENT", "CR": "CRESCENT", "GDNS": "GARDENS", "GRN": "GREEN", "GR": "GROVE",
    "GRO": "GROVE", "PL": "PLACE", "SQ": "SQUARE", "TER": "TERRACE", "TERR": "TERRACE", "CT": "COURT",
    "PK": "PARK", "PDE": "PARADE", "HL": "HILL", "WY": "WAY", "MS": "MEWS", "BVD": "BOULEVARD",
}
SUB_BUILDING_WORDS = ("FLAT", "APARTMENT", "APT", "UNIT", "ROOM")

COMPARISONS = ("name", "dob", "sex", "address_phone", "identifiers")
IDENTIFIERS = ("pnc_id", "cro_number", "ni_number")


# --- features -----------------------------------------------------------------------


def _key(expression: str) -> str:
    """Upper-case letters only: "O'Brien-Smith" -> "OBRIENSMITH"; blank -> NULL."""
    return f"nullif(regexp_replace(upper(strip_accents({expression})), '[^A-Z]', '', 'g'), '')"


def forename_variants() -> list[tuple[str, str]]:
    """(name, variant) pairs from ``forename_variants.csv``, as written there."""
    with FORENAME_VARIANTS.open(newline="", encoding="utf-8") as f:
        rows = csv.DictReader(line for line in f if not line.startswith("#"))
        return [(row["name"], row["variant"]) for row in rows]


def _register_variants(con: duckdb.DuckDBPyConnection) -> None:
    pairs = forename_variants()
    con.register("forename_variant_pairs", pa.table({"name": [n for n, _ in pairs], "variant": [v for _, v in pairs]}))
    # A name's roots: itself and every name it is a form of. Two forenames whose roots meet are
    # forms of one name: "Bob" {BOB, ROBERT} and "Rob" {ROB, ROBERT}.
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE forename_roots AS
        SELECT {_key('variant')} AS forename, list(DISTINCT {_key('name')}) AS roots
        FROM forename_variant_pairs GROUP BY ALL""")


def _expanded_address(address: str) -> str:
    """Address tokens with street types written out (list of VARCHAR)."""
    types = "MAP {" + ", ".join(f"{sql_literal(k)}: {sql_literal(v)}" for k, v in STREET_TYPES.items()) + "}"
    tokens = f"list_filter(string_split(regexp_replace(upper({address}), '[^A-Z0-9 ]', ' ', 'g'), ' '), lambda t: t <> '')"
    return f"list_transform({tokens}, lambda t: coalesce({types}[t], t))"


def features_sql(mentions: str) -> str:
    """SELECT of the matching features of every person mention in the relation ``mentions``
    (``comparable`` is false for one with nothing Splink compares: a collar number alone)."""
    tokens = _expanded_address("m.address")
    numbers = f"list_filter({tokens}, lambda t: regexp_full_match(t, '[0-9]+[A-Z]?'))"
    sub_building = "[" + ", ".join(map(sql_literal, SUB_BUILDING_WORDS)) + "]"
    words = f"list_filter({tokens}, lambda t: NOT regexp_full_match(t, '[0-9]+[A-Z]?') AND NOT list_contains({sub_building}, t))"
    postcode = "nullif(upper(trim(m.postcode)), '')"
    street_key = f"nullif(trim(array_to_string({numbers}, ' ') || ' ' || array_to_string({words}[1:2], ' ')), '')"
    comparable = " OR ".join(f"m.{c} IS NOT NULL" for c in (*IDENTIFIERS, "phone", "dob", "forename", "surname", "address", "postcode"))
    return f"""
SELECT
  m.mention_id,
  m.partition,
  nullif(trim(m.collar_number), '') AS collar_number,
  coalesce({comparable}, false) AS comparable,
  {_key('m.forename')} AS forename,
  {_key("split_part(trim(m.middle_names), ' ', 1)")} AS middle_name,
  {_key('m.surname')} AS surname,
  {_key('m.forename')} || ' ' || {_key('m.surname')} AS forename_surname,
  list_filter(list_transform(string_split(regexp_replace(upper(strip_accents(m.surname)), '[^A-Z]+', ' ', 'g'), ' '),
              lambda p: nullif(p, '')), lambda p: p IS NOT NULL AND length(p) > 1) AS surname_parts,
  list_distinct(list_concat([{_key('m.forename')}], coalesce(v.roots, []))) AS forename_roots,
  CAST(m.dob AS DATE) AS dob,
  strftime(CAST(m.dob AS DATE), '%Y%m%d') AS dob_text,
  CASE WHEN upper(m.sex) IN ('M', 'F') THEN upper(m.sex) END AS sex,
  {street_key} AS street_key,
  nullif(array_to_string({numbers}, ' '), '') AS address_numbers,
  nullif(array_to_string({words}, ' '), '') AS address_words,
  nullif({words}, []) AS address_word_list,
  {postcode} AS postcode,
  nullif(regexp_extract({postcode}, '^([A-Z]{{1,2}}[0-9][A-Z0-9]? [0-9])', 1), '') AS postcode_sector,
  CASE WHEN {street_key} IS NOT NULL AND {postcode} IS NOT NULL THEN {street_key} || ' ' || {postcode} END AS address_key,
  nullif(regexp_replace(m.phone, '[^0-9+]', '', 'g'), '') AS phone,
  nullif(upper(trim(m.pnc_id)), '') AS pnc_id,
  nullif(upper(trim(m.cro_number)), '') AS cro_number,
  nullif(upper(replace(m.ni_number, ' ', '')), '') AS ni_number
FROM {mentions} AS m
LEFT JOIN forename_roots AS v ON v.forename = {_key('m.forename')}"""


FEATURE_COLUMNS = frozenset((
    "mention_id", "partition", "collar_number", "comparable", "forename", "middle_name", "surname", "forename_surname",
    "surname_parts", "forename_roots", "dob", "dob_text", "sex", "street_key", "address_numbers", "address_words",
    "address_word_list", "postcode", "postcode_sector", "address_key", "phone", "pnc_id", "cro_number", "ni_number",
))


# --- the model's settings -----------------------------------------------------------


def _level(sql: str, label: str, **options: Any) -> dict[str, Any]:
    return {"sql_condition": sql, "label_for_charts": label, **options}


def _null(columns: Iterable[str]) -> dict[str, Any]:
    return _level(" OR ".join(f'"{c}_l" IS NULL OR "{c}_r" IS NULL' for c in columns), "missing", is_null_level=True)


def _jw(column: str, threshold: float) -> str:
    return f'jaro_winkler_similarity("{column}_l", "{column}_r") >= {threshold}'


# A forename given another way: a typing slip, a short form or variant, an initial, the middle name.
FORENAME_AGREES = " OR ".join((
    _jw("forename", 0.92),
    'list_has_any("forename_roots_l", "forename_roots_r")',
    '((length("forename_l") = 1 OR length("forename_r") = 1) AND left("forename_l", 1) = left("forename_r", 1))',
    '"forename_l" = "middle_name_r"',
    '"middle_name_l" = "forename_r"',
))
# A surname given another way: a typing slip, one part of a double-barrelled name.
SURNAME_AGREES = " OR ".join((
    _jw("surname", 0.92),
    '(len("surname_parts_l") + len("surname_parts_r") > 2 AND list_has_any("surname_parts_l", "surname_parts_r"))',
))


# The same house written differently: the words of the address alike (Jaro-Winkler, so a slip or a
# dropped space still agrees; or most words shared, in any order) and the house numbers of one
# among the other's (neighbours differ only there).
SAME_HOUSE_SPELT_ANOTHER_WAY = (
    f'({_jw("address_words", 0.9)} OR len(list_intersect("address_word_list_l", "address_word_list_r"))'
    ' >= 0.6 * least(len("address_word_list_l"), len("address_word_list_r")))'
    """ AND coalesce(contains(' ' || "address_numbers_l" || ' ', ' ' || "address_numbers_r" || ' ')"""
    """ OR contains(' ' || "address_numbers_r" || ' ', ' ' || "address_numbers_l" || ' '), true)"""
)


NO_HOUSE_TO_COMPARE = '("street_key_l" IS NULL AND "postcode_l" IS NULL) OR ("street_key_r" IS NULL AND "postcode_r" IS NULL)'


def _comparisons() -> list[dict[str, Any]]:
    both_missing = " AND ".join(
        f"(\"{c}_l\" IS NULL OR \"{c}_r\" IS NULL)" for c in IDENTIFIERS
    )
    agree = " + ".join(f'CAST(coalesce("{c}_l" = "{c}_r", false) AS INTEGER)' for c in IDENTIFIERS)
    differ = " + ".join(f'CAST(coalesce("{c}_l" <> "{c}_r", false) AS INTEGER)' for c in IDENTIFIERS)
    near = " OR ".join(f'damerau_levenshtein("{c}_l", "{c}_r") <= 1' for c in IDENTIFIERS)
    return [
        {
            "output_column_name": "name",
            "comparison_description": "Forename and surname, as one comparison (they are not independent: "
                                      "names run in families and communities)",
            "comparison_levels": [
                _level('("forename_l" IS NULL AND "surname_l" IS NULL) OR ("forename_r" IS NULL AND "surname_r" IS NULL)',
                       "missing", is_null_level=True),
                _level('"forename_surname_l" = "forename_surname_r"', "exact",
                       tf_adjustment_column="forename_surname", tf_adjustment_weight=1.0),
                _level(f'"surname_l" = "surname_r" AND ({FORENAME_AGREES})', "surname exact, forename a variant"),
                _level(f'"forename_l" = "forename_r" AND ({SURNAME_AGREES})', "forename exact, surname a variant"),
                _level('jaro_winkler_similarity("forename_l", "surname_r") >= 0.88'
                       ' AND jaro_winkler_similarity("surname_l", "forename_r") >= 0.88', "forename and surname swapped"),
                _level(f"({FORENAME_AGREES}) AND ({SURNAME_AGREES})", "both variants"),
                _level('"surname_l" = "surname_r" AND ("forename_l" IS NULL OR "forename_r" IS NULL)',
                       "surname exact, no forename to compare"),
                _level('"forename_l" = "forename_r" AND ("surname_l" IS NULL OR "surname_r" IS NULL)',
                       "forename exact, no surname to compare"),
                _level(f'({FORENAME_AGREES}) AND ("surname_l" IS NULL OR "surname_r" IS NULL)',
                       "forename a variant, no surname to compare"),
                _level(f'("forename_l" = "forename_r" OR {FORENAME_AGREES}) AND "surname_l" <> "surname_r"',
                       "forename agrees, surname differs (a former surname?)"),
                _level('"surname_l" = "surname_r"', "surname agrees, forename differs (a relative?)"),
                _level("ELSE", "different"),
            ],
        },
        {
            "output_column_name": "dob",
            "comparison_description": "Date of birth: exact, day and month swapped, one keystroke apart",
            "comparison_levels": [
                _null(["dob"]),
                _level('"dob_l" = "dob_r"', "exact"),
                _level('year("dob_l") = year("dob_r") AND day("dob_l") = month("dob_r") AND month("dob_l") = day("dob_r")',
                       "day and month swapped"),
                _level('damerau_levenshtein("dob_text_l", "dob_text_r") <= 1', "one digit wrong or two transposed"),
                _level(f'abs(date_diff(\'day\', "dob_l", "dob_r")) <= {FAR_APART_YEARS} * 366', "different, within a year"),
                # Relatives at one address (a parent and child of one name, brothers) differ here and
                # hardly anywhere else. EM learns this level's m from pairs it half-believes are
                # matches, which relatives are; so m is fixed, not learned.
                _level("ELSE", f"more than {FAR_APART_YEARS} year apart", m_probability=FAR_APART_M, fix_m_probability=True),
            ],
        },
        {
            "output_column_name": "sex",
            "comparison_description": "Sex",
            "comparison_levels": [
                _null(["sex"]),
                _level('"sex_l" = "sex_r"', "same"),
                _level("ELSE", "different"),
            ],
        },
        {
            "output_column_name": "address_phone",
            "comparison_description": "Address, postcode and phone number, as one comparison: people who live "
                                      "together share all three",
            "comparison_levels": [
                _level('(("street_key_l" IS NULL AND "postcode_l" IS NULL) OR ("street_key_r" IS NULL AND "postcode_r" IS NULL))'
                       ' AND ("phone_l" IS NULL OR "phone_r" IS NULL)', "missing", is_null_level=True),
                _level('"address_key_l" = "address_key_r" AND "phone_l" = "phone_r"', "same house and postcode, same phone",
                       tf_adjustment_column="address_key", tf_adjustment_weight=1.0),
                _level('"address_key_l" = "address_key_r"', "same house and postcode",
                       tf_adjustment_column="address_key", tf_adjustment_weight=1.0),
                _level('"street_key_l" = "street_key_r" AND ("postcode_l" IS NULL OR "postcode_r" IS NULL)',
                       "same house, a postcode missing"),
                _level('"postcode_l" = "postcode_r" AND "address_numbers_l" = "address_numbers_r"',
                       "same postcode and house number"),
                _level('"street_key_l" = "street_key_r"', "same house, postcode differs"),
                _level(f'{SAME_HOUSE_SPELT_ANOTHER_WAY} AND coalesce(damerau_levenshtein("postcode_l", "postcode_r") <= 1, true)',
                       "same house spelt another way, postcode one character out or missing"),
                # no term frequencies on the phone: Splink scales them from the u of a level that is
                # a bare phone match, which here is "another address", far rarer than a phone match
                _level(f'"phone_l" = "phone_r" AND ({NO_HOUSE_TO_COMPARE})', "same phone, no address to compare"),
                _level('"phone_l" = "phone_r"', "same phone, another address"),
                _level('damerau_levenshtein("phone_l", "phone_r") <= 1', "phone one digit wrong or two transposed"),
                _level('"postcode_l" = "postcode_r"', "same postcode, another house"),
                _level(SAME_HOUSE_SPELT_ANOTHER_WAY, "same house spelt another way, postcode differs"),
                _level('"postcode_sector_l" = "postcode_sector_r"', "same postcode sector"),
                _level("ELSE", "different"),
            ],
        },
        {
            "output_column_name": "identifiers",
            "comparison_description": "PNC ID, CRO number and NI number, as one comparison",
            "comparison_levels": [
                _level(both_missing, "missing", is_null_level=True),
                _level(f"({agree}) >= 2 AND ({differ}) = 0", "two or more agree"),
                _level(f"({agree}) = 1 AND ({differ}) = 0", "one agrees"),
                _level(f"({agree}) >= 1", "one agrees, another differs"),
                _level(near, "one character apart"),
                _level("ELSE", "different"),
            ],
        },
    ]


# Candidate pairs: records agreeing on one of these (each an equi-join, so blocks are hash joins).
# The first two letters of a name survive most typing slips; a swapped forename and surname is
# its own rule. A full name alone is not a rule: common names make huge blocks (a million
# records of a city hold tens of millions of same-name pairs), and a name with nothing else in
# common does not make a match; with the year of birth it finds swapped or mistyped days, with
# the house a postcode missing or mistyped.
BLOCKING_RULES = (
    'l."forename" = r."forename" AND l."surname" = r."surname" AND year(l."dob") = year(r."dob")',
    'l."forename" = r."forename" AND l."surname" = r."surname" AND l."street_key" = r."street_key"',
    'l."dob" = r."dob" AND left(l."surname", 2) = left(r."surname", 2)',
    'l."dob" = r."dob" AND left(l."forename", 2) = left(r."forename", 2)',
    'l."dob" = r."dob" AND l."postcode" = r."postcode"',
    'l."surname" = r."surname" AND l."postcode" = r."postcode"',
    'l."forename" = r."forename" AND l."postcode" = r."postcode"',
    'l."forename" = r."surname" AND l."surname" = r."forename"',
    'l."pnc_id" = r."pnc_id"',
    'l."surname" = r."surname" AND left(l."pnc_id", 4) = left(r."pnc_id", 4)',  # a slip in the serial
    'l."cro_number" = r."cro_number"',
    'l."ni_number" = r."ni_number"',
    'l."phone" = r."phone"',
)


def person_settings() -> dict[str, Any]:
    """The untrained settings: comparisons, blocking rules for prediction, output columns."""
    return {
        "link_type": "dedupe_only",
        "unique_id_column_name": "mention_id",
        "comparisons": _comparisons(),
        "blocking_rules_to_generate_predictions": [
            {"blocking_rule": rule} for rule in BLOCKING_RULES
        ],
        "retain_matching_columns": True,  # Splink keeps the gamma_ (level) columns only with these
        "retain_intermediate_calculation_columns": True,
        "max_iterations": 25,
        "em_convergence": 0.0001,
    }


# --- running Splink -----------------------------------------------------------------


@contextmanager
def _splink_connection(memory_limit: str = MEMORY_LIMIT):
    """A private in-memory DuckDB for one Splink job, spilling to the system temp folder."""
    con = duckdb.connect()
    spill = Path(tempfile.gettempdir()) / f"wmp-matching-{os.getpid()}"
    con.execute(f"SET memory_limit = {sql_literal(memory_limit)}")
    con.execute(f"SET temp_directory = {sql_literal(str(spill))}")
    con.execute("SET preserve_insertion_order = false")
    _register_variants(con)
    try:
        yield con
    finally:
        con.close()


def _register_source(con: duckdb.DuckDBPyConnection, name: str, mentions: Mentions) -> set[str]:
    if isinstance(mentions, (str, Path)):
        con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT * FROM read_parquet({sql_literal(str(mentions))})")
    elif isinstance(mentions, duckdb.DuckDBPyRelation):
        con.register(name, mentions.to_arrow_table())
    else:
        con.register(name, mentions)
    return {row[0] for row in con.execute(f"DESCRIBE {name}").fetchall()}


def _load_features(con: duckdb.DuckDBPyConnection, name: str, mentions: Mentions) -> None:
    """A relation ``name`` of the features of ``mentions``: person mentions (any attribute may be
    missing), or features ``person_features`` made earlier, taken as they are."""
    source = f"{name}__source"
    present = _register_source(con, source, mentions)
    if "mention_id" not in present:
        raise ValueError(f"person mentions need a mention_id column; got {sorted(present)}")
    if FEATURE_COLUMNS <= present:  # read where they are: a hub's features need not be copied
        con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT {', '.join(sorted(FEATURE_COLUMNS))} FROM {source}")
        return
    columns = ", ".join(
        quote(a) if a in present else f"CAST(NULL AS {attribute_type(a)}) AS {quote(a)}"
        for a in ("partition", *PERSON_ATTRIBUTES)
    )
    con.execute(f"CREATE OR REPLACE TEMP VIEW {name}__mentions AS SELECT mention_id, {columns} FROM {source}")
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {features_sql(f'{name}__mentions')}")


def person_features(mentions: Mentions, *, memory_limit: str = MEMORY_LIMIT) -> pa.Table:
    """The matching features of person mentions. A hub can keep them beside its mentions and pass
    them to ``predict_person_pairs`` instead of the mentions, so linking a new partition does not
    recompute them for every existing mention."""
    with _splink_connection(memory_limit) as con:
        _load_features(con, "features", mentions)
        return con.sql("SELECT * FROM features ORDER BY mention_id").to_arrow_table()


def write_person_features(mentions: Mentions, path: Path | str, *, memory_limit: str = MEMORY_LIMIT) -> int:
    """``person_features`` written to a Parquet file (atomically) without passing through Python
    memory; returns the row count."""
    with _splink_connection(memory_limit) as con:
        _load_features(con, "features", mentions)
        return _copy_atomically(con, "SELECT * FROM features ORDER BY mention_id", Path(path))


def update_person_features(folder: Path | str, mentions: Mentions, changed: Mentions | None = None, *,
                           memory_limit: str = MEMORY_LIMIT) -> int:
    """Keep the features of ``mentions`` in the Parquet files of ``folder``, read together as
    ``person_features_files(folder)``; returns the rows written.

    With ``changed`` (the ``mention_id`` of every mention of new or restaged partitions), only the
    features of those and of mentions that have none yet are computed. When none of them is in the
    folder (new records: the usual case) they are added as one more file, so linking a partition
    into a large hub does not rewrite the hub's features. Otherwise (a restaged record) the folder is
    rewritten as one file, keeping the other rows. Without ``changed`` every row is computed into one
    file (a rebuild: this also drops the rows of mentions gone). Each file is written atomically;
    files replaced are removed only after their replacement is in place."""
    folder = Path(folder)
    files = sorted(folder.glob("*.parquet")) if folder.is_dir() else []
    with _splink_connection(memory_limit) as con:
        _register_source(con, "all_mentions", mentions)
        if changed is None or not files:
            _load_features(con, "fresh_features", mentions)
            return _replace_feature_files(con, "SELECT * FROM fresh_features", folder, files)
        kept = f"read_parquet({sql_literal(person_features_files(folder))})"
        _register_source(con, "changed_mentions", changed)
        con.execute(f"CREATE TEMP TABLE kept_ids AS SELECT mention_id FROM {kept}")
        _load_features(con, "fresh_features", con.sql(
            "SELECT * FROM all_mentions WHERE mention_id IN (SELECT mention_id FROM changed_mentions) "
            "OR mention_id NOT IN (SELECT mention_id FROM kept_ids)"))
        if not con.execute("SELECT 1 FROM fresh_features SEMI JOIN kept_ids USING (mention_id) LIMIT 1").fetchall():
            if not con.execute("SELECT 1 FROM fresh_features LIMIT 1").fetchall():
                return 0  # nothing new: no empty file
            return _copy_atomically(con, "SELECT * FROM fresh_features", folder / f"{time.time_ns()}.parquet")
        return _replace_feature_files(con, f"""
            SELECT {', '.join(sorted(FEATURE_COLUMNS))} FROM {kept}
            SEMI JOIN all_mentions USING (mention_id) ANTI JOIN fresh_features USING (mention_id)
            UNION ALL BY NAME SELECT * FROM fresh_features""", folder, files)


def person_features_files(folder: Path | str) -> str:
    """The glob of a features folder's files (see ``update_person_features``), as read_parquet takes it."""
    return str(Path(folder) / "*.parquet")


def _replace_feature_files(con: duckdb.DuckDBPyConnection, query: str, folder: Path, files: list[Path]) -> int:
    written = _copy_atomically(con, query, folder / f"{time.time_ns()}.parquet")
    for old in files:
        old.unlink(missing_ok=True)
    return written


def _copy_atomically(con: duckdb.DuckDBPyConnection, query: str, path: Path) -> int:
    """COPY the query's rows to a Parquet file, atomically as staging writes; the row count."""
    _write_parquet_atomically(
        lambda temporary: con.execute(
            f"COPY ({query}) TO {sql_literal(str(temporary))} (FORMAT parquet, COMPRESSION zstd)"),
        path,
    )
    return con.execute(f"SELECT count(*) FROM read_parquet({sql_literal(str(path))})").fetchall()[0][0]


def _linker(con: duckdb.DuckDBPyConnection, table: str, settings: dict[str, Any], *, validate: bool = False):
    """A Splink linker on ``table``; the settings are checked when a model is trained (``validate``),
    not each time a trained one is used (checking parses every level's SQL: ~1 s)."""
    from splink import DuckDBAPI, Linker

    db_api = DuckDBAPI(connection=con)
    return db_api, Linker(db_api.register(table), settings, log_level=logging.WARNING, validate_settings=validate)


# Term frequencies count distinct people, not mentions: a prolific offender's hundred records must
# not make their own name look common. A person is approximated by the value of another column
# (all mentions lacking it count as one).
TF_PERSON_KEY = {"forename_surname": "dob", "address_key": "forename_surname"}
# Below this many people with a value, frequencies are noise (in a list of twenty, every name is
# rare): the lookup stays empty and the level keeps its trained weight.
TF_MIN_PEOPLE = 1000


def _register_term_frequencies(con: duckdb.DuckDBPyConnection, db_api, linker, features: str, columns: Iterable[str]) -> None:
    for column in dict.fromkeys(columns):
        person = TF_PERSON_KEY[column]
        table = f"tf_{column}_lookup"
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE {table} AS
            WITH people AS (
                -- distinct pairs, then counted: all mentions lacking the person key make one (faster than count(DISTINCT))
              SELECT {column}, count(*) AS n FROM (SELECT DISTINCT {column}, {person} FROM {features} WHERE {column} IS NOT NULL)
              GROUP BY ALL
            )
            SELECT {column}, n / sum(n) OVER () AS tf_{column} FROM people
            QUALIFY sum(n) OVER () >= {TF_MIN_PEOPLE}""")
        linker.table_management.register_term_frequency_lookup(db_api.register(table), column)


def _tf_columns(settings: dict[str, Any]) -> list[str]:
    return [
        level["tf_adjustment_column"]
        for comparison in settings["comparisons"]
        for level in comparison["comparison_levels"]
        if level.get("tf_adjustment_column")
    ]


# Pairs that are almost surely one person, to estimate how many pairs match (the prior).
DETERMINISTIC_RULES = (
    'l."forename_surname" = r."forename_surname" AND l."dob" = r."dob"',
    'l."pnc_id" = r."pnc_id" AND l."surname" = r."surname"',
)
DETERMINISTIC_RECALL = 0.5  # the share of true pairs those rules find (about half, on FEBRL and the estate)
# Expectation maximisation sessions, each learning the comparisons its rule leaves free: names and
# identifiers from pairs agreeing on a date of birth, the rest from pairs agreeing on the full name,
# and the names of records with no date of birth (callers) from pairs agreeing on a phone.
TRAINING_RULES = (
    'l."forename" = r."forename" AND l."surname" = r."surname"',
    'l."dob" = r."dob"',
    'l."phone" = r."phone"',
)


def train_person_model(
    mentions: Mentions,
    *,
    seed: int = 42,
    u_max_pairs: float = 1e6,
    em_max_pairs: float = 1e6,
    recall_of_deterministic_rules: float = DETERMINISTIC_RECALL,
    memory_limit: str = MEMORY_LIMIT,
) -> dict[str, Any]:
    """Train the person model on ``mentions`` (Arrow table, DuckDB relation or Parquet path).

    Unsupervised, as Splink does it: the prior from deterministic rules, u probabilities
    from random pairs (``u_max_pairs``, seeded), m probabilities by expectation maximisation
    in three sessions (pairs agreeing on forename and surname, on date of birth, on phone; each
    at most ``em_max_pairs``), so every comparison is trained in at least one. Returns the model:
    Splink settings with the trained parameters, JSON-able.
    """
    with _splink_connection(memory_limit) as con:
        _load_features(con, "features_all", mentions)
        con.execute("CREATE TEMP VIEW person_features AS SELECT * FROM features_all WHERE comparable")
        settings = person_settings()
        db_api, linker = _linker(con, "person_features", settings, validate=True)
        _register_term_frequencies(con, db_api, linker, "person_features", _tf_columns(settings))
        linker.training.estimate_probability_two_random_records_match(
            list(DETERMINISTIC_RULES), recall=recall_of_deterministic_rules
        )
        linker.training.estimate_u_using_random_sampling(max_pairs=u_max_pairs, seed=seed)
        # pairs agreeing on a phone train the names of records that have no date of birth (callers)
        for rule in TRAINING_RULES:
            # a rule no pair meets (a list without phones) has nothing to teach; Splink would fail on it
            if con.execute(f"SELECT 1 FROM person_features l JOIN person_features r ON {rule}"
                           " AND l.mention_id <> r.mention_id LIMIT 1").fetchall():
                linker.training.estimate_parameters_using_expectation_maximisation(rule, max_pairs=em_max_pairs)
        model = linker.misc.save_model_to_json()
    model.pop("linker_uid", None)  # a random id per linker: not part of what the model is
    return _with_floor_on_m(model)


def _with_floor_on_m(model: dict[str, Any]) -> dict[str, Any]:
    """No level may be (near) impossible for a true match: EM drives m to ~0 for levels it never
    saw among matches (a recorded sex that differs), which would veto any pair on one slip."""
    for comparison in model["comparisons"]:
        for level in comparison["comparison_levels"]:
            if level.get("m_probability") is not None and level["m_probability"] < M_FLOOR:
                level["m_probability"] = M_FLOOR
    return model


def model_version(model: dict[str, Any]) -> str:
    """A hash of the settings and trained parameters: equal models, equal versions."""
    canonical = json.dumps({k: v for k, v in model.items() if k != "linker_uid"}, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def save_person_model(model: dict[str, Any], path: Path | str) -> str:
    """Write the model as JSON (atomically) and return its version."""
    from wmp_platform.storage import remove_stale_temporaries, temporary_sibling

    path = Path(path)
    remove_stale_temporaries(path)
    temporary = temporary_sibling(path)
    try:
        temporary.write_text(json.dumps(model, indent=2, sort_keys=True))
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return model_version(model)


def load_person_model(path: Path | str) -> dict[str, Any]:
    path = Path(path)
    try:
        model = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise ValueError(f"{path}: not a person model: {error}") from None
    if not isinstance(model, dict) or "comparisons" not in model:
        raise ValueError(f"{path}: not a person model (no 'comparisons')")
    return model


def _prior_weight(model: dict[str, Any]) -> float:
    p = model["probability_two_random_records_match"]
    return math.log2(p / (1 - p))


def _evidence_sql(model: dict[str, Any], columns: set[str]) -> str:
    """A LIST of STRUCT(comparison, level, match_weight) from Splink's gamma_ and mw_ columns."""
    items = [f"{{'comparison': 'prior', 'level': 'two records picked at random', 'match_weight': {_prior_weight(model)!r}}}"]
    for comparison in model["comparisons"]:
        name = comparison["output_column_name"]
        levels = comparison["comparison_levels"]
        non_null = [lvl for lvl in levels if not lvl.get("is_null_level")]
        cases = []
        for level in levels:
            gamma = -1 if level.get("is_null_level") else len(non_null) - 1 - non_null.index(level)
            cases.append(f"WHEN {gamma} THEN {sql_literal(level.get('label_for_charts', level['sql_condition']))}")
        weight = f'"mw_{name}"' + (f' + coalesce("mw_tf_adj_{name}", 0)' if f"mw_tf_adj_{name}" in columns else "")
        items.append(
            f"{{'comparison': {sql_literal(name)}, 'level': CASE \"gamma_{name}\" {' '.join(cases)} END,"
            f" 'match_weight': {weight}}}"
        )
    return "[" + ", ".join(items) + "]"


EDGE_SCHEMA = pa.schema([
    ("mention_id_l", pa.string()), ("mention_id_r", pa.string()),
    ("match_probability", pa.float64()), ("match_weight", pa.float64()),
    ("evidence", pa.list_(pa.struct([("comparison", pa.string()), ("level", pa.string()), ("match_weight", pa.float64())]))),
    (IDENTICAL, pa.bool_()),
])


def _edges_from_predictions(con, predictions: str, model: dict[str, Any]) -> str:
    columns = {row[0] for row in con.execute(f"DESCRIBE {predictions}").fetchall()}
    return f"""
SELECT least(mention_id_l, mention_id_r) AS mention_id_l, greatest(mention_id_l, mention_id_r) AS mention_id_r,
       match_probability, match_weight, {_evidence_sql(model, columns)} AS evidence, false AS {IDENTICAL}
FROM {predictions}"""


def _collar_edges_sql(new: str | None) -> str:
    """Deterministic edges between mentions sharing a collar number: each to the earliest of its
    number, by (partition, mention_id) (a star keeps the edge count linear). With ``new``, only
    the edges of new mentions (a new partition comes after the existing ones, so the earliest
    mention of a known number is an existing one; a late partition's mention may be the earliest, and
    then the existing mentions of its number are joined to it)."""
    evidence = (f"[{{'comparison': 'collar_number', 'level': 'same collar number (force-issued)',"
                f" 'match_weight': {DETERMINISTIC_WEIGHT}}}]")
    scope = "" if new is None else (f"AND (m.mention_id IN (SELECT mention_id FROM {new}) "
                                    f"OR a.anchor IN (SELECT mention_id FROM {new}))")
    return f"""
WITH anchors AS (
  SELECT collar_number, arg_min(mention_id, (partition, mention_id)) AS anchor
  FROM features_all WHERE collar_number IS NOT NULL GROUP BY ALL
)
SELECT least(m.mention_id, a.anchor) AS mention_id_l, greatest(m.mention_id, a.anchor) AS mention_id_r,
       1.0 AS match_probability, {DETERMINISTIC_WEIGHT} AS match_weight, {evidence} AS evidence, false AS {IDENTICAL}
FROM features_all m JOIN anchors a USING (collar_number)
WHERE m.mention_id <> a.anchor {scope}"""


def predict_person_pairs(
    mentions: Mentions,
    model: dict[str, Any] | Path | str,
    new_mentions: Mentions | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    *,
    identical_above: float | None = IDENTICAL_ABOVE,
    memory_limit: str = MEMORY_LIMIT,
) -> pa.Table:
    """Score candidate pairs of person mentions with a trained model; keep those with
    ``match_probability >= threshold`` as edges (``EDGE_SCHEMA``), one a pair, ordered by the pair.
    ``mentions`` (and ``new_mentions``) may be mentions or their ``person_features``.

    Without ``new_mentions``: every candidate pair among ``mentions``. With them: only pairs
    of a new mention with an existing one and pairs of new mentions; a mention in both is
    taken as new. Term frequencies come from all the mentions given. Identical records are folded
    when their pair scores at least ``identical_above`` (module docstring; None: every record is scored).
    """
    with _scored_pairs(mentions, model, new_mentions, threshold, identical_above, memory_limit) as (con, query):
        return con.sql(query).to_arrow_table().cast(EDGE_SCHEMA)


def write_person_pairs(
    path: Path | str,
    mentions: Mentions,
    model: dict[str, Any] | Path | str,
    new_mentions: Mentions | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    *,
    identical_above: float | None = IDENTICAL_ABOVE,
    memory_limit: str = MEMORY_LIMIT,
) -> int:
    """``predict_person_pairs`` written to a Parquet file (atomically) by DuckDB, which spills to
    disk rather than holding a large hub's edges in memory; returns the edge count."""
    with _scored_pairs(mentions, model, new_mentions, threshold, identical_above, memory_limit) as (con, query):
        return _copy_atomically(con, query, Path(path))


@contextmanager
def _scored_pairs(mentions: Mentions, model: dict[str, Any] | Path | str, new_mentions: Mentions | None,
                  threshold: float, identical_above: float | None, memory_limit: str):
    """An open connection and the query of the edges (see ``predict_person_pairs``)."""
    if not isinstance(model, dict):
        model = load_person_model(model)
    with _splink_connection(memory_limit) as con:
        _load_features(con, "features_existing", mentions)
        if new_mentions is None:
            con.execute("CREATE TEMP VIEW features_all AS SELECT * FROM features_existing")
        else:
            _load_features(con, "features_new", new_mentions)
            con.execute("""
                CREATE TEMP VIEW features_all AS
                SELECT * FROM features_existing ANTI JOIN features_new USING (mention_id)
                UNION ALL BY NAME SELECT * FROM features_new""")
        con.execute("CREATE TEMP VIEW comparable_all AS SELECT * FROM features_all WHERE comparable")
        con.execute("CREATE TEMP TABLE identical_copies (mention_id VARCHAR, earliest VARCHAR)")
        con.execute("CREATE TEMP VIEW comparable_scored AS SELECT * FROM comparable_all "
                    "ANTI JOIN identical_copies USING (mention_id)")
        db_api, linker = _linker(con, "comparable_scored", model)
        _register_term_frequencies(con, db_api, linker, "comparable_all", _tf_columns(model))
        if new_mentions is None:
            parts = _identical_edges(con, db_api, linker, model, "comparable_all", identical_above)
            scored = [linker.inference.predict(threshold_match_probability=threshold, warning_mode="never")]
        else:
            # only existing mentions that share a blocking key with a new one can pair with it:
            # scoring the rest of a large hub would only be thrown away (copies of a record share
            # its keys, so its whole group of identical records is among them)
            con.execute(f"""
                CREATE TEMP TABLE features_old AS
                SELECT * FROM features_existing
                WHERE comparable AND ({_shares_a_block_sql(con, model, 'features_new')})
                  AND mention_id NOT IN (SELECT mention_id FROM features_new)""")
            con.execute("CREATE TEMP TABLE comparable_new AS SELECT * FROM features_new WHERE comparable")
            con.execute("CREATE TEMP VIEW comparable_near AS SELECT * FROM features_old UNION ALL BY NAME SELECT * FROM comparable_new")
            # the existing copies' edges are in the hub already: only the new ones' are made
            parts = _identical_edges(con, db_api, linker, model, "comparable_near", identical_above,
                                     only="features_new")
            for table in ("features_old", "comparable_new"):
                con.execute(f"DELETE FROM {table} WHERE mention_id IN (SELECT mention_id FROM identical_copies)")
            new, old = db_api.register("comparable_new"), db_api.register("features_old")
            scored = [
                linker.inference.predict_between(old, new, threshold_match_probability=threshold, warning_mode="never"),
                linker.inference.predict_within(new, threshold_match_probability=threshold, warning_mode="never"),
            ]
        parts += [_edges_from_predictions(con, s.physical_name, model) for s in scored]
        parts.append(_collar_edges_sql(None if new_mentions is None else "features_new"))
        query = "\nUNION ALL\n".join(f"SELECT * FROM ({part})" for part in parts)
        # one edge a pair: officers on the roster are scored by name too; their collar number wins
        yield con, f"""
            SELECT * REPLACE (bool_or({IDENTICAL}) OVER pair AS {IDENTICAL}) FROM ({query})
            WHERE match_probability >= {threshold!r}
            WINDOW pair AS (PARTITION BY mention_id_l, mention_id_r)
            QUALIFY row_number() OVER (pair ORDER BY match_weight DESC) = 1
            ORDER BY mention_id_l, mention_id_r"""


def _identical_edges(con: duckdb.DuckDBPyConnection, db_api, linker, model: dict[str, Any], records: str,
                     above: float | None, only: str | None = None) -> list[str]:
    """Fold the identical records among ``records`` (see the module docstring): fills the temp table
    ``identical_copies(mention_id, earliest)`` with every record that need not be scored, and returns
    the query of their edges to the earliest record of their group (only of those in ``only``), if any."""
    if above is None:
        return []
    features = sorted(FEATURE_COLUMNS - {"mention_id", "partition"})
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE identical_groups AS
        SELECT arg_min(mention_id, (partition, mention_id)) AS earliest, list(mention_id) AS members
        FROM {records} GROUP BY {', '.join(features)} HAVING count(*) > 1""")
    # the earliest of each group against a copy of itself: the score its copies would get
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE identical_earliest AS
        SELECT r.*, r.mention_id AS earliest FROM {records} r SEMI JOIN identical_groups g ON r.mention_id = g.earliest""")
    con.execute("CREATE OR REPLACE TEMP TABLE identical_twins AS "
                "SELECT * REPLACE (mention_id || ' (copy)' AS mention_id) FROM identical_earliest")
    twins = linker.inference.predict_between(
        db_api.register("identical_earliest"), db_api.register("identical_twins"),
        blocking_rules_to_generate_predictions=['l."earliest" = r."earliest"'],
        threshold_match_probability=above, warning_mode="never")
    con.execute(f"""
        INSERT INTO identical_copies
        SELECT unnest(g.members) AS mention_id, g.earliest
        FROM identical_groups g SEMI JOIN {twins.physical_name} t ON least(t.mention_id_l, t.mention_id_r) = g.earliest""")
    con.execute("DELETE FROM identical_copies WHERE mention_id = earliest")
    # edges with a record of ``only`` at either end: a late partition's record may be its group's earliest
    scope = "" if only is None else (f"WHERE c.mention_id IN (SELECT mention_id FROM {only}) "
                                     f"OR c.earliest IN (SELECT mention_id FROM {only})")
    return [f"""
SELECT least(c.mention_id, c.earliest) AS mention_id_l, greatest(c.mention_id, c.earliest) AS mention_id_r,
       t.match_probability, t.match_weight, t.evidence, true AS {IDENTICAL}
FROM identical_copies c JOIN ({_edges_from_predictions(con, twins.physical_name, model)}) t ON t.mention_id_l = c.earliest
{scope}"""]


def _rule_sides(rule: str) -> tuple[list[str], list[str]]:
    """What each side of an equi-join blocking rule compares: 'l."dob" = r."dob" AND left(l."surname", 2)
    = left(r."surname", 2)' -> (['"dob"', 'left("surname", 2)'], the same for r)."""
    left, right = [], []
    for term in rule.split(" AND "):
        first, _, second = term.partition(" = ")
        if 'r."' in first:
            first, second = second, first
        if 'r."' in first or 'l."' in second or not second:
            raise ValueError(f"blocking rule {rule!r}: {term!r} is not an equality of one side with the other")
        left.append(first.replace('l."', '"'))
        right.append(second.replace('r."', '"'))
    return left, right


def _shares_a_block_sql(con: duckdb.DuckDBPyConnection, model: dict[str, Any], new: str) -> str:
    """A condition on a row of the existing mentions: it meets a mention of ``new`` under one of the
    model's blocking rules. Each rule's key is hashed on both sides (a rule such as forename against
    surname has two), the new side's keys held in a temp table ``new_block_keys``, so the hub is read
    once whatever the number of rules; a hash collision only lets an extra row through to Splink,
    which blocks on the values themselves."""
    def key(expressions: list[str]) -> str:
        known = " AND ".join(f"({e}) IS NOT NULL" for e in expressions)
        return f"CASE WHEN {known} THEN hash({', '.join(expressions)}) END"

    keyed, tests = [], []
    for rule in model["blocking_rules_to_generate_predictions"]:
        left, right = _rule_sides(rule["blocking_rule"])
        for mine, theirs in {(tuple(left), tuple(right)), (tuple(right), tuple(left))}:
            keyed.append(f"SELECT {len(tests)} AS rule, {key(list(theirs))} AS k FROM {new}")
            tests.append(f"{key(list(mine))} IN (SELECT k FROM new_block_keys WHERE rule = {len(tests)})")
    con.execute(f"CREATE OR REPLACE TEMP TABLE new_block_keys AS SELECT DISTINCT rule, k FROM "
                f"({' UNION ALL '.join(keyed)}) WHERE k IS NOT NULL")
    return " OR ".join(tests)


def candidate_pairs(mentions: Mentions, *, memory_limit: str = MEMORY_LIMIT) -> int:
    """How many pairs the blocking rules make of ``mentions`` (each pair once): what a full
    prediction scores."""
    from splink import DuckDBAPI
    from splink.blocking_analysis import count_comparisons_from_blocking_rules

    with _splink_connection(memory_limit) as con:
        _load_features(con, "features", mentions)
        con.execute("CREATE TEMP TABLE counted_features AS SELECT * FROM features WHERE comparable")
        counts = count_comparisons_from_blocking_rules(
            DuckDBAPI(connection=con).register("counted_features"), blocking_rules=list(BLOCKING_RULES),
            link_type="dedupe_only", unique_id_column_name="mention_id", record_sample_proportion=1.0)
        return int(counts[-1]["cumulative_comparison_count"])


def person_model_charts(model: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Splink's parameter charts for the model as Vega-Lite specifications (embeddable as JSON
    metadata, or rendered by any Vega-Lite viewer): ``match_weights`` and ``m_u_parameters``."""
    with _splink_connection() as con:
        _load_features(con, "empty_features", con.sql("SELECT CAST(NULL AS VARCHAR) AS mention_id WHERE false"))
        _, linker = _linker(con, "empty_features", model)
        return {
            "match_weights": linker.visualisations.match_weights_chart().chart_dict,
            "m_u_parameters": linker.visualisations.m_u_parameters_chart().chart_dict,
        }

