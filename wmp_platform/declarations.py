"""Feed declarations: the YAML contract that describes one source feed.

A declaration is the only thing a platform engineer writes to add a feed. It is validated
strictly (unknown keys, types and POLE roles are errors) and every error names the file
and the field, so a typo never turns into a silently empty column.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")

ColumnType = Literal["string", "integer", "decimal", "float", "boolean", "date", "timestamp"]
FileFormat = Literal["csv", "jsonl", "parquet", "fixed_width"]
Partitioning = Literal["daily", "monthly", "none"]
Sensitivity = Literal["official", "official_sensitive", "restricted"]
PersonalData = Literal["none", "personal", "special_category"]

PersonRole = Literal[
    "subject", "suspect", "victim", "witness", "reporter", "caller", "detained", "offender",
    "keeper", "driver", "missing", "licence_holder", "casualty", "owner", "perpetrator",
    "officer", "wanted",
]
VehicleRole = Literal["involved", "sighted", "registered", "stopped", "seized", "stolen"]
LocationRole = Literal["scene", "home", "custody_suite", "camera", "last_seen", "found_at", "stop", "address"]

PERSON_ATTRIBUTES = (
    "forename", "middle_names", "surname", "full_name", "dob", "sex", "address", "postcode",
    "phone", "pnc_id", "cro_number", "ni_number", "collar_number",
)
VEHICLE_ATTRIBUTES = ("registration", "make", "model", "colour")
LOCATION_ATTRIBUTES = ("uprn", "address", "postcode", "latitude", "longitude")
EVENT_ATTRIBUTES = ("id", "time", "type")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Column(Strict):
    """One column of the feed, as the source system names and types it."""

    name: str = Field(description="Column name in the platform (snake_case).")
    source_name: str | None = Field(
        default=None, description="Header, key or field name in the source file, if it differs from name."
    )
    type: ColumnType = "string"
    nullable: bool = True
    description: str = ""
    personal_data: PersonalData = "none"
    formats: list[str] = Field(
        default_factory=list, description="strptime formats tried in order, for date and timestamp columns."
    )
    true_values: list[str] = Field(default_factory=lambda: ["true", "t", "yes", "y", "1"])
    false_values: list[str] = Field(default_factory=lambda: ["false", "f", "no", "n", "0"])
    allowed_values: list[str] | None = Field(
        default=None, description="Reference list: the only values the column may hold (checked by the quality gate)."
    )
    start: int | None = Field(default=None, description="1-based start position, fixed-width files only.")
    width: int | None = Field(default=None, description="Field width in characters, fixed-width files only.")

    @field_validator("name")
    @classmethod
    def _snake_case(cls, value: str) -> str:
        if not IDENTIFIER.match(value):
            raise ValueError(f"column name {value!r} must be snake_case (letters, digits, underscores)")
        return value

    @property
    def source(self) -> str:
        return self.source_name or self.name

    @model_validator(mode="after")
    def _formats_for_dates(self) -> Column:
        if self.type in ("date", "timestamp") and not self.formats:
            raise ValueError(f"column {self.name!r} is a {self.type} and needs at least one entry in 'formats'")
        if self.type not in ("date", "timestamp") and self.formats:
            raise ValueError(f"column {self.name!r} is a {self.type}; 'formats' applies to date and timestamp only")
        return self


class Landing(Strict):
    """Where a feed's files arrive and how their names carry the delivery date."""

    pattern: str = Field(
        description="File name pattern; {date} stands for the delivery date, * for anything, e.g. 'crime_{date}.csv'."
    )
    date_format: str = Field(default="%Y%m%d", description="strptime format of {date} in the file name.")
    folder: str | None = Field(default=None, description="Folder under the landing root; defaults to the feed name.")

    @field_validator("pattern")
    @classmethod
    def _one_date(cls, value: str) -> str:
        if value.count("{date}") > 1:
            raise ValueError("pattern may contain {date} at most once")
        return value


class CsvOptions(Strict):
    delimiter: str = ","
    quote: str = '"'
    encoding: Literal["utf-8", "latin-1"] = "utf-8"


class PersonMapping(Strict):
    role: PersonRole
    forename: str | None = None
    middle_names: str | None = None
    surname: str | None = None
    full_name: str | None = None
    dob: str | None = None
    sex: str | None = None
    address: str | None = None
    postcode: str | None = None
    phone: str | None = None
    pnc_id: str | None = None
    cro_number: str | None = None
    ni_number: str | None = None
    collar_number: str | None = None


