from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from openbureau.cli.main import app

runner = CliRunner()


def test_synth_writes_the_documented_layout(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "synth",
            "--consumers",
            "600",
            "--months",
            "3",
            "--seed",
            "5",
            "--start",
            "2024-11",
            "--out",
            str(tmp_path),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert summary["people"] == 600 and summary["files"] == 12
    names = sorted(str(p.relative_to(tmp_path)) for p in (tmp_path / "feeds").rglob("*.*"))
    assert names == sorted(
        [f"feeds/bankcard/{m}.accounts.csv" for m in ("2024-11", "2024-12", "2025-01")]
        + [f"feeds/microloan/{m}.accounts.jsonl" for m in ("2024-11", "2024-12", "2025-01")]
        + [
            f"feeds/payplat/{m}.{k}.parquet"
            for m in ("2024-11", "2024-12", "2025-01")
            for k in ("accounts", "payments")
        ]
    )
    for name in ("people", "accounts", "person_months"):
        assert (tmp_path / "truth" / f"{name}.parquet").exists()
    furnishers = json.loads((tmp_path / "furnishers.json").read_text())
    assert [f["id"] for f in furnishers] == ["bankcard", "microloan", "payplat"]


def test_synth_refuses_bad_arguments_clearly(tmp_path: Path) -> None:
    for args, message in (
        (["--months", "0"], "months must be"),
        (["--start", "2026-13"], "YYYY-MM"),
        (["--start", "2099-01"], "future"),
        (["--consumers", "3"], "at least 10"),
    ):
        result = runner.invoke(app, ["synth", "--out", str(tmp_path / "x"), *args])
        assert result.exit_code == 1, result.output
        assert "Error:" in result.output and message in result.output
        assert "Traceback" not in result.output


def test_synth_refuses_to_overwrite_a_foreign_folder(tmp_path: Path) -> None:
    (tmp_path / "precious.txt").write_text("keep me")
    result = runner.invoke(
        app, ["synth", "--consumers", "100", "--months", "1", "--out", str(tmp_path)]
    )
    assert result.exit_code == 1
    assert (tmp_path / "precious.txt").read_text() == "keep me"


def test_every_command_has_help() -> None:
    for command in ([], ["init"], ["synth"], ["demo"]):
        result = runner.invoke(app, [*command, "--help"])
        assert result.exit_code == 0
        assert "Usage" in result.output
