"""The KPI marts: crime analytics, incident performance and offender harm.

Each is SQL in a file beside this module (<mart>.sql, audited by <mart>_audits.sql), written,
audited and published by wmp_platform.marts.publishing. The crime and incident marts hold
aggregates only; the offender-harm mart is person-level and restricted.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import duckdb

from wmp_platform.marts.publishing import SQL_DIR, Mart, MartTable, PublishedMart, write_audit_publish
from wmp_platform.marts.reference import ReferenceTable
from wmp_platform.sql import sql_literal

HARM_WEIGHTS = ReferenceTable(
    "harm_weights", SQL_DIR / "harm_weights.csv",
    {"hocr_code": "text", "offence": "text", "harm_weight_days": "number"}, key="hocr_code",
    required=("hocr_code", "harm_weight_days"),
)
RESPONSE_TARGETS = ReferenceTable(
    "response_targets", SQL_DIR / "response_targets.csv",
    {"grade_code": "integer", "grade_label": "text", "attend_within_minutes": "number"}, key="grade_code",
    required=("grade_code", "grade_label"),
)
ANSWER_TARGETS = ReferenceTable(
    "answer_targets", SQL_DIR / "answer_targets.csv",
    {"channel": "text", "answer_within_seconds": "number"}, key="channel", required=("channel", "answer_within_seconds"),
)
SHIFTS = ReferenceTable(
    "shifts", SQL_DIR / "shifts.csv",
    {"shift": "text", "starts_at_hour": "integer", "ends_at_hour": "integer"}, key="shift",
    required=("shift", "starts_at_hour", "ends_at_hour"),
)

_PERIOD_KEYS = ("period_start", "lpa", "lsoa_code", "crime_category")
_COMPARED = ("with the change against the previous {unit} and the same {unit} a year before "
             "(null where the data do not reach back that far) and the days of the {unit} the data cover")

CRIME = Mart(
    "crime",
    description="Recorded crimes by crime type, Local Policing Area, LSOA, week and month; outcome rates; hotspots.",
    tables=(
        MartTable("crime_by_lsoa_week", _PERIOD_KEYS,
                  "Recorded crimes per week (from Monday), area, LSOA and crime category, "
                  + _COMPARED.format(unit="week") + "."),
        MartTable("crime_by_lsoa_month", _PERIOD_KEYS,
                  "Recorded crimes per month, area, LSOA and crime category, " + _COMPARED.format(unit="month") + "."),
        MartTable("crime_by_area_day", ("occurred_on", "lpa", "crime_category"),
                  "Recorded crimes per day, area and crime category: the series trend charts draw."),
        MartTable("crime_outcomes", ("month_start", "lpa", "crime_category", "outcome"),
                  "Crimes per month, area and category by latest outcome, with each outcome's share."),
        MartTable("crime_hotspots", ("lpa", "rank"),
                  "The ten LSOAs of each area with most crimes in the last 28 days of the data, "
                  "against the 28 days before, with their main crime category and centre point."),
    ),
    requires=("staged.crime", "staged.gazetteer"),
)

_RESPONSE_KEYS = ("period_unit", "period_start", "lpa", "shift", "grade_code")
INCIDENTS = Mart(
    "incidents",
    description="999/101 volumes by grade and hour; answer, dispatch and attendance times against targets; "
                "officer availability per area and hour.",
    tables=(
        MartTable("incident_volumes", ("incident_date", "hour", "lpa", "channel", "grade_code"),
                  "Incidents per day, local hour, area, channel (999, 101, Online, Alarm) and grade."),
        MartTable("incident_response", _RESPONSE_KEYS,
                  "Per day or month ('period_unit'), area and shift (with 'All areas' and 'All shifts' roll-ups) "
                  "and grade: incidents, dispatched, attended; median and 90th percentile minutes from receipt to "
                  "dispatch and to arrival; the grade's attendance target and the share of attended incidents "
                  "within it."),
        MartTable("call_answering", ("period_unit", "period_start", "lpa", "channel"),
                  "999 and 101 calls per day or month and area (with an 'All areas' roll-up): answered, median "
                  "and 90th percentile seconds to answer, and the share answered within the channel's target."),
        MartTable("response_time_distribution", ("month_start", "lpa", "grade_code", "bucket"),
                  "Attended incidents per month, area (and 'All areas') and grade by minutes from receipt to "
                  "arrival, in buckets a fifteenth of the grade's target wide (0 to 29), and bucket 30 for twice "
                  "the target and more."),
        MartTable("officer_availability", ("hour_start", "lpa"),
                  "At the start of every hour of the rostered days, per area the officers are posted to: "
                  "officers on duty, committed (allocated to an incident dispatched and not yet closed) and free."),
    ),
    requires=("staged.incidents", "staged.duty_roster"),
    references=(RESPONSE_TARGETS, ANSWER_TARGETS, SHIFTS),
)

OFFENDER_HARM = Mart(
    "offender_harm",
    description="Crime harm per person entity over a rolling 12 months, weighted by the harm-weight table; "
                "top 100 per area; monthly trend. Person-level: restricted.",
    tables=(
        MartTable("offender_harm", ("entity_id",),
                  "Per person entity named as a suspect: crimes and harm (sum of the offences' harm weights, in "
                  "days) in the 12 months to the as-at date and in the 12 months before, the change, the area "
                  "of most harm and the force-wide rank. Restricted."),
        MartTable("offender_harm_top", ("lpa", "rank_in_area"),
                  "The 100 person entities of each area whose crimes there carry most harm in the 12 months "
                  "to the as-at date, with name and date of birth from the golden record. Restricted."),
        MartTable("offender_harm_monthly", ("entity_id", "month_start"),
                  "Crimes and harm per month of the 12 months to the as-at date, per person entity: the trend. "
                  "Restricted."),
    ),
    requires=("staged.crime", "entities.person_xref", "entities.person_golden"),
    references=(HARM_WEIGHTS,),
    restricted=True,
)

KPI_MARTS = {mart.name: mart for mart in (CRIME, INCIDENTS, OFFENDER_HARM)}


def build_crime_mart(con: duckdb.DuckDBPyConnection) -> PublishedMart:
    """Write, audit and publish the crime analytics mart (reads staged.crime and staged.gazetteer)."""
    return write_audit_publish(con, CRIME)


def build_incident_mart(con: duckdb.DuckDBPyConnection) -> PublishedMart:
    """Write, audit and publish the incident performance mart (reads staged.incidents and staged.duty_roster)."""
    return write_audit_publish(con, INCIDENTS)


def build_offender_harm_mart(
    con: duckdb.DuckDBPyConnection, as_at: date | None = None, harm_weights: Path | None = None
) -> PublishedMart:
    """Write, audit and publish the offender-harm mart (reads staged.crime and entities.person_xref/golden).

    as_at: the last day of the rolling 12 months (default: the latest day with a crime).
    harm_weights: another harm-weight CSV in the layout of harm_weights.csv (default: that file).
    """
    mart = OFFENDER_HARM
    if harm_weights is not None:
        mart = dataclasses.replace(mart, references=(dataclasses.replace(HARM_WEIGHTS, path=Path(harm_weights)),))
    as_at_sql = f"DATE {sql_literal(as_at.isoformat())}" if as_at else "NULL"
    return write_audit_publish(con, mart, {"as_at": as_at_sql})
