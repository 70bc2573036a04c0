"""Account records into the credit file: state, history, identity at the door."""

from __future__ import annotations

import hashlib
import hmac
import re
from pathlib import Path

import pyarrow as pa
import pytest

from openbureau.context import Context
from openbureau.ingest.load import NationalIdSealer

from . import factories as fac
from .helpers import count, rows, run


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_accepted_batch_updates_the_credit_file(ctx: Context, tmp_path: Path, fmt: str) -> None:
    writer = {"csv": fac.write_csv, "jsonl": fac.write_jsonl, "parquet": fac.write_parquet}[fmt]
    path = writer(tmp_path / f"2024-03.accounts.{fmt}", fac.accounts(12))
    r = run(ctx, path)
    assert (r.status, r.received, r.accepted, r.rejected) == ("accepted", 12, 12, 0)
    assert r.rejects == [] and r.reject_file is None
    assert count(ctx, "accounts") == 12
    assert count(ctx, "account_months") == 12
    assert count(ctx, "identity_records") == 12
    assert count(ctx, "batches", "WHERE status = 'accepted'") == 1
    (acc,) = rows(
        ctx,
        "SELECT balance_minor, credit_limit_minor, status, last_month, consumer_id "
        "FROM accounts WHERE furnisher_account_id = 'ACC0000001'",
    )
    assert acc[0] == 150050 and acc[1] == 2000000 and acc[2] == "current"
    assert str(acc[3]) == "2024-03-01"
    assert re.fullmatch(r"C[0-9a-f]{16}", acc[4])


def test_history_keeps_every_month(ctx: Context, tmp_path: Path) -> None:
    for m in range(1, 13):
        month = f"2023-{m:02d}"
        run(ctx, fac.write_csv(tmp_path / f"{month}.accounts.csv", fac.accounts(3, month)))
    assert count(ctx, "account_months") == 36
    assert count(ctx, "accounts") == 3
    (last,) = rows(ctx, "SELECT max(last_month) FROM accounts")
    assert str(last[0]) == "2023-12-01"


def test_an_older_month_does_not_overwrite_the_current_state(ctx: Context, tmp_path: Path) -> None:
    run(ctx, fac.write_csv(tmp_path / "a/2024-03.accounts.csv", [fac.account(1, "2024-03")]))
    run(
        ctx,
        fac.write_csv(
            tmp_path / "b/2024-02.accounts.csv", [fac.account(1, "2024-02", balance="7.00")]
        ),
    )
    (acc,) = rows(ctx, "SELECT balance_minor, last_month FROM accounts")
    assert acc[0] == 150050 and str(acc[1]) == "2024-03-01"
    assert count(ctx, "account_months") == 2


def test_national_id_is_stored_only_as_hmac_and_ciphertext(ctx: Context, tmp_path: Path) -> None:
    rec = fac.account(7, national_id="1101-0119 8503-12007".replace("7", fac.national_id(7)[-1], 0))
    rec["national_id"] = fac.national_id(7)[:6] + " " + fac.national_id(7)[6:].lower()
    run(ctx, fac.write_csv(tmp_path / "2024-03.accounts.csv", [rec]))
    nid = fac.national_id(7)
    expected = hmac.new(ctx.keys.hmac_key, nid.encode(), hashlib.sha256).hexdigest()
    (ident,) = rows(
        ctx,
        "SELECT national_id_hmac, national_id_cipher, nid_state, consumer_id, "
        "needs_resolution, phone, birth_date, name, name_key FROM identity_records",
    )
    assert ident[0] == expected
    assert NationalIdSealer(ctx.keys).open(bytes(ident[1])) == nid
    assert ident[2] == "valid" and ident[3] is not None and not ident[4]
    assert ident[5] == "13812345678" and str(ident[6]) == "1985-03-12"
    assert ident[7] == "wang xiaoming7" and ident[8] == "wang xiaoming7"
    (cons,) = rows(ctx, "SELECT id, national_id_hmac, national_id_cipher FROM consumers")
    assert cons[0] == ident[3] and cons[1] == expected
    assert NationalIdSealer(ctx.keys).open(bytes(cons[2])) == nid
    # The clear id is nowhere in the database.
    for table in ("identity_records", "consumers", "batches"):
        for row in rows(ctx, f"SELECT * FROM {table}"):
            assert nid not in repr(row)


