"""Bad files: each gets a clear error and leaves nothing behind."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from openbureau.config import Settings
from openbureau.context import Context
from openbureau.errors import BadFileError, HeaderMismatchError
from openbureau.ingest import add_furnisher

from . import factories as fac
from .helpers import count, nothing_written, run


def test_empty_file(ctx: Context, tmp_path: Path) -> None:
    path = tmp_path / "2024-03.accounts.csv"
    path.write_bytes(b"")
    with pytest.raises(BadFileError, match="file is empty"):
        run(ctx, path)
    nothing_written(ctx)


def test_header_only(ctx: Context, tmp_path: Path) -> None:
    path = fac.write_csv(tmp_path / "2024-03.accounts.csv", [], fac.ACCOUNT_COLUMNS)
    with pytest.raises(BadFileError, match="no records"):
        run(ctx, path)
    nothing_written(ctx)


def test_wrong_encoding(ctx: Context, tmp_path: Path) -> None:
    path = fac.write_csv(tmp_path / "2024-03.accounts.csv", fac.accounts(5))
    lines = path.read_text().splitlines(keepends=True)
    lines[3] = lines[3].replace("WANG", "WÄNG")
    path.write_bytes("".join(lines).encode("latin-1"))
    with pytest.raises(BadFileError, match=r"line 4 is not valid UTF-8"):
        run(ctx, path)
    nothing_written(ctx)


def test_utf16(ctx: Context, tmp_path: Path) -> None:
    path = fac.write_csv(tmp_path / "2024-03.accounts.csv", fac.accounts(5))
    path.write_bytes(path.read_text().encode("utf-16"))
    with pytest.raises(BadFileError, match="UTF-16"):
        run(ctx, path)
    nothing_written(ctx)


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_bom_and_crlf_are_tolerated(ctx: Context, tmp_path: Path, newline: str) -> None:
    recs = fac.accounts(40)
    recs[7]["status"] = "bogus"
    path = fac.write_csv(tmp_path / "2024-03.accounts.csv", recs, bom=True, newline=newline)
    r = run(ctx, path)
    assert r.accepted == 39 and r.rejects[0]["line"] == 9
    assert count(ctx, "accounts") == 39


def test_bom_in_jsonl_is_tolerated(ctx: Context, tmp_path: Path) -> None:
    path = fac.write_jsonl(tmp_path / "2024-03.accounts.jsonl", fac.accounts(5))
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert run(ctx, path).accepted == 5


def test_truncated_csv(ctx: Context, tmp_path: Path) -> None:
    path = fac.write_csv(tmp_path / "2024-03.accounts.csv", fac.accounts(30))
    data = path.read_bytes()
    path.write_bytes(data[: data.rfind(b"\n", 0, len(data) - 1) + 40])
    with pytest.raises(BadFileError, match=r"last line \(31\) is incomplete"):
        run(ctx, path)
    nothing_written(ctx)


def test_truncated_csv_in_a_quote(ctx: Context, tmp_path: Path) -> None:
    recs = fac.accounts(30)
    recs[-1]["address"] = "a, quoted, address"
    path = fac.write_csv(tmp_path / "2024-03.accounts.csv", recs)
    data = path.read_bytes()
    path.write_bytes(data[: data.index(b'"a, quoted') + 5])
    with pytest.raises(BadFileError):
        run(ctx, path)
    nothing_written(ctx)


def test_truncated_jsonl(ctx: Context, tmp_path: Path) -> None:
    path = fac.write_jsonl(tmp_path / "2024-03.accounts.jsonl", fac.accounts(30))
    data = path.read_bytes()
    path.write_bytes(data[:-25])
    with pytest.raises(BadFileError, match=r"last line \(30\) is incomplete"):
        run(ctx, path)
    nothing_written(ctx)


def test_truncated_parquet(ctx: Context, tmp_path: Path) -> None:
    path = fac.write_parquet(tmp_path / "2024-03.accounts.parquet", fac.accounts(30))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(BadFileError, match="not a readable Parquet file"):
        run(ctx, path)
    nothing_written(ctx)


def test_header_missing_required_fields(ctx: Context, tmp_path: Path) -> None:
    cols = [c for c in fac.ACCOUNT_COLUMNS if c not in ("balance", "status")]
    path = fac.write_csv(tmp_path / "2024-03.accounts.csv", fac.accounts(3), cols)
    with pytest.raises(
        HeaderMismatchError, match="missing required accounts fields: balance, status"
    ):
        run(ctx, path)
    nothing_written(ctx)


def test_header_of_another_kind(ctx: Context, tmp_path: Path) -> None:
    path = fac.write_csv(tmp_path / "2024-03.accounts.csv", fac.payments(3))
    with pytest.raises(HeaderMismatchError):
        run(ctx, path)
    nothing_written(ctx)


def test_no_header(ctx: Context, tmp_path: Path) -> None:
    path = fac.write_csv(tmp_path / "2024-03.accounts.csv", fac.accounts(3))
    path.write_text("\n".join(path.read_text().splitlines()[1:]) + "\n")
    with pytest.raises(HeaderMismatchError, match="does not match the accounts format"):
        run(ctx, path)
    nothing_written(ctx)


def test_header_case_is_ignored(ctx: Context, tmp_path: Path) -> None:
    path = fac.write_csv(tmp_path / "2024-03.accounts.csv", fac.accounts(3))
    text = path.read_text().split("\n", 1)
    path.write_text(text[0].upper() + "\n" + text[1])
    assert run(ctx, path).accepted == 3


def test_gigantic_line(ctx: Context, tmp_path: Path, database_url: str) -> None:
    settings = Settings(
        home=ctx.settings.home, database_url=database_url, ingest_max_line_bytes=64 * 1024
    )
    small = Context(settings)
    try:
        recs = fac.accounts(5)
        recs[2]["address"] = "x" * 200_000
        path = fac.write_csv(tmp_path / "2024-03.accounts.csv", recs)
        with pytest.raises(BadFileError, match=r"line 4 is longer than 65536 bytes"):
            run(small, path)
        nothing_written(small)
    finally:
        small.close()


def test_gigantic_line_without_line_ends(ctx: Context, tmp_path: Path) -> None:
    path = tmp_path / "2024-03.accounts.jsonl"
    path.write_bytes(b"{" + b'"a":1,' * 400_000)
    with pytest.raises(BadFileError, match="line 1 is longer than"):
        run(ctx, path)
    nothing_written(ctx)


def test_above_size_limit(tmp_path: Path, database_url: str) -> None:
    ctx = Context(Settings(home=tmp_path / "h", database_url=database_url, max_upload_bytes=10_000))
    ctx.init()
    try:
        add_furnisher(ctx, "bank", "Bank")
        path = fac.write_csv(tmp_path / "2024-03.accounts.csv", fac.accounts(200))
        with pytest.raises(BadFileError, match="above the upload limit of 10000 bytes"):
            run(ctx, path)
        nothing_written(ctx)
    finally:
        ctx.close()


def test_gzip_is_read(ctx: Context, tmp_path: Path) -> None:
    path = fac.gzip_file(fac.write_csv(tmp_path / "2024-03.accounts.csv", fac.accounts(7)))
    r = run(ctx, path)
    assert r.accepted == 7 and r.format == "csv" and r.kind == "accounts"
    assert not any((ctx.settings.home / "tmp").iterdir())


def test_gzip_bomb(tmp_path: Path, database_url: str) -> None:
    ctx = Context(
        Settings(home=tmp_path / "h", database_url=database_url, max_upload_bytes=1_000_000)
    )
    ctx.init()
    try:
        add_furnisher(ctx, "bank", "Bank")
        path = tmp_path / "2024-03.accounts.csv.gz"
        with gzip.open(path, "wb") as f:
            f.write(fac.write_csv(tmp_path / "x.csv", fac.accounts(2)).read_bytes())
            zeros = b"0" * 1_000_000
            for _ in range(50):  # 50 MB of output from ~50 KB
                f.write(zeros)
        assert path.stat().st_size < 200_000
        with pytest.raises(BadFileError, match="expands beyond the upload limit"):
            run(ctx, path)
        nothing_written(ctx)
    finally:
        ctx.close()


def test_not_gzip(ctx: Context, tmp_path: Path) -> None:
    path = tmp_path / "2024-03.accounts.csv.gz"
    path.write_bytes(b"this is not gzip at all")
    with pytest.raises(BadFileError, match="not a readable gzip file"):
        run(ctx, path)
    nothing_written(ctx)


def test_unknown_kind(ctx: Context, tmp_path: Path) -> None:
    path = fac.write_csv(tmp_path / "data.csv", fac.accounts(2))
    with pytest.raises(BadFileError, match="cannot tell the kind"):
        run(ctx, path)
    assert run(ctx, path, kind="accounts").accepted == 2
