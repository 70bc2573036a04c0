"""SQL runners: one abstract class runs all SQL; each backend fills in a few small methods.

Queries are written once, in DuckDB's dialect, and translated for the backend by sqlglot
(as Splink does). A runner registers inputs — Arrow tables or the Parquet file lists that
``deltalake`` resolves for a lake table — under a name, then runs a query and returns Arrow.

* :class:`DuckDBRunner` — the embedded default, and the online runtime (in-memory).
* :class:`SparkRunner` — a Spark session (from :mod:`openbureau.engine.spark`, the only
  module that imports pyspark); this module never imports pyspark itself.

Errors carry the SQL that failed (:class:`~openbureau.errors.SQLExecutionError`).
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa

from openbureau.errors import SQLExecutionError

logger = logging.getLogger(__name__)

# sqlglot dialect per backend; DuckDB SQL is the source dialect.
SOURCE_DIALECT = "duckdb"
_SQLGLOT_DIALECT = {"duckdb": "duckdb", "spark": "spark"}

# Functions whose DuckDB name has no translation sqlglot knows, per target dialect. An entry
# maps the upper-case DuckDB function name to the target's name, or to None when the target
# lacks it — the runner then refuses the query with a message naming the function.
FUNCTION_SUPPORT: dict[str, dict[str, str | None]] = {
    "spark": {"EPOCH_US": None, "EPOCH_MS": None, "LIST": None, "STRING_AGG": None},
}


def translate(sql: str, dialect: str) -> str:
    """``sql`` (DuckDB dialect) in ``dialect``; refuses functions the target lacks."""
    if dialect == SOURCE_DIALECT:
        return sql
    import sqlglot
    from sqlglot import exp

    target = _SQLGLOT_DIALECT.get(dialect)
    if target is None:
        raise SQLExecutionError(f"no SQL dialect for backend {dialect!r}")
    try:
        tree = sqlglot.parse_one(sql, read=SOURCE_DIALECT)
    except sqlglot.errors.ParseError as e:
        raise SQLExecutionError(f"cannot parse SQL for translation to {dialect}: {e}\n{sql}") from e
    support = FUNCTION_SUPPORT.get(dialect, {})
    for node in tree.find_all(exp.Anonymous, exp.Func):
        name = (node.name if isinstance(node, exp.Anonymous) else node.sql_name()).upper()
        if name in support and support[name] is None:
            raise SQLExecutionError(f"the {dialect} backend has no {name}() function:\n{sql}")
    return str(tree.sql(dialect=target))


def _quote_path(path: str) -> str:
    return "'" + path.replace("'", "''") + "'"


class SQLRunner(ABC):
    """Runs DuckDB-dialect SQL on a backend; subclasses fill in the ``_`` methods."""

    dialect: str

    def register_arrow(self, name: str, table: pa.Table) -> None:
        """Make ``table`` queryable as ``name``."""
        self._register_arrow(name, table)

    def register_parquet(self, name: str, files: Sequence[str], schema: pa.Schema) -> None:
        """Make Parquet ``files`` queryable as ``name``; no files gives an empty table."""
        if not files:
            self._register_arrow(name, schema.empty_table())
        else:
            self._register_parquet(name, list(files), schema)

    def query(self, sql: str) -> pa.Table:
        """Run ``sql`` (DuckDB dialect, translated for this backend); the result as Arrow."""
        translated = translate(sql, self.dialect)
        try:
            return self._run(translated)
        except SQLExecutionError:
            raise
        except Exception as e:  # every driver raises its own kinds
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise SQLExecutionError(
                f"{self.dialect} could not run the query ({type(e).__name__}: {first[:500]}):\n"
                f"{translated}"
            ) from e

    @abstractmethod
    def _register_arrow(self, name: str, table: pa.Table) -> None: ...

    @abstractmethod
    def _register_parquet(self, name: str, files: list[str], schema: pa.Schema) -> None: ...

    @abstractmethod
    def _run(self, sql: str) -> pa.Table: ...

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release what the runner holds."""

    def __enter__(self) -> SQLRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class DuckDBRunner(SQLRunner):
    """DuckDB: a connection of its own (in-memory) or one that is handed in."""

    dialect = "duckdb"

    def __init__(
        self,
        con: Any = None,
        *,
        memory_mb: int | None = None,
        threads: int | None = None,
        tmp: Path | None = None,
    ) -> None:
        import duckdb

        self._owned = con is None
        self.con: Any = con if con is not None else duckdb.connect()
        # Hours and dates of timestamps are taken in UTC on every backend.
        self.con.execute("SET TimeZone = 'UTC'")
        self.con.execute("SET preserve_insertion_order = false")
        if memory_mb:
            self.con.execute(f"SET memory_limit = '{int(memory_mb)}MB'")
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        if tmp is not None:
            tmp.mkdir(parents=True, exist_ok=True)
            self.con.execute(f"SET temp_directory = {_quote_path(str(tmp))}")
        self._arrow: dict[str, pa.Table] = {}

    def _register_arrow(self, name: str, table: pa.Table) -> None:
        self._arrow[name] = table  # DuckDB reads it in place: keep it alive
        self.con.register(name, table)

    def _register_parquet(self, name: str, files: list[str], schema: pa.Schema) -> None:
        cols = ", ".join(f'"{f.name}"' for f in schema)
        listing = ", ".join(_quote_path(f) for f in files)
        self.con.execute(
            f'CREATE OR REPLACE VIEW "{name}" AS SELECT {cols} FROM read_parquet([{listing}])'  # noqa: S608
        )

    def _run(self, sql: str) -> pa.Table:
        table: pa.Table = self.con.sql(sql).to_arrow_table()
        return table

    def close(self) -> None:
        if self._owned:
            self.con.close()


