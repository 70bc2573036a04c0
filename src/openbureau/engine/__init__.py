"""Compute engines: one interface, backends that fill in a few small methods.

``duckdb`` is the embedded default; ``spark`` (the optional ``spark`` extra) is for when one
machine is outgrown. Only :mod:`openbureau.engine.spark` imports pyspark, and only when asked.
"""

from __future__ import annotations

from openbureau.engine.base import ENGINES, Engine, EngineName, open_engine

__all__ = ["ENGINES", "Engine", "EngineName", "open_engine"]
