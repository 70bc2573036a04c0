"""Resubmission writes nothing; a later record for the same account and month is a correction."""

from __future__ import annotations

from pathlib import Path

from openbureau.context import Context

from . import factories as fac
from .helpers import count, rows, run


def test_same_content_is_a_duplicate(ctx: Context, tmp_path: Path) -> None:
    path = fac.write_csv(tmp_path / "a/2024-03.accounts.csv", fac.accounts(10))
    first = run(ctx, path)
    copy = tmp_path / "b/renamed.accounts.csv"
    copy.parent.mkdir()
    copy.write_bytes(path.read_bytes())
    again = run(ctx, copy)
    assert again.status == "duplicate" and again.batch_id == first.batch_id
    assert again.original_status == "accepted"
    assert (again.received, again.accepted) == (first.received, first.accepted)
    assert count(ctx, "batches") == 1 and count(ctx, "account_months") == 10


def test_same_content_gzipped_is_a_duplicate(ctx: Context, tmp_path: Path) -> None:
    path = fac.write_csv(tmp_path / "a/2024-03.accounts.csv", fac.accounts(10))
    first = run(ctx, path)
    gz = fac.gzip_file(fac.write_csv(tmp_path / "b/2024-03.accounts.csv", fac.accounts(10)))
    assert run(ctx, gz).batch_id == first.batch_id


def test_same_reference_is_a_duplicate(ctx: Context, tmp_path: Path) -> None:
    first = run(
        ctx, fac.write_csv(tmp_path / "a/2024-03.accounts.csv", fac.accounts(10)), batch_ref="REF-1"
    )
    other = fac.write_csv(tmp_path / "b/2024-03.accounts.csv", fac.accounts(11))
    again = run(ctx, other, batch_ref="REF-1")
    assert again.status == "duplicate" and again.batch_id == first.batch_id
    assert count(ctx, "account_months") == 10
    assert run(ctx, other, batch_ref="REF-2").status == "accepted"


def test_same_content_from_another_furnisher_is_not_a_duplicate(
    ctx: Context, tmp_path: Path
) -> None:
    path = fac.write_csv(tmp_path / "2024-03.accounts.csv", fac.accounts(10))
    run(ctx, path)
    assert run(ctx, path, "pay").status == "accepted"
    assert count(ctx, "accounts") == 20


def test_correction_supersedes_and_keeps_the_earlier_value(ctx: Context, tmp_path: Path) -> None:
    recs = fac.accounts(10)
    first = run(ctx, fac.write_csv(tmp_path / "a/2024-03.accounts.csv", recs))
    recs[1] = dict(recs[1], balance="999.99", status="dpd30", days_past_due="31")
    second = run(ctx, fac.write_csv(tmp_path / "b/2024-03.accounts.csv", recs))
    assert (second.status, second.corrected, second.duplicates) == ("accepted", 1, 9)
    (cur,) = rows(
        ctx,
        "SELECT a.balance_minor, a.status, m.balance_minor, m.batch_id "
        "FROM accounts a JOIN account_months m ON m.account_id = a.id "
        "WHERE a.furnisher_account_id = 'ACC0000001'",
    )
    assert cur == (99999, "dpd30", 99999, second.batch_id)
    (rev,) = rows(
        ctx,
        "SELECT r.balance_minor, r.status, r.batch_id, r.superseded_by "
        "FROM account_month_revisions r",
    )
    assert rev == (150050, "current", first.batch_id, second.batch_id)
    assert count(ctx, "account_months") == 10
    # a second correction keeps both earlier values
    recs[1] = dict(recs[1], balance="5.00")
    run(ctx, fac.write_csv(tmp_path / "c/2024-03.accounts.csv", recs))
    assert [
        r[0] for r in rows(ctx, "SELECT balance_minor FROM account_month_revisions ORDER BY id")
    ] == [150050, 99999]


def test_refused_batch_can_be_resubmitted(ctx: Context, tmp_path: Path) -> None:
    import pytest

    from openbureau.errors import BatchRefusedError

    recs = fac.accounts(10)
    recs[0]["status"] = recs[1]["status"] = "bogus"
    path = fac.write_csv(tmp_path / "2024-03.accounts.csv", recs)
    with pytest.raises(BatchRefusedError):
        run(ctx, path, batch_ref="R")
    with pytest.raises(BatchRefusedError):
        run(ctx, path, batch_ref="R")
    assert count(ctx, "batches") == 1
    fixed = fac.write_csv(tmp_path / "fixed/2024-03.accounts.csv", fac.accounts(10))
    assert run(ctx, fixed, batch_ref="R").status == "accepted"
    assert rows(ctx, "SELECT status FROM batches") == [("accepted",)]


def test_concurrent_submissions_store_one_batch(ctx: Context, tmp_path: Path) -> None:
    """Two processes racing with the same file: one batch, the other gets it as a duplicate."""
    import threading

    path = fac.write_csv(tmp_path / "2024-03.accounts.csv", fac.accounts(300))
    results: list[object] = []

    def go() -> None:
        try:
            results.append(run(ctx, path))
        except Exception as e:
            results.append(e)

    threads = [threading.Thread(target=go) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = sorted(getattr(r, "status", type(r).__name__) for r in results)
    assert statuses in (["accepted", "duplicate"], ["BatchInProgressError", "accepted"]), results
    assert count(ctx, "batches") == 1 and count(ctx, "account_months") == 300
