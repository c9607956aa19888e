"""Reference tables the business edits (harm weights, response targets, shifts): CSV files that
name the source of every row, read with checks and loaded next to the marts that use them."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from wmp_platform.sql import quote

_TYPES = {"text": pa.string(), "integer": pa.int64(), "number": pa.float64()}
SOURCE = "source"  # every reference row says where its values come from


@dataclass(frozen=True)
class ReferenceTable:
    """A CSV file with a header; `columns` maps each column to text, integer or number."""

    name: str
    path: Path
    columns: dict[str, str]
    key: str
    required: tuple[str, ...] = ()

    def read(self) -> pa.Table:
        """The rows, typed; ValueError naming the file, line and field of the first bad value."""
        with self.path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            header = reader.fieldnames or []
            expected = [*self.columns, SOURCE]
            if sorted(header) != sorted(expected):
                raise ValueError(f"{self.path}: columns {header} should be {expected}")
            values: dict[str, list] = {column: [] for column in self.columns}
            sources, seen = [], set()
            for row in reader:
                line = reader.line_num
                for column, kind in self.columns.items():
                    values[column].append(self._value(row[column], column, kind, line))
                if not (row[SOURCE] or "").strip():
                    raise ValueError(f"{self.path}, line {line}, field {SOURCE}: every row names its source")
                sources.append(row[SOURCE].strip())
                key = values[self.key][-1]
                if key in seen:
                    raise ValueError(f"{self.path}, line {line}, field {self.key}: {key!r} appears twice")
                seen.add(key)
        if not sources:
            raise ValueError(f"{self.path}: no rows")
        arrays = {c: pa.array(v, _TYPES[self.columns[c]]) for c, v in values.items()}
        return pa.table({**arrays, SOURCE: pa.array(sources, pa.string())})

    def _value(self, text: str | None, column: str, kind: str, line: int):
        text = (text or "").strip()
        if not text:
            if column in self.required:
                raise ValueError(f"{self.path}, line {line}, field {column}: a value is required")
            return None
        if kind == "text":
            return text
        try:
            number = int(text) if kind == "integer" else float(text)
        except ValueError:
            raise ValueError(f"{self.path}, line {line}, field {column}: {text!r} is not {'an integer' if kind == 'integer' else 'a number'}") from None
        if number < 0:
            raise ValueError(f"{self.path}, line {line}, field {column}: {text!r} is negative")
        return number

    def load(self, con: duckdb.DuckDBPyConnection, schema: str) -> int:
        """Create schema.name from the file; its rows."""
        table = self.read()
        view = f"_reference_{self.name}"
        con.register(view, table)
        try:
            con.execute(f"CREATE OR REPLACE TABLE {quote(schema)}.{quote(self.name)} AS SELECT * FROM {view}")
        finally:
            con.unregister(view)
        return table.num_rows