def test_a_national_id_is_sealed_once_per_context_and_opens_again(
    ctx: Context, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two monthly files of the same person: the second batch reuses the first's ciphertext.
    run(ctx, fac.write_csv(tmp_path / "2024-03.accounts.csv", [fac.account(3)]))
    run(ctx, fac.write_csv(tmp_path / "2024-04.accounts.csv", [fac.account(3, "2024-04")]))
    ciphers = {bytes(r[0]) for r in rows(ctx, "SELECT national_id_cipher FROM identity_records")}
    ciphers |= {bytes(r[0]) for r in rows(ctx, "SELECT national_id_cipher FROM consumers")}
    assert len(ciphers) == 1
    assert NationalIdSealer(ctx.keys).open(ciphers.pop()) == fac.national_id(3)
    assert ctx.sealer is ctx.sealer
    # Bounded: a full cache starts again instead of growing with the population.
    monkeypatch.setattr("openbureau.ingest.load._SEALED_MAX", 2)
    sealer = NationalIdSealer(ctx.keys)
    macs, seals = sealer.column(pa.array(["A1", "B2", "C3", "A1", None]))
    assert len(sealer._sealed) <= 2
    assert macs[4].as_py() is None and seals[4].as_py() is None
    assert seals[0].as_py() == seals[3].as_py() != seals[1].as_py()
    assert [sealer.open(seals[i].as_py()) for i in range(4)] == ["A1", "B2", "C3", "A1"]


def test_same_national_id_links_to_one_consumer(ctx: Context, tmp_path: Path) -> None:
    run(ctx, fac.write_csv(tmp_path / "a/2024-03.accounts.csv", [fac.account(1), fac.loan(1)]))
    first = rows(ctx, "SELECT DISTINCT consumer_id FROM accounts")
    run(
        ctx,
        fac.write_jsonl(
            tmp_path / "b/2024-03.accounts.jsonl",
            [fac.account(1, account_id="OTHER1", name="Xiaoming Wang")],
        ),
        "pay",
    )
    assert count(ctx, "consumers") == 1
    assert rows(ctx, "SELECT DISTINCT consumer_id FROM accounts") == first


def test_records_without_a_valid_id_are_kept_and_flagged(ctx: Context, tmp_path: Path) -> None:
    recs = [
        fac.account(1, national_id=""),
        fac.account(
            2,
            national_id=fac.national_id(2)[:-1] + "0"
            if fac.national_id(2)[-1] != "0"
            else fac.national_id(2)[:-1] + "1",
        ),
    ]
    r = run(ctx, fac.write_csv(tmp_path / "2024-03.accounts.csv", recs))
    assert r.accepted == 2 and r.rejected == 0
    got = rows(
        ctx,
        "SELECT nid_state, consumer_id, needs_resolution FROM identity_records "
        "ORDER BY furnisher_account_id",
    )
    assert [(g[0], g[1], bool(g[2])) for g in got] == [
        ("missing", None, True),
        ("invalid", None, True),
    ]
    assert count(ctx, "accounts", "WHERE consumer_id IS NULL") == 2
    assert count(ctx, "consumers") == 0


@pytest.mark.parametrize("birth", ["1985-03-12", "19850312", "12/03/1985"])
def test_three_birth_date_formats(ctx: Context, tmp_path: Path, birth: str) -> None:
    run(ctx, fac.write_csv(tmp_path / "2024-03.accounts.csv", [fac.account(1, birth_date=birth)]))
    assert str(rows(ctx, "SELECT birth_date FROM identity_records")[0][0]) == "1985-03-12"


@pytest.mark.parametrize(
    "phone", ["13812345678", "138-1234-5678", "+86 138 1234 5678", "0086 13812345678"]
)
def test_phone_formats(ctx: Context, tmp_path: Path, phone: str) -> None:
    run(ctx, fac.write_csv(tmp_path / "2024-03.accounts.csv", [fac.account(1, phone=phone)]))
    assert rows(ctx, "SELECT phone FROM identity_records")[0][0] == "13812345678"


def test_sealer_hmac_matches_the_standard(ctx: Context) -> None:
    sealer = NationalIdSealer(ctx.keys)
    for value in ("11010119850312001X", "x", ""):
        assert (
            sealer.hmac_hex(value)
            == hmac.new(ctx.keys.hmac_key, value.encode(), hashlib.sha256).hexdigest()
        )


def test_sixty_months_and_more_in_one_file(ctx: Context, tmp_path: Path) -> None:
    """A back-file of 62 months: every month kept, the current state is the latest month."""
    months = [f"{2019 + m // 12}-{m % 12 + 1:02d}" for m in range(62)]  # 2019-01 .. 2024-02
    recs = [
        fac.account(1, month, opened="2018-12-01", balance=f"{i}.00")
        for i, month in enumerate(months)
    ]
    r = run(ctx, fac.write_csv(tmp_path / "backfile.accounts.csv", recs))
    assert r.accepted == 62
    assert count(ctx, "account_months") == 62
    (acc,) = rows(ctx, "SELECT last_month, balance_minor FROM accounts")
    assert str(acc[0]) == "2024-02-01" and acc[1] == 6100
    receipt_file = ctx.settings.home / "receipts" / "bank" / f"{r.batch_id}.receipt.json"
    assert receipt_file.exists() and r.batch_id in receipt_file.read_text()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_sqlite_merge_memory_settings_are_given_back(ctx: Context, tmp_path: Path) -> None:
    """The merge raises SQLite's page cache and sets its process-wide soft heap limit; both
    are back to what they were once the batch is in, so a long-lived process (the service
    taking uploads) keeps neither."""
    import sqlite3

    probe = sqlite3.connect(":memory:")
    assert probe.execute("PRAGMA soft_heap_limit").fetchone()[0] == 0
    r = run(ctx, fac.write_csv(tmp_path / "2024-03.accounts.csv", fac.accounts(20)))
    assert r.status == "accepted"
    assert probe.execute("PRAGMA soft_heap_limit").fetchone()[0] == 0
    with ctx.engine.connect() as conn:  # the pool hands back the connection the merge used
        assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -2000
    probe.close()
