"""``openbureau link``, ``review`` and ``evaluate identity`` through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
from typer.testing import CliRunner

from openbureau.cli.main import app
from openbureau.context import Context
from openbureau.identity.feeds import load_records, seal
from openbureau.identity.model import TrainedModel
from tests.identity.conftest import seed_model

runner = CliRunner()


def _json_lines(output: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def test_link_review_evaluate(
    cli_env: dict[str, str], trained: TrainedModel, population: tuple[Path, pa.Table]
) -> None:
    folder, records = population
    result = runner.invoke(app, ["link"])
    assert result.exit_code == 1 and "openbureau init" in result.output
    assert runner.invoke(app, ["init"]).exit_code == 0
    ctx = Context()
    load_records(ctx, seal(records, ctx.keys))
    seed_model(ctx, trained)
    ctx.close()

    result = runner.invoke(app, ["link", "--json"])
    assert result.exit_code == 0, result.output
    (summary,) = _json_lines(result.output)
    assert summary["records"] == records.num_rows and summary["model_reused"] is True

    result = runner.invoke(app, ["link"])
    assert result.exit_code == 0 and "reviews pending" in result.output

    result = runner.invoke(app, ["evaluate", "identity", "--truth", str(folder), "--json"])
    assert result.exit_code == 0, result.output
    (metrics,) = _json_lines(result.output)
    assert {"precision", "recall", "f1", "mixed_file_rate", "fragmentation_rate"} <= set(metrics)
    assert metrics["mixed_file_rate"] == 0.0

    result = runner.invoke(app, ["evaluate", "identity", "--truth", str(folder)])
    assert result.exit_code == 0 and "fragmentation rate" in result.output

    result = runner.invoke(app, ["review", "list", "--status", "all", "--json"])
    assert result.exit_code == 0
    result = runner.invoke(app, ["review", "show", "999999"])
    assert result.exit_code == 1 and "no review item 999999" in result.output
    result = runner.invoke(app, ["review", "accept", "999999", "--by", "op"])
    assert result.exit_code == 1
    result = runner.invoke(app, ["review", "list", "--status", "bogus"])
    assert result.exit_code == 1 and "unknown status" in result.output


def test_bad_arguments(cli_env: dict[str, str], tmp_path: Path) -> None:
    assert runner.invoke(app, ["init"]).exit_code == 0
    result = runner.invoke(app, ["link", "--engine", "oracle"])
    assert result.exit_code == 1 and "unknown engine" in result.output
    result = runner.invoke(app, ["link"])
    assert result.exit_code == 1 and "no identity records" in result.output
    result = runner.invoke(app, ["evaluate", "identity", "--truth", str(tmp_path)])
    assert result.exit_code == 1 and "accounts.parquet" in result.output