class VehicleMapping(Strict):
    role: VehicleRole
    registration: str
    make: str | None = None
    model: str | None = None
    colour: str | None = None


class LocationMapping(Strict):
    role: LocationRole
    uprn: str | None = None
    address: str | None = None
    postcode: str | None = None
    latitude: str | None = None
    longitude: str | None = None


class EventMapping(Strict):
    id: str | None = None
    time: str | None = None
    type: str | None = None


class PoleMapping(Strict):
    """How the feed's columns map onto POLE: people, objects (vehicles), locations, the event."""

    event: EventMapping | None = None
    persons: list[PersonMapping] = Field(default_factory=list)
    vehicles: list[VehicleMapping] = Field(default_factory=list)
    locations: list[LocationMapping] = Field(default_factory=list)

    def pole_columns(self) -> list[tuple[str, str, str]]:
        """(canonical staged column, POLE attribute, source column) for every mapped attribute."""
        out: list[tuple[str, str, str]] = []
        if self.event:
            for attr in EVENT_ATTRIBUTES:
                if getattr(self.event, attr):
                    out.append((f"event_{attr}", attr, getattr(self.event, attr)))
        for entity, mappings, attrs in (
            ("person", self.persons, PERSON_ATTRIBUTES),
            ("vehicle", self.vehicles, VEHICLE_ATTRIBUTES),
            ("location", self.locations, LOCATION_ATTRIBUTES),
        ):
            for mapping in mappings:
                for attr in attrs:
                    column = getattr(mapping, attr)
                    if column:
                        out.append((f"{entity}_{mapping.role}_{attr}", attr, column))
        return out


Severity = Literal["error", "warn"]
# The expectations a declared rule may use: great-expectations runs them, and the gate has the
# same condition in plain SQL to find the rows to quarantine (wmp_platform/quality/gate.py).
Expectation = Literal[
    "expect_column_values_to_not_be_null", "expect_column_values_to_be_unique",
    "expect_column_values_to_be_between", "expect_column_value_lengths_to_be_between",
    "expect_column_values_to_be_in_set", "expect_column_values_to_not_be_in_set",
    "expect_column_values_to_match_regex", "expect_column_values_to_not_match_regex",
    "expect_column_values_to_be_valid_pnc_id", "expect_column_values_to_be_valid_cro_number",
    "expect_column_values_to_be_valid_ni_number", "expect_column_values_to_be_valid_vehicle_registration",
    "expect_column_values_to_be_valid_postcode", "expect_column_values_to_be_valid_uk_phone",
]


class QualityRule(Strict):
    """A data-quality rule declared for the feed, run by great-expectations on the staged rows."""

    name: str = Field(description="Rule name, snake_case; shown in quarantine reasons and check metadata.")
    column: str = Field(description="Staged column the rule applies to (a declared column or a POLE column).")
    expectation: Expectation = Field(description="great-expectations expectation, e.g. expect_column_values_to_be_in_set.")
    kwargs: dict[str, Any] = Field(default_factory=dict, description="Arguments of the expectation.")
    severity: Severity = "error"


class VolumePolicy(Strict):
    """A partition's row count against the median of the feed's recent partitions."""

    history: int = Field(default=14, description="How many earlier partitions make the history (at least 3 needed).")
    min_ratio: float = Field(default=0.5, description="Fewer rows than this share of the median is an anomaly.")
    max_ratio: float = Field(default=2.0, description="More rows than this multiple of the median is an anomaly.")


class FreshnessPolicy(Strict):
    """How late the feed's newest delivery may be before it shows as overdue (hours)."""

    warn_after_hours: float | None = None
    fail_after_hours: float | None = None

    def windows(self, partitioning: str) -> tuple[float, float]:
        """(warn, fail) hours: as declared, else a day and a bit for daily feeds, a month and a bit for
        monthly ones, two weeks for reference data."""
        warn, fail = {"daily": (30, 48), "monthly": (24 * 35, 24 * 40), "none": (24 * 8, 24 * 14)}[partitioning]
        return self.warn_after_hours or warn, self.fail_after_hours or fail


class QualityPolicy(Strict):
    """How the feed's quality gate behaves, beyond the rules derived from the declaration."""

    rules: list[QualityRule] = Field(default_factory=list)
    volume: VolumePolicy = VolumePolicy()
    freshness: FreshnessPolicy = FreshnessPolicy()
    max_failure_rate: float = Field(
        default=0.05, description="An error rule failing on a larger share of rows fails its check and blocks downstream."
    )
    min_failing_rows: int = Field(
        default=10, description="Fewer failing rows never fail a rule: one typo in a 20-row partition is not a trend."
    )

    @field_validator("max_failure_rate")
    @classmethod
    def _a_share(cls, value: float) -> float:
        if not 0 <= value <= 1:
            raise ValueError(f"max_failure_rate {value} must be between 0 and 1")
        return value


