"""great-expectations on DuckDB, in-database: a compatibility patch and the platform's expectations.

GX has no DuckDB dialect of its own; duckdb-engine gives SQLAlchemy one. ``enable_duckdb()``
closes the remaining gaps and, on every DuckDB connection GX opens, installs the ``wmp_*``
identifier macros (``wmp_platform.identifiers``), which the expectations below call.

The expectations run on the SQL execution engine only (pandas and Spark are not supported):

- one per identifier, failing a value not valid (the column holds normal forms, as staged columns do) (check letter included):
  ``expect_column_values_to_be_valid_pnc_id``, ``..._valid_cro_number``,
  ``..._valid_vehicle_registration``, ``..._valid_postcode``, ``..._valid_ni_number``,
  ``..._valid_uk_phone``;
- ``expect_column_values_to_exist_in_parquet``: every value occurs in a column of other
  Parquet files (a reference to another feed's staged rows); the values are read into a table
  of GX's database once and re-read only when the files change (``quality.references``).

Like every column-map expectation they skip NULLs. Importing this module imports GX (slow);
import it lazily.
"""

from __future__ import annotations

import os
import re
from contextlib import contextmanager

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

import sqlalchemy as sa  # noqa: E402
import sqlalchemy.dialects.postgresql as postgresql_dialect  # noqa: E402
from great_expectations.execution_engine import SqlAlchemyExecutionEngine  # noqa: E402
from great_expectations.expectations.expectation import ColumnMapExpectation  # noqa: E402
from great_expectations.expectations.metrics import ColumnMapMetricProvider, column_condition_partial  # noqa: E402

from wmp_platform.identifiers import install_macros  # noqa: E402
from wmp_platform.quality.references import VALUE, ensure_reference_table  # noqa: E402
from wmp_platform.quality.rules import IDENTIFIER_MACROS  # noqa: E402

_DUCKDB = "duckdb"
_enabled = False


def enable_duckdb() -> None:
    """Patch GX's SQL execution engine for duckdb-engine (idempotent).

    - GX fetches some results after leaving ``with engine.connect()``; returning the
      connection to the pool resets it and DuckDB loses the pending result. Keep one
      connection per engine, as GX already does for SQLite.
    - DuckDB aborts the transaction after a failed statement: roll back, so the next
      expectation runs on a usable connection.
    - Regex expectations look up the dialect's regex operators; duckdb-engine's dialect
      derives from PostgreSQL's and DuckDB understands ``~`` (RE2), so lend it that module.
    - Install the ``wmp_*`` macros on each new DuckDB connection.
    - Keep no computed metric between validations (``caching`` off).
    """
    global _enabled
    if _enabled:
        return
    original_init, original_get_connection = SqlAlchemyExecutionEngine.__init__, SqlAlchemyExecutionEngine.get_connection

    def __init__(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        if self.engine is not None and self.engine.dialect.name == _DUCKDB:
            self.dialect_module = postgresql_dialect
            # ExecutionEngine's ``caching`` option, which this subclass does not pass on: the gate
            # validates a table it replaces under one batch id, so no metric may outlive a validation.
            self._caching = False
            # duckdb-engine's DBAPI connection forwards execute() to the DuckDB connection.
            sa.event.listen(self.engine, "connect", lambda dbapi_connection, _record: install_macros(dbapi_connection))

    @contextmanager
    def get_connection(self):
        if self.engine.dialect.name != _DUCKDB:
            with original_get_connection(self) as connection:
                yield connection
            return
        if self._connection is None:
            self._connection = self.engine.connect()
        try:
            yield self._connection
        except Exception:
            self._connection.rollback()
            raise

    SqlAlchemyExecutionEngine.__init__ = __init__
    SqlAlchemyExecutionEngine.get_connection = get_connection
    _enabled = True


def _macro_expectation(class_name: str, what: str) -> type[ColumnMapExpectation]:
    """The column-map expectation ``class_name`` (and its metric), passing a value for which its
    macro in ``IDENTIFIER_MACROS`` is true."""
    expectation = re.sub(r"(?<!^)(?=[A-Z])", "_", class_name).lower()  # the name GX registers it under
    macro = IDENTIFIER_MACROS[expectation]
    metric = f"column_values.{macro}"

    def condition(cls, column, **kwargs):
        return sa.func.coalesce(getattr(sa.func, macro)(column), sa.false())

    # Defining a metric provider registers it with GX; nothing else refers to the class.
    type(f"{class_name}Metric", (ColumnMapMetricProvider,), {
        "__module__": __name__,
        "condition_metric_name": metric,
        "_sqlalchemy": column_condition_partial(engine=SqlAlchemyExecutionEngine)(condition),
    })
    return type(class_name, (ColumnMapExpectation,), {
        "__module__": __name__,
        "__doc__": f"Expect each non-null value to be {what} (SQL engine only; calls {macro}).",
        "map_metric": metric,
        "success_keys": ("mostly",),
    })


ExpectColumnValuesToBeValidPncId = _macro_expectation(
    "ExpectColumnValuesToBeValidPncId", "a PNC ID with the right check letter")
ExpectColumnValuesToBeValidCroNumber = _macro_expectation(
    "ExpectColumnValuesToBeValidCroNumber", "a CRO number with the right check letter")
ExpectColumnValuesToBeValidVehicleRegistration = _macro_expectation(
    "ExpectColumnValuesToBeValidVehicleRegistration", "a current, prefix or suffix style registration")
ExpectColumnValuesToBeValidPostcode = _macro_expectation(
    "ExpectColumnValuesToBeValidPostcode", "shaped like a UK postcode")
ExpectColumnValuesToBeValidNiNumber = _macro_expectation(
    "ExpectColumnValuesToBeValidNiNumber", "a National Insurance number with an issuable prefix")
ExpectColumnValuesToBeValidUkPhone = _macro_expectation(
    "ExpectColumnValuesToBeValidUkPhone", "a UK telephone number")


class ColumnValuesExistInParquet(ColumnMapMetricProvider):
    condition_metric_name = "column_values.exist_in_parquet"
    condition_value_keys = ("parquet", "parquet_column")

    @column_condition_partial(engine=SqlAlchemyExecutionEngine)
    def _sqlalchemy(cls, column, parquet, parquet_column, _execution_engine, **kwargs):
        def run(sql: str) -> list[tuple]:
            with _execution_engine.get_connection() as connection:
                result = connection.exec_driver_sql(sql)
                rows = [tuple(row) for row in result] if result.returns_rows else []
                connection.commit()  # a table built in GX's transaction would go with its rollback
            return rows

        keys = ensure_reference_table(run, parquet, parquet_column)
        return column.in_(sa.select(sa.column(VALUE)).select_from(sa.table(keys)))


class ExpectColumnValuesToExistInParquet(ColumnMapExpectation):
    """Expect each non-null value to occur in ``parquet_column`` of the Parquet files ``parquet``
    (a path or glob). SQL engine only, DuckDB only (``read_parquet``)."""

    parquet: str
    parquet_column: str

    map_metric = "column_values.exist_in_parquet"
    args_keys = ("column", "parquet", "parquet_column")
    success_keys = ("parquet", "parquet_column", "mostly")
