"""SIGKILL at random points: every batch is wholly present or wholly absent, and a re-run
completes it (account records in the database, payment transactions in the lake)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from sqlalchemy import text

from openbureau.context import Context
from openbureau.ingest import add_furnisher, recover
from openbureau.store import lake

from . import factories as fac

pytestmark = pytest.mark.slow

N_ACCOUNTS = 20_000
N_PAYMENTS = 100_000
KILLS = 12


def _feeds(folder: Path) -> dict[str, int]:
    """Three batches of one furnisher: two months of accounts and a month of payments."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder.mkdir(parents=True)
    for month in ("2024-01", "2024-02"):
        fac.write_csv(folder / f"{month}.accounts.csv", fac.accounts(N_ACCOUNTS, month))
    n = N_PAYMENTS
    ids = [f"T{i:09d}" for i in range(n)]
    pq.write_table(
        pa.table(
            {
                "transaction_id": ids,
                "customer_ref": [f"CUST{i % 5000:07d}" for i in range(n)],
                "timestamp": [f"2024-01-{1 + i % 28:02d}T10:00:00Z" for i in range(n)],
                "direction": ["out"] * n,
                "amount": [f"{1 + i % 900}.50" for i in range(n)],
                "merchant_category": ["5411"] * n,
                "channel": ["app"] * n,
            }
        ),
        folder / "2024-01.payments.parquet",
    )
    return {
        "2024-01.accounts.csv": N_ACCOUNTS,
        "2024-02.accounts.csv": N_ACCOUNTS,
        "2024-01.payments.parquet": N_PAYMENTS,
    }


def _start(env: dict[str, str], folder: Path, furnisher: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from openbureau.cli.main import main; main()",
            "ingest",
            str(folder),
            "--furnisher",
            furnisher,
            "--json",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _state(ctx: Context, furnisher: str) -> dict[str, tuple[str | None, int]]:
    """Per file: (batch status or None, rows of it present in its store)."""
    out: dict[str, tuple[str | None, int]] = {}
    with ctx.engine.connect() as conn:
        batches = conn.execute(
            text("SELECT file_name, status, id FROM batches WHERE furnisher_id = :f"),
            {"f": furnisher},
        ).all()
        by_file = {b[0]: (b[1], b[2]) for b in batches}
        for month in ("2024-01", "2024-02"):
            name = f"{month}.accounts.csv"
            n = conn.execute(
                text(
                    "SELECT count(*) FROM account_months m JOIN accounts a ON a.id = m.account_id "
                    "WHERE a.furnisher_id = :f AND m.month = :m"
                ),
                {"f": furnisher, "m": f"{month}-01"},
            ).scalar_one()
            out[name] = (by_file.get(name, (None, ""))[0], int(n))
    files = lake.payments_files(ctx.lake)
    n_lake = 0
    if files:
        con = duckdb.connect()
        n_lake = con.execute(
            "SELECT count(*) FROM read_parquet(?) WHERE furnisher_id = ?", [files, furnisher]
        ).fetchall()[0][0]
        con.close()
    name = "2024-01.payments.parquet"
    out[name] = (by_file.get(name, (None, ""))[0], int(n_lake))
    return out


def test_sigkill_at_random_points(
    context: Context, cli_env: dict[str, str], tmp_path: Path
) -> None:
    ctx = context
    env = {**os.environ, **cli_env}
    folder = tmp_path / "feeds"
    expected = _feeds(folder)
    add_furnisher(ctx, "warm", "Warm-up")
    add_furnisher(ctx, "f", "Furnisher")
    started = time.monotonic()
    warm = _start(env, folder, "warm")
    _, err = warm.communicate(timeout=600)
    assert warm.returncode == 0, err.decode()
    full = time.monotonic() - started
    rng = random.Random(20240301)
    seen_partial_progress = set()
    for _ in range(KILLS):
        proc = _start(env, folder, "f")
        time.sleep(rng.uniform(0.0, full))
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        recover(ctx)  # what the next run does first ("after restart")
        state = _state(ctx, "f")
        for name, (status, n) in state.items():
            assert status in (None, "accepted"), (name, status)
            assert n == (expected[name] if status == "accepted" else 0), (name, status, n)
        seen_partial_progress.add(tuple(s for s, _ in state.values()))
        with ctx.engine.connect() as conn:
            assert (
                conn.execute(
                    text("SELECT count(*) FROM batches WHERE status = 'pending'")
                ).scalar_one()
                == 0
            )
    # Re-running completes every batch, each exactly once.
    proc = _start(env, folder, "f")
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err.decode()
    assert len(out.splitlines()) == 3
    state = _state(ctx, "f")
    assert state == {name: ("accepted", n) for name, n in expected.items()}
    assert not any((ctx.settings.home / "tmp").iterdir())
    assert len(seen_partial_progress) >= 2, "kills should land at different stages"