class FeedDeclaration(Strict):
    """Everything the platform needs to know about one source feed."""

    name: str = Field(description="Feed name, snake_case; the asset keys are feeds/<name>/raw and feeds/<name>/staged.")
    description: str
    owner: str = Field(description="Dagster owner, e.g. 'team:crime-data' or an e-mail address.")
    source_system: str
    format: FileFormat
    csv: CsvOptions = CsvOptions()
    landing: Landing
    partitioning: Partitioning
    partition_start: str = Field(default="2025-01-01", description="First partition (YYYY-MM-DD).")
    sensitivity: Sensitivity = "official"
    primary_key: list[str]
    event_time: str | None = Field(default=None, description="Column holding the event time.")
    columns: list[Column]
    pole: PoleMapping = PoleMapping()
    quality: QualityPolicy = QualityPolicy()

    @field_validator("name")
    @classmethod
    def _feed_name(cls, value: str) -> str:
        if not IDENTIFIER.match(value):
            raise ValueError(f"feed name {value!r} must be snake_case (letters, digits, underscores)")
        return value

    @model_validator(mode="after")
    def _references_resolve(self) -> FeedDeclaration:
        names = [c.name for c in self.columns]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"columns declared more than once: {duplicates}")
        known = set(names)

        def need(column: str | None, where: str) -> None:
            if column is not None and column not in known:
                raise ValueError(f"{where} names column {column!r}, which is not declared in 'columns'")

        for key in self.primary_key:
            need(key, "primary_key")
        if not self.primary_key:
            raise ValueError("primary_key must name at least one column")
        need(self.event_time, "event_time")
        for canonical, _attr, column in self.pole.pole_columns():
            need(column, f"pole mapping {canonical}")
        if self.partitioning != "none" and not self.event_time:
            raise ValueError(f"a {self.partitioning} partitioned feed must declare event_time")
        if self.partitioning != "none" and "{date}" not in self.landing.pattern:
            raise ValueError(f"a {self.partitioning} partitioned feed needs {{date}} in landing.pattern")
        if self.format == "fixed_width":
            for column in self.columns:
                if column.start is None or column.width is None:
                    raise ValueError(f"fixed_width column {column.name!r} needs 'start' and 'width'")
        if self.event_time:
            kind = self.column(self.event_time).type
            if kind not in ("date", "timestamp"):
                raise ValueError(f"event_time column {self.event_time!r} is a {kind}, not a date or timestamp")
        return self

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)

    @property
    def landing_folder(self) -> str:
        return self.landing.folder or self.name


class DeclarationError(ValueError):
    """A feed declaration is wrong; the message names the file and each bad field."""


def format_validation_error(path: Path | str, error: ValidationError) -> str:
    lines = [f"{path}: invalid feed declaration"]
    for item in error.errors():
        location = ".".join(str(part) for part in item["loc"]) or "(top level)"
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            message = "unknown field (misspelt?)"
        elif item["type"] == "missing":
            message = "required field is missing"
        lines.append(f"  {location}: {message}")
    return "\n".join(lines)


def parse_declaration(attributes: dict, path: Path | str) -> FeedDeclaration:
    try:
        return FeedDeclaration.model_validate(attributes)
    except ValidationError as error:
        raise DeclarationError(format_validation_error(path, error)) from None


def load_declaration(path: Path | str) -> FeedDeclaration:
    """Read one feed's defs.yaml (a Dagster component file) and validate its attributes."""
    path = Path(path)
    try:
        document = yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as error:
        raise DeclarationError(f"{path}: not valid YAML: {error}") from None
    if not isinstance(document, dict) or "attributes" not in document:
        raise DeclarationError(f"{path}: expected a component file with 'type' and 'attributes'")
    return parse_declaration(document["attributes"], path)


def load_declarations(folder: Path | str) -> dict[str, FeedDeclaration]:
    """Every feed declared under folder (one defs.yaml per feed), by feed name."""
    feeds: dict[str, FeedDeclaration] = {}
    for path in sorted(Path(folder).rglob("defs.yaml")):
        declaration = load_declaration(path)
        if declaration.name in feeds:
            raise DeclarationError(f"{path}: feed {declaration.name!r} is declared twice")
        feeds[declaration.name] = declaration
    return feeds
