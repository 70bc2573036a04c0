"""The engine interface: what a job needs from a backend, and how to get one by name."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa

from openbureau.errors import IdentityError

EngineName = Literal["duckdb", "spark"]
ENGINES: tuple[EngineName, ...] = ("duckdb", "spark")


class Engine(ABC):
    """A backend for set-based jobs and for Splink. Subclasses fill in the small methods."""

    name: EngineName
    dialect: str

    @abstractmethod
    def splink_api(self) -> Any:
        """The Splink database API object of this backend."""

    @abstractmethod
    def register(self, table: pa.Table, name: str) -> Any:
        """Register an Arrow table with Splink; returns the SplinkDataFrame."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release the backend's resources."""

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_engine(
    name: str, *, memory_mb: int = 2048, tmp: Path | None = None, threads: int | None = None
) -> Engine:
    """An engine by name: ``duckdb`` (default) or ``spark`` (needs the ``spark`` extra)."""
    if name == "duckdb":
        from openbureau.engine.duckdb import DuckDBEngine

        return DuckDBEngine(memory_mb=memory_mb, tmp=tmp, threads=threads)
    if name == "spark":
        from openbureau.engine.spark import SparkEngine

        return SparkEngine(memory_mb=memory_mb, tmp=tmp, threads=threads)
    raise IdentityError(f"unknown engine {name!r}: use one of {', '.join(ENGINES)}")


__all__ = ["ENGINES", "Engine", "EngineName", "open_engine"]
