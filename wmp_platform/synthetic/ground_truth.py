"""Ground truth: which true person, vehicle and place each landing record mentions, and their
true attributes; for the events that KPIs count, the true facts (times, grades, codes). Written
under ground_truth/, apart from the landing files, for scoring matching, search and the marts;
nothing in the pipeline may read it.

Each feed's mentions are written to a part folder of their own while feeds are generated (in
parallel, perhaps), then merged in feed order, so the result does not depend on how the work
was shared out.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from wmp_platform.synthetic.feeds import Record
from wmp_platform.synthetic.population import Population

KINDS = {"person": "persons", "vehicle": "vehicles", "location": "locations"}

_INSTANT = pa.timestamp("s", tz="UTC")
# The true facts of each record of these feeds, in ground_truth/facts/<feed>.parquet keyed by
# record_key: what tests compute the KPI marts' figures from, independently of the pipeline.
FACTS: dict[str, pa.Schema] = {
    "crime": pa.schema([("hocr_code", pa.string()), ("crime_category", pa.string()), ("occurred_at", _INSTANT),
                        ("outcome", pa.string())]),
    "incidents": pa.schema([("channel", pa.string()), ("grade", pa.int8()), ("received_at", _INSTANT),
                            ("answered_at", _INSTANT), ("dispatched_at", _INSTANT), ("arrived_at", _INSTANT),
                            ("closed_at", _INSTANT)]),
    "duty_roster": pa.schema([("duty_date", pa.date32()), ("lpa", pa.string()), ("duty_status", pa.string()),
                              ("shift_start", _INSTANT), ("shift_end", _INSTANT)]),
}


def _schema(kind: str) -> pa.Schema:
    return pa.schema([(name, pa.string()) for name in ("feed", "record_key", "role", f"{kind}_id")])


class MentionWriter:
    """Collects mentions record by record; each flush writes them as one row group per kind.

    With facts_file, the records' facts (a feed of FACTS) are written there too.
    """

    def __init__(self, folder: Path, facts_file: Path | None = None, facts_schema: pa.Schema | None = None):
        folder.mkdir(parents=True, exist_ok=True)
        self._keys: dict[str, list[str]] = {kind: [] for kind in KINDS}
        self._roles: dict[str, list[str]] = {kind: [] for kind in KINDS}
        self._ids: dict[str, list[str]] = {kind: [] for kind in KINDS}
        self._feed = ""
        self._writers = {kind: pq.ParquetWriter(folder / f"{name}.parquet", _schema(kind), compression="zstd")
                         for kind, name in KINDS.items()}
        self._facts: list[dict] = []
        self._facts_writer = None
        if facts_file is not None:
            facts_file.parent.mkdir(parents=True, exist_ok=True)
            self._facts_schema = pa.schema([("record_key", pa.string()), *facts_schema])
            self._facts_writer = pq.ParquetWriter(facts_file, self._facts_schema, compression="zstd")

    def add(self, feed: str, primary_key: list[str], records: list[Record]) -> None:
        """The mentions of each record, keyed by its primary-key values joined with '|'."""
        self.flush()
        self._feed = feed
        keys, roles, ids = self._keys, self._roles, self._ids
        single = primary_key[0] if len(primary_key) == 1 else None
        for record in records:
            row = record.row
            key = row[single] if single else "|".join(row[k] for k in primary_key)
            if self._facts_writer is not None:
                self._facts.append({"record_key": key, **record.facts})
            for kind, role, entity in record.mentions:
                keys[kind].append(key)
                roles[kind].append(role)
                ids[kind].append(entity)

    def flush(self) -> None:
        for kind in KINDS:
            keys = self._keys[kind]
            if keys:
                columns = [pa.array([self._feed] * len(keys), pa.string()), pa.array(keys, pa.string()),
                           pa.array(self._roles[kind], pa.string()), pa.array(self._ids[kind], pa.string())]
                self._writers[kind].write_table(pa.Table.from_arrays(columns, schema=_schema(kind)))
                keys.clear()
                self._roles[kind].clear()
                self._ids[kind].clear()
        if self._facts:
            self._facts_writer.write_table(pa.Table.from_pylist(self._facts, schema=self._facts_schema))
            self._facts.clear()

    def close(self) -> None:
        self.flush()
        for writer in self._writers.values():
            writer.close()
        if self._facts_writer is not None:
            self._facts_writer.close()


def merge_mentions(parts: list[Path], folder: Path) -> None:
    """persons/vehicles/locations.parquet in folder: the parts' row groups in the order given; then the parts go."""
    for kind, name in KINDS.items():
        with pq.ParquetWriter(folder / f"{name}.parquet", _schema(kind), compression="zstd") as writer:
            for part in parts:
                source = pq.ParquetFile(part / f"{name}.parquet")
                for group in range(source.num_row_groups):
                    writer.write_table(source.read_row_group(group))
                source.close()
    for part in parts:
        shutil.rmtree(part)


def write_population(population: Population, folder: Path) -> None:
    """people.parquet, vehicles_master.parquet and addresses.parquet: the true values."""
    people = population.people
    pq.write_table(pa.table({
        "person_id": [p.person_id for p in people],
        "forename": [p.forename for p in people],
        "middle_names": [p.middle_names for p in people],
        "surname": [p.surname for p in people],
        "former_surname": [p.former_surname for p in people],
        "sex": [p.sex for p in people],
        "dob": pa.array([p.dob for p in people], pa.date32()),
        "ethnicity": [p.ethnicity for p in people],
        "phone": [p.phone for p in people],
        "ni_number": [p.ni_number for p in people],
        "pnc_id": [p.pnc_id for p in people],
        "cro_number": [p.cro_number for p in people],
        "nickname": [p.nickname for p in people],
        "warning_markers": [p.markers for p in people],
        "offender_level": pa.array([p.offender_level for p in people], pa.int8()),
        "collar_number": [p.collar_number for p in people],
        "address_location_id": [p.address.location_id for p in people],
        "previous_address_location_id": [p.previous_address and p.previous_address.location_id for p in people],
    }), folder / "people.parquet", compression="zstd")
    vehicles = population.vehicles
    pq.write_table(pa.table({
        "vehicle_id": [v.vehicle_id for v in vehicles],
        "registration": [v.registration for v in vehicles],
        "make": [v.make for v in vehicles],
        "model": [v.model for v in vehicles],
        "body": [v.body for v in vehicles],
        "colour": [v.colour for v in vehicles],
        "fuel": [v.fuel for v in vehicles],
        "first_registered": pa.array([v.first_registered for v in vehicles], pa.date32()),
        "keeper_person_id": [v.keeper.person_id for v in vehicles],
        "keeper_since": pa.array([v.keeper_since for v in vehicles], pa.date32()),
    }), folder / "vehicles_master.parquet", compression="zstd")
    places = population.addresses + [c.site for c in population.cameras]
    text = ("location_id", "kind", "uprn", "classification", "sub_building", "building_name", "building_number",
            "street", "locality", "town", "postcode", "lsoa_code", "lsoa_name", "local_authority_code", "lpa")
    columns = {name: [getattr(a, name) for a in places] for name in text}
    columns["address"] = [a.line for a in places]
    columns["latitude"] = pa.array([a.latitude for a in places], pa.float64())
    columns["longitude"] = pa.array([a.longitude for a in places], pa.float64())
    pq.write_table(pa.table(columns), folder / "addresses.parquet", compression="zstd")
