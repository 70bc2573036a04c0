"""Migration 0006 splits the audit log into chains: a log written under the one-chain schema
(0005) keeps every entry and hash, becomes chain 1, verifies, and grows on new chains."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import create_engine, text

from openbureau.service import audit
from openbureau.store.schema import upgrade

_COLUMNS = (
    "seq, at, actor, role, action, object_type, object_id, consumer_id, detail, prev_hash, hash"
)


def _old_entries(n: int) -> list[dict[str, object]]:
    rows, prev = [], audit.GENESIS
    for seq in range(1, n + 1):
        row: dict[str, object] = {
            "seq": seq,
            "at": f"2026-01-0{seq}T00:00:00.000000+00:00",
            "actor": "cli",
            "role": "operator",
            "action": "client.create",
            "object_type": "api_client",
            "object_id": f"c{seq}",
            "consumer_id": None,
            "detail": audit.canonical({"role": "lender"}),
        }
        row["prev_hash"] = prev
        row["hash"] = prev = audit.entry_hash(row, prev)
        rows.append(row)
    return rows


def test_upgrade_keeps_a_one_chain_log_verifiable(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        upgrade(engine, "0005")
        old = _old_entries(4)
        with engine.begin() as conn:
            names = ", ".join(f":{c.strip()}" for c in _COLUMNS.split(","))
            conn.execute(text(f"INSERT INTO audit_log ({_COLUMNS}) VALUES ({names})"), old)
            conn.execute(
                text("UPDATE audit_head SET seq = 4, hash = :h WHERE id = 1"),
                {"h": old[-1]["hash"]},
            )
        upgrade(engine)
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT id, chain, seq, hash FROM audit_log ORDER BY id"))
            assert [tuple(r) for r in rows] == [(r["seq"], 1, r["seq"], r["hash"]) for r in old]
            result = audit.verify(conn)
        assert result.ok and result.entries == 4 and result.chains == audit.CHAINS
        # New entries go to their own chains, and ids keep counting after the old ones.
        events = [
            audit.AuditEvent(actor="cli", role="operator", action="x", consumer_id=f"p{i}")
            for i in range(40)
        ]
        with engine.begin() as conn:
            assert audit.append(conn, events, dt.datetime.now(dt.UTC)) == 40
        with engine.connect() as conn:
            result = audit.verify(conn)
            chains = conn.execute(text("SELECT count(DISTINCT chain) FROM audit_log")).scalar()
            ids = [r[0] for r in conn.execute(text("SELECT id FROM audit_log ORDER BY id"))]
        assert result.ok and result.entries == result.head_seq == 44
        assert chains is not None and chains > 8
        assert ids == list(range(1, 45))
    finally:
        engine.dispose()
