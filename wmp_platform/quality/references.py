"""Reference key sets: the values a reference rule checks against (another feed's staged key
column), kept as a table in the DuckDB database that checks them.

A rule like "an incident's UPRN is in the gazetteer" runs on every partition of its feed. Read
from the reference feed's Parquet each time, the key set costs as much as the check; kept as a
table it is read once per process and rebuilt only when the reference feed's files change
(their names, sizes or modification times). The table records the files it was built from
(its comment), so any connection to the database can tell whether it is current.

Both engines of the gate use it: the plain SQL in the staging pass (the platform's in-memory
DuckDB) and great-expectations (its own DuckDB database).
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import threading
from collections.abc import Callable
from typing import Any

from wmp_platform.sql import quote, sql_literal

VALUE = "value"  # the key set's one column
_lock = threading.Lock()  # one builder at a time: two would race to replace the same table


def reference_table_name(parquet: str, column: str) -> str:
    """The key set's table: a name fixed by the files' glob and the column."""
    return "wmp_reference_" + hashlib.sha1(f"{parquet}\0{column}".encode()).hexdigest()[:16]


def _files_signature(parquet: str) -> str:
    files = []
    for path in sorted(glob.glob(parquet)):
        stat = os.stat(path)
        files.append([path, stat.st_size, stat.st_mtime_ns])
    return hashlib.sha1(json.dumps(files).encode()).hexdigest()


def ensure_reference_table(run: Callable[[str], list[tuple[Any, ...]]], parquet: str, column: str) -> str:
    """The table of the distinct non-null values of ``column`` in the Parquet files ``parquet``
    (a glob), built in the database ``run`` executes SQL in (``run`` returns the rows), or
    rebuilt there when the files changed since. NULL is left out: ``x IN (..., NULL)`` is
    NULL rather than false for an unknown x, and would let it pass."""
    name = reference_table_name(parquet, column)
    signature = _files_signature(parquet)
    with _lock:
        built = run(f"SELECT comment FROM duckdb_tables() WHERE table_name = {sql_literal(name)} AND NOT temporary")
        if built != [(signature,)]:
            run(f"CREATE OR REPLACE TABLE {name} AS SELECT DISTINCT {quote(column)} AS {VALUE} "
                f"FROM read_parquet({sql_literal(parquet)}) WHERE {quote(column)} IS NOT NULL")
            run(f"COMMENT ON TABLE {name} IS {sql_literal(signature)}")
    return name
