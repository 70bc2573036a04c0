"""The model tests share the feature tests' fixtures."""

from __future__ import annotations

from tests.features.conftest import sqlite_context

__all__ = ["sqlite_context"]