def _spark_ddl(schema: pa.Schema) -> str:
    names = {
        pa.string(): "STRING",
        pa.large_string(): "STRING",
        pa.int64(): "BIGINT",
        pa.int32(): "INT",
        pa.float64(): "DOUBLE",
        pa.bool_(): "BOOLEAN",
        pa.date32(): "DATE",
    }
    parts = []
    for f in schema:
        if pa.types.is_timestamp(f.type):
            kind = "TIMESTAMP"
        else:
            found = names.get(f.type)
            if found is None:
                raise SQLExecutionError(f"no Spark type for column {f.name} ({f.type})")
            kind = found
        parts.append(f"`{f.name}` {kind}")
    return ", ".join(parts)


class SparkRunner(SQLRunner):
    """A Spark session (local or a cluster's), used through its Python API only."""

    dialect = "spark"

    def __init__(self, spark: Any) -> None:
        self.spark = spark
        # Hours and dates of timestamps are taken in UTC on every backend.
        spark.conf.set("spark.sql.session.timeZone", "UTC")

    def _register_arrow(self, name: str, table: pa.Table) -> None:
        schema = _spark_ddl(table.schema)
        if table.num_rows == 0:
            frame = self.spark.createDataFrame([], schema)
        else:
            frame = self.spark.createDataFrame(table.to_pandas(), schema)
        frame.createOrReplaceTempView(name)

    def _register_parquet(self, name: str, files: list[str], schema: pa.Schema) -> None:
        cols = [f"`{f.name}`" for f in schema]
        frame = self.spark.read.schema(_spark_ddl(schema)).parquet(*files)
        frame.selectExpr(*cols).createOrReplaceTempView(name)

    def _run(self, sql: str) -> pa.Table:
        table: pa.Table = self.spark.sql(sql).toArrow()
        return table


def open_runner(
    engine: str,
    *,
    memory_mb: int = 2048,
    threads: int | None = None,
    tmp: Path | None = None,
) -> SQLRunner:
    """A runner by engine name: ``duckdb`` (a fresh in-memory database) or ``spark``."""
    if engine == "duckdb":
        return DuckDBRunner(memory_mb=memory_mb, threads=threads, tmp=tmp)
    if engine == "spark":
        from openbureau.engine import open_engine

        spark_engine: Any = open_engine("spark", memory_mb=memory_mb, tmp=tmp, threads=threads)
        return SparkRunner(spark_engine.spark)
    raise SQLExecutionError(f"unknown engine {engine!r}: use duckdb or spark")


__all__ = [
    "FUNCTION_SUPPORT",
    "DuckDBRunner",
    "SQLRunner",
    "SparkRunner",
    "open_runner",
    "translate",
]
