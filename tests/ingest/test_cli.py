"""The command line: furnishers, ingest, receipts as JSON lines, errors without tracebacks."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from openbureau.cli.main import app

from . import factories as fac

runner = CliRunner()


def _init(cli_env: dict[str, str]) -> None:
    assert runner.invoke(app, ["init"]).exit_code == 0
    r = runner.invoke(app, ["furnishers", "add", "bank", "--name", "A Bank"])
    assert r.exit_code == 0 and "registered" in r.output


def test_furnishers(cli_env: dict[str, str]) -> None:
    _init(cli_env)
    again = runner.invoke(app, ["furnishers", "add", "bank", "--name", "A Bank"])
    assert again.exit_code == 0 and "already registered" in again.output
    listed = runner.invoke(app, ["furnishers", "list", "--json"])
    assert json.loads(listed.output.splitlines()[0])["id"] == "bank"


def test_ingest_folder_prints_one_receipt_per_line(cli_env: dict[str, str], tmp_path: Path) -> None:
    _init(cli_env)
    feeds = tmp_path / "feeds"
    fac.write_csv(feeds / "2024-01.accounts.csv", fac.accounts(10, "2024-01"))
    fac.write_csv(feeds / "2024-02.accounts.csv", fac.accounts(10, "2024-02"))
    r = runner.invoke(app, ["ingest", str(feeds), "--furnisher", "bank", "--json"])
    assert r.exit_code == 0, r.output
    receipts = [json.loads(line) for line in r.output.splitlines()]
    assert [x["file"] for x in receipts] == ["2024-01.accounts.csv", "2024-02.accounts.csv"]
    for x in receipts:
        assert {
            "batch_id",
            "furnisher",
            "file",
            "status",
            "received",
            "accepted",
            "rejected",
            "corrected",
            "duplicates",
            "rejects",
        } <= set(x)
        assert x["status"] == "accepted" and x["accepted"] == 10
    again = runner.invoke(
        app, ["ingest", str(feeds / "2024-01.accounts.csv"), "--furnisher", "bank", "--json"]
    )
    assert json.loads(again.output)["status"] == "duplicate"


def test_refused_batch_exits_non_zero(cli_env: dict[str, str], tmp_path: Path) -> None:
    _init(cli_env)
    recs = fac.accounts(10)
    for x in recs:
        x["status"] = "bogus"
    path = fac.write_csv(tmp_path / "2024-03.accounts.csv", recs)
    r = runner.invoke(app, ["ingest", str(path), "--furnisher", "bank", "--json"])
    assert r.exit_code == 1
    assert json.loads(r.stdout.splitlines()[0])["status"] == "refused"
    assert "batch refused" in r.stderr and "Traceback" not in r.output + r.stderr


def test_bad_file_and_unknown_furnisher(cli_env: dict[str, str], tmp_path: Path) -> None:
    _init(cli_env)
    empty = tmp_path / "2024-03.accounts.csv"
    empty.write_text("")
    r = runner.invoke(app, ["ingest", str(empty), "--furnisher", "bank"])
    assert r.exit_code == 1 and "file is empty" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    path = fac.write_csv(tmp_path / "x/2024-03.accounts.csv", fac.accounts(2))
    r = runner.invoke(app, ["ingest", str(path), "--furnisher", "nobody"])
    assert r.exit_code == 1 and "unknown furnisher" in r.stderr
    r = runner.invoke(app, ["ingest", str(path), "--furnisher", "bank", "--format", "xml"])
    assert r.exit_code == 1 and "unknown format" in r.stderr
