"""DuckDB: the embedded default engine (in-memory, spilling to a temp folder)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from openbureau.engine.base import Engine, EngineName


class DuckDBEngine(Engine):
    name: EngineName = "duckdb"
    dialect = "duckdb"

    def __init__(
        self, *, memory_mb: int = 2048, tmp: Path | None = None, threads: int | None = None
    ) -> None:
        self.con = duckdb.connect()
        self.con.execute(f"SET memory_limit = '{int(memory_mb)}MB'")
        if tmp is not None:
            tmp.mkdir(parents=True, exist_ok=True)
            self.con.execute(f"SET temp_directory = '{str(tmp).replace(chr(39), chr(39) * 2)}'")
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        self.con.execute("SET preserve_insertion_order = false")
        self._api: Any = None
        self._count = 0

    def splink_api(self) -> Any:
        if self._api is None:
            from splink import DuckDBAPI

            self._api = DuckDBAPI(connection=self.con)
        return self._api

    def register(self, table: pa.Table, name: str) -> Any:
        self._count += 1
        return self.splink_api().register(table, table_name=f"{name}_{self._count}")

    def close(self) -> None:
        self.con.close()


__all__ = ["DuckDBEngine"]
