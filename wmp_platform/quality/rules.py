"""Quality rules: the checks a feed's staged rows must pass, derived from its declaration.

Nobody writes most rules: ``derive_rules`` reads them off the declaration (primary key,
POLE mapping, event time, reference lists) and adds the feed's declared ``quality.rules``.
Every rule names a great-expectations expectation and applies to a staged column; the gate
(``wmp_platform.quality.gate``) runs them. This module does not import great-expectations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from wmp_platform.declarations import FeedDeclaration
from wmp_platform.ingest import RECORD_KEY

CATEGORIES = ("keys", "identifiers", "dates", "coordinates", "reference_codes", "references", "declared")
SEVERITIES = ("error", "warn")

UNIQUE = "expect_column_values_to_be_unique"
NOT_NULL = "expect_column_values_to_not_be_null"
BETWEEN = "expect_column_values_to_be_between"
IN_SET = "expect_column_values_to_be_in_set"
EXISTS_IN_FEED = "expect_column_values_to_exist_in_parquet"  # the gate resolves the feed to its staged files
VALID_PNC_ID = "expect_column_values_to_be_valid_pnc_id"
VALID_CRO_NUMBER = "expect_column_values_to_be_valid_cro_number"
VALID_REGISTRATION = "expect_column_values_to_be_valid_vehicle_registration"
VALID_POSTCODE = "expect_column_values_to_be_valid_postcode"
VALID_NI_NUMBER = "expect_column_values_to_be_valid_ni_number"
VALID_PHONE = "expect_column_values_to_be_valid_uk_phone"

# The platform's identifier expectations and the DuckDB macro (wmp_platform.identifiers) each calls.
IDENTIFIER_MACROS = {
    VALID_PNC_ID: "wmp_valid_pnc",
    VALID_CRO_NUMBER: "wmp_valid_cro",
    VALID_REGISTRATION: "wmp_valid_vrm",
    VALID_POSTCODE: "wmp_valid_postcode",
    VALID_NI_NUMBER: "wmp_valid_ni",
    VALID_PHONE: "wmp_valid_phone",
}

EARLIEST_DOB = date(1900, 1, 1)
EARLIEST_EVENT = date(1990, 1, 1)
# The force area with a margin (real crime points fall within about 52.38-52.66, -2.21 to -1.42).
FORCE_LATITUDE = (52.30, 52.75)
FORCE_LONGITUDE = (-2.35, -1.35)
# A registration in the keeper register is authoritative; elsewhere (ANPR reads, notes typed by
# officers) a malformed one is worth a warning, not a quarantine.
AUTHORITATIVE_VEHICLE_ROLE = "registered"


@dataclass(frozen=True)
class Rule:
    """One check on one staged column, run as a great-expectations expectation."""

    name: str
    column: str
    expectation: str
    kwargs: dict[str, Any] = field(default_factory=dict, hash=False)
    severity: str = "error"
    category: str = "declared"

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"rule {self.name!r}: severity {self.severity!r} is not one of {SEVERITIES}")
        if self.category not in CATEGORIES:
            raise ValueError(f"rule {self.name!r}: category {self.category!r} is not one of {CATEGORIES}")


def _pole_rules(today: date) -> dict[tuple[str, str], tuple[tuple[str, str, dict, str, str], ...]]:
    """(entity, POLE attribute) -> the rules for each such staged column, as (name suffix,
    expectation, kwargs, severity, category)."""

    def valid(expectation: str, severity: str):
        return (("valid", expectation, {}, severity, "identifiers"),)

    def in_area(low: float, high: float):
        return (("in_force_area", BETWEEN, {"min_value": low, "max_value": high}, "warn", "coordinates"),)

    def found_in(feed: str, column: str):
        return ((f"in_{feed}", EXISTS_IN_FEED, {"feed": feed, "feed_column": column}, "warn", "references"),)

    return {
        # a malformed PNC ID, CRO or NI number would join different people, or split one
        ("person", "pnc_id"): valid(VALID_PNC_ID, "error"),
        ("person", "cro_number"): valid(VALID_CRO_NUMBER, "error"),
        ("person", "ni_number"): valid(VALID_NI_NUMBER, "error"),
        ("person", "postcode"): valid(VALID_POSTCODE, "warn"),
        ("person", "phone"): valid(VALID_PHONE, "warn"),
        ("location", "postcode"): valid(VALID_POSTCODE, "warn"),
        ("vehicle", "registration"): valid(VALID_REGISTRATION, "warn"),
        ("person", "dob"): (("plausible", BETWEEN, {"min_value": EARLIEST_DOB, "max_value": today}, "error", "dates"),),
        ("event", "time"): (
            ("not_in_future", BETWEEN, {"max_value": today + timedelta(days=1)}, "error", "dates"),
            ("not_before_1990", BETWEEN, {"min_value": EARLIEST_EVENT}, "warn", "dates"),
        ),
        ("location", "latitude"): in_area(*FORCE_LATITUDE),
        ("location", "longitude"): in_area(*FORCE_LONGITUDE),
        ("location", "uprn"): found_in("gazetteer", "location_address_uprn"),
        ("person", "collar_number"): found_in("duty_roster", "person_officer_collar_number"),
    }


_PARSE = {"integer": int, "float": float, "decimal": float}  # reference-list text -> the staged type


def derive_rules(feed: FeedDeclaration, today: date) -> list[Rule]:
    """Every rule the feed's staged rows must pass, named uniquely, on staged column names.

    keys: the record key is unique. identifiers: PNC ID, CRO and NI numbers valid (error);
    postcodes, phones and registrations valid (warn; error for the keeper register).
    dates: dates of birth from 1900 to today (error); event time no later than tomorrow (error)
    and not before 1990 (warn). coordinates: within the force area (warn). reference_codes:
    a column with ``allowed_values`` holds only those (error). references: UPRNs are in the
    gazetteer and collar numbers in the duty roster (warn). declared: the feed's own rules; one
    named like a derived rule replaces it (to relax or tighten it for this feed).
    """
    rules = [Rule("record_key_unique", RECORD_KEY, UNIQUE, {}, "error", "keys")]
    table = _pole_rules(today)
    for column, attribute, _source in feed.pole.pole_columns():
        entity = column.split("_", 1)[0]
        for suffix, expectation, kwargs, severity, category in table.get((entity, attribute), ()):
            if category == "references" and kwargs["feed"] == feed.name:
                continue
            if expectation == VALID_REGISTRATION and column.startswith(f"vehicle_{AUTHORITATIVE_VEHICLE_ROLE}_"):
                severity = "error"
            rules.append(Rule(f"{column}_{suffix}", column, expectation, kwargs, severity, category))
    for declared in feed.columns:
        if declared.allowed_values is not None:
            values = [_PARSE.get(declared.type, str)(v) for v in declared.allowed_values]
            rules.append(Rule(f"{declared.name}_allowed", declared.name, IN_SET, {"value_set": values}, "error",
                              "reference_codes"))
    by_name = {rule.name: rule for rule in rules}  # derived names are unique by construction
    for q in feed.quality.rules:  # a declared rule named like a derived one replaces it, in its category
        category = by_name[q.name].category if q.name in by_name else "declared"
        by_name[q.name] = Rule(q.name, q.column, q.expectation, dict(q.kwargs), q.severity, category)
    return list(by_name.values())


def personal_columns(feed: FeedDeclaration) -> set[str]:
    """Staged columns holding personal data: declared as such, and the POLE columns taken from them."""
    personal = {c.name for c in feed.columns if c.personal_data != "none"}
    return personal | {column for column, _attr, source in feed.pole.pole_columns() if source in personal}
