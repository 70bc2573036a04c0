"""Identity records straight from furnishing-format feeds, for benchmarks and tests.

Ingest is the way records reach the credit file. Benchmarks at a million people and the
engine-agreement tests need the *identity* records only, quickly: this reads the feeds with
the same validation and normalisation SQL ingest uses (:func:`openbureau.ingest.spec.
validation_sql`), keeps each account's latest month, as ingest does, and seals national ids
with the same :class:`~openbureau.ingest.load.NationalIdSealer`. Rejected records are
dropped. It never writes accounts or batches of real furnishers' data.
"""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import insert, select, text

from openbureau.context import Context
from openbureau.ingest.load import NationalIdSealer
from openbureau.ingest.spec import ACCOUNT_FIELDS, Source, q, validation_sql
from openbureau.keys import Keys
from openbureau.rules.profiles import get_profile
from openbureau.store.models import Batch, Furnisher

_IDENTITY = (
    "account_id",
    "customer_ref",
    "name",
    "name_key",
    "birth_date",
    "phone",
    "address",
    "postcode",
    "nid_state",
    "national_id",
    "reporting_month",
)


def _read(con: Any, folder: Path) -> Any:
    """All account files of one furnisher as one relation (every column as text)."""
    for ext, reader in (
        ("csv", "read_csv({}, all_varchar = true, header = true, union_by_name = true)"),
        ("jsonl", "read_json({}, format = 'newline_delimited', union_by_name = true)"),
        ("parquet", "read_parquet({}, union_by_name = true)"),
    ):
        files = sorted(str(p) for p in folder.glob(f"*.accounts.{ext}"))
        if files:
            listed = "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in files) + "]"
            return con.sql("SELECT * FROM " + reader.format(listed))  # noqa: S608 - quoted paths
    return None


def read_feeds(feeds: Path, *, jurisdiction: str = "cn", today: dt.date | None = None) -> pa.Table:
    """Identity records (one per furnisher account, latest month) from ``feeds/<furnisher>/``.

    Only each account's latest record is validated (ingest validates every month; a latest
    record that fails validation drops the account here).
    """
    profile = get_profile(jurisdiction)
    today = today or dt.date.today()
    now = dt.datetime.now(dt.UTC)
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false")
    parts: list[pa.Table] = []
    wanted = {f.name for f in ACCOUNT_FIELDS}
    for folder in sorted(p for p in Path(feeds).iterdir() if p.is_dir()):
        rel = _read(con, folder)
        if rel is None:
            continue
        con.register("raw_file", rel)
        cols = [c for c in rel.columns if c.lower() in wanted]
        casts = ", ".join(f"CAST({q(c)} AS VARCHAR) AS {q(c)}" for c in cols)
        month = next(c for c in cols if c.lower() == "reporting_month")
        account = next(c for c in cols if c.lower() == "account_id")
        con.execute(  # identifiers quoted by q(); no data values in the SQL
            f"CREATE OR REPLACE TABLE src AS SELECT {casts}, "  # noqa: S608
            "CAST(row_number() OVER () AS BIGINT) AS _line FROM raw_file "
            f"QUALIFY row_number() OVER (PARTITION BY {q(account)} "
            f"ORDER BY CAST({q(month)} AS VARCHAR) DESC) = 1"
        )
        con.unregister("raw_file")
        source = Source({c.lower(): q(c) for c in cols}, {c.lower(): pa.string() for c in cols})
        sql = validation_sql("accounts", source, profile, today=today, now=now, file_month=None)
        query = f"SELECT {', '.join(_IDENTITY)} FROM ({sql}) WHERE len(_rejects) = 0"  # noqa: S608
        out = con.sql(query).arrow()
        if hasattr(out, "read_all"):
            out = out.read_all()
        parts.append(
            out.append_column("furnisher_id", pa.array([folder.name] * out.num_rows, pa.string()))
        )
    con.close()
    table = pa.concat_tables(parts, promote_options="default")
    return table.sort_by([("furnisher_id", "ascending"), ("account_id", "ascending")])


