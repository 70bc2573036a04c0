"""Shared fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL comes from ``OPENBUREAU_TEST_POSTGRES_URL`` (default: the local server, database
``test``). Each test gets a database of its own, created and dropped around it. Outside CI an
unreachable server skips the PostgreSQL half; under ``CI=true`` it fails instead, because CI
must run every test.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from openbureau.config import Settings
from openbureau.context import Context

POSTGRES_ADMIN_URL = os.environ.get(
    "OPENBUREAU_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


def _postgres_reachable() -> str | None:
    try:
        engine = create_engine(POSTGRES_ADMIN_URL)
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
    except Exception as e:  # any failure means "not here"
        return f"{type(e).__name__}: {e}"
    return None


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    problem = _postgres_reachable()
    if problem:
        if IN_CI:
            pytest.fail(f"PostgreSQL must be reachable in CI: {problem}")
        pytest.skip(f"PostgreSQL not reachable: {problem}")
    return POSTGRES_ADMIN_URL


@pytest.fixture
def fresh_postgres_url(postgres_admin_url: str) -> Iterator[str]:
    """A new, empty PostgreSQL database for one test, dropped afterwards."""
    name = f"ob_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(postgres_admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database URL on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'openbureau.db'}"
    return str(request.getfixturevalue("fresh_postgres_url"))


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """Settings for a fresh home in tmp_path on the parametrised database."""
    return Settings(home=tmp_path / "home", database_url=database_url)


@pytest.fixture
def context(settings: Settings) -> Iterator[Context]:
    """An initialised Context (keys, lake, schema) on a fresh database."""
    ctx = Context(settings)
    ctx.init()
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def cli_env(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Environment for running the CLI in a fresh home on the parametrised database."""
    env = {"OPENBUREAU_HOME": str(tmp_path / "home"), "OPENBUREAU_DATABASE_URL": database_url}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env
