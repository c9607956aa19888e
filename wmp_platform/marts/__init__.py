"""Marts built in the DuckDB warehouse from SQL kept in files beside this module."""

from __future__ import annotations

from pathlib import Path

import duckdb

from wmp_platform.sql import sql_literal
from wmp_platform.storage import DataLayout

SQL_DIR = Path(__file__).resolve().parent


def build_mart(con: duckdb.DuckDBPyConnection, name: str, layout: DataLayout) -> None:
    """Run the mart's SQL file (statements separated by ';'), with {lake} standing for the lake folder."""
    text = (SQL_DIR / f"{name}.sql").read_text().replace("{lake}", sql_literal(str(layout.lake))[1:-1])
    con.execute(text)
