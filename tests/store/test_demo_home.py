"""The demo only ever wipes a home it created itself."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from openbureau.cli.main import app
from openbureau.config import load_settings
from openbureau.context import Context
from openbureau.demo import MARKER

runner = CliRunner()


def test_demo_runs_and_reruns(cli_env: dict[str, str]) -> None:
    first = runner.invoke(app, ["demo", "--consumers", "800", "--months", "14"])
    assert first.exit_code == 0, first.output
    for step in (
        "Initialising",
        "Synthesising",
        "12-month bad rate",
        "truth-PD AUC",
        "Demo finished",
    ):
        assert step in first.output
    home = Path(cli_env["OPENBUREAU_HOME"])
    assert (home / MARKER).exists()
    second = runner.invoke(app, ["demo", "--consumers", "600", "--months", "13"])
    assert second.exit_code == 0, second.output


def test_demo_refuses_a_bureau_it_did_not_create(cli_env: dict[str, str]) -> None:
    ctx = Context(load_settings())
    ctx.init()  # a real bureau: initialised by hand
    ctx.close()
    result = runner.invoke(app, ["demo", "--consumers", "500", "--months", "13"])
    assert result.exit_code == 1
    assert "Error:" in result.output and "did not create" in result.output
    ctx = Context(load_settings())
    ctx.require_initialised()  # untouched
    ctx.close()
