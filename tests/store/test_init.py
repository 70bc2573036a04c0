"""``init`` builds the credit-file schema through Alembic on SQLite and PostgreSQL alike."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from sqlalchemy import inspect
from typer.testing import CliRunner

from openbureau.cli.main import app
from openbureau.config import Settings, load_settings
from openbureau.context import Context
from openbureau.errors import ConfigError, NotInitialisedError
from openbureau.keys import load_keys
from openbureau.store.schema import current_revision, head_revision

runner = CliRunner()


def test_init_creates_schema_keys_and_lake(settings: Settings) -> None:
    ctx = Context(settings)
    result = ctx.init()
    tables = set(inspect(ctx.engine).get_table_names())
    assert {
        "consumers",
        "furnishers",
        "accounts",
        "account_months",
        "batches",
        "alembic_version",
    } <= tables
    assert current_revision(ctx.engine) == head_revision() == result.revision
    assert ctx.lake.is_dir()
    for key in result.keys_created:
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(settings.secrets_dir.stat().st_mode) == 0o700
    keys = load_keys(settings)
    assert len(keys.hmac_key) == len(keys.data_key) == 32
    assert keys.hmac_key != keys.data_key
    assert "hidden" in repr(keys)
    ctx.close()


def test_init_is_idempotent_and_keeps_keys(settings: Settings) -> None:
    ctx = Context(settings)
    first = ctx.init()
    before = load_keys(settings)
    second = ctx.init()
    assert second.keys_created == []
    assert load_keys(settings) == before
    assert first.revision == second.revision
    ctx.require_initialised()
    ctx.close()


def test_cli_init_on_each_database(cli_env: dict[str, str]) -> None:
    result = runner.invoke(app, ["init"])
    assert result.exit_code == 0, result.output
    assert "schema" in result.output
    ctx = Context(load_settings())
    ctx.require_initialised()
    ctx.close()


def test_uninitialised_home_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENBUREAU_HOME", str(tmp_path / "nowhere"))
    monkeypatch.delenv("OPENBUREAU_DATABASE_URL", raising=False)
    with pytest.raises(NotInitialisedError, match="openbureau init"):
        Context().require_initialised()


def test_placeholder_secrets_refused_outside_development(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="placeholder"):
        load_settings(home=tmp_path, environment="production", hmac_key="changethis")
    # accepted (with a warning) while developing
    load_settings(home=tmp_path, environment="development", hmac_key="changethis")


def test_short_keys_refused_in_production(tmp_path: Path) -> None:
    settings = load_settings(
        home=tmp_path, environment="production", hmac_key="c2hvcnQ=", data_key="c2hvcnQ="
    )
    with pytest.raises(ConfigError, match="32 random bytes"):
        load_keys(settings)


def test_unsupported_database_is_refused(tmp_path: Path) -> None:
    ctx = Context(Settings(home=tmp_path, database_url="mysql://x@localhost/db"))
    with pytest.raises(ConfigError, match="unsupported database"):
        ctx.init()