def seal(table: pa.Table, keys: Keys) -> pa.Table:
    """Replace the clear ``national_id`` by its HMAC and ciphertext, as ingest stores them."""
    sealer = NationalIdSealer(keys)
    macs, seals = sealer.column(pc.cast(table.column("national_id"), pa.string()).combine_chunks())
    table = table.drop_columns(["national_id"])
    return table.append_column("national_id_hmac", macs).append_column("national_id_cipher", seals)


def load_records(ctx: Context, table: pa.Table, *, batch_name: str = "direct-load") -> int:
    """Write sealed identity records (and a consumer per valid national id) into the store.

    Furnishers are registered when missing; one placeholder batch per furnisher carries the
    records. Records with a valid id get that id's consumer, as ingest would link them.
    """
    ctx.require_initialised()
    now = dt.datetime.now(dt.UTC)
    furnishers = sorted(set(table.column("furnisher_id").to_pylist()))
    batch_ids: dict[str, str] = {}
    with ctx.engine.begin() as conn:
        for f in furnishers:
            if not conn.execute(select(Furnisher.id).where(Furnisher.id == f)).first():
                conn.execute(insert(Furnisher).values(id=f, name=f, created_at=now))
            batch_ids[f] = str(uuid.uuid4())
            conn.execute(
                insert(Batch).values(
                    id=batch_ids[f],
                    furnisher_id=f,
                    kind="accounts",
                    file_name=batch_name,
                    file_sha256=uuid.uuid4().hex + uuid.uuid4().hex,
                    status="accepted",
                    received_at=now,
                    receipt={},
                )
            )
        valid = table.filter(pc.equal(table.column("nid_state"), "valid"))
        hmacs = sorted(set(valid.column("national_id_hmac").to_pylist()))
        known = {
            r[0]
            for r in conn.execute(
                text("SELECT national_id_hmac FROM consumers WHERE national_id_hmac IS NOT NULL")
            )
        }
        first_cipher: dict[str, bytes] = {}
        for h, c in zip(
            valid.column("national_id_hmac").to_pylist(),
            valid.column("national_id_cipher").to_pylist(),
            strict=True,
        ):
            first_cipher.setdefault(h, c)
        new = [
            {"id": "C" + uuid.uuid4().hex[:16], "h": h, "c": first_cipher[h], "now": now}
            for h in hmacs
            if h not in known
        ]
        if new:
            conn.execute(
                text(
                    "INSERT INTO consumers (id, national_id_hmac, national_id_cipher, status, "
                    "created_at) VALUES (:id, :h, :c, 'active', :now)"
                ),
                new,
            )
        owner: dict[str, str] = dict(
            conn.execute(
                text(
                    "SELECT national_id_hmac, id FROM consumers WHERE national_id_hmac IS NOT NULL"
                )
            ).all()
        )
        rows = []
        for r in table.to_pylist():
            cid = owner.get(r["national_id_hmac"]) if r["nid_state"] == "valid" else None
            rows.append(
                {
                    "f": r["furnisher_id"],
                    "a": r["account_id"],
                    "cr": r["customer_ref"],
                    "n": r["name"],
                    "nk": r["name_key"],
                    "bd": r["birth_date"],
                    "p": r["phone"],
                    "ad": r["address"],
                    "pc": r["postcode"],
                    "h": r["national_id_hmac"],
                    "c": r["national_id_cipher"],
                    "s": r["nid_state"],
                    "cid": cid,
                    "nr": cid is None,
                    "m": r["reporting_month"],
                    "b": batch_ids[r["furnisher_id"]],
                    "now": now,
                }
            )
        conn.execute(
            text(
                "INSERT INTO identity_records (furnisher_id, furnisher_account_id, customer_ref, "
                "name, name_key, birth_date, phone, address, postcode, national_id_hmac, "
                "national_id_cipher, nid_state, consumer_id, needs_resolution, last_month, "
                "batch_id, updated_at) VALUES (:f, :a, :cr, :n, :nk, :bd, :p, :ad, :pc, :h, :c, "
                ":s, :cid, :nr, :m, :b, :now)"
            ),
            rows,
        )
    return len(rows)


__all__ = ["load_records", "read_feeds", "seal"]
