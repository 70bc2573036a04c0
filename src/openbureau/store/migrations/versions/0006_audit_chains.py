"""audit: several hash chains (one head each) instead of one, so appends do not all wait on
one locked row; a global write order (``id``) beside each chain's own gapless ``seq``

Revision ID: 0006
Revises: 0005

Existing entries become chain 1 (their ``seq`` and hashes unchanged, ``id`` = ``seq``); the
heads of chains 2..16 start empty.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

CHAINS = 16  # openbureau.service.audit.CHAINS when this revision was written
_GENESIS = "0" * 64
_COLUMNS = (
    "seq, at, actor, role, action, object_type, object_id, consumer_id, detail, prev_hash, hash"
)


def _log_table(name: str) -> sa.Table:
    return sa.Table(
        name,
        sa.MetaData(),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True),
        sa.Column("chain", sa.SmallInteger(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.String(length=40), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("object_type", sa.String(length=32), nullable=True),
        sa.Column("object_id", sa.String(length=64), nullable=True),
        sa.Column("consumer_id", sa.String(length=32), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
        sa.UniqueConstraint("chain", "seq", name="uq_audit_log_chain"),
    )


def upgrade() -> None:
    bind = op.get_bind()
    # Rebuild the log under its new key; the old table's constraint names are freed first
    # (PostgreSQL names indexes per schema).
    op.rename_table("audit_log", "audit_log_0005")
    if bind.dialect.name == "postgresql":
        op.execute("ALTER TABLE audit_log_0005 RENAME CONSTRAINT pk_audit_log TO pk_audit_log_0005")
    _log_table("audit_log").create(bind)
    op.execute(
        f"INSERT INTO audit_log (id, chain, {_COLUMNS}) "
        f"SELECT seq, 1, {_COLUMNS} FROM audit_log_0005 ORDER BY seq"
    )
    op.drop_table("audit_log_0005")
    if bind.dialect.name == "postgresql":
        op.execute(
            "SELECT setval(pg_get_serial_sequence('audit_log', 'id'), "
            "(SELECT coalesce(max(id), 0) + 1 FROM audit_log), false)"
        )
    heads = sa.table(
        "audit_head",
        sa.column("id", sa.Integer()),
        sa.column("seq", sa.BigInteger()),
        sa.column("hash", sa.String()),
    )
    op.bulk_insert(heads, [{"id": c, "seq": 0, "hash": _GENESIS} for c in range(2, CHAINS + 1)])


def downgrade() -> None:
    bind = op.get_bind()
    count = bind.execute(sa.text("SELECT count(*) FROM audit_log WHERE chain <> 1")).scalar_one()
    if count:
        raise RuntimeError(
            f"cannot downgrade: {count} audit entries are on chains other than 1, and the "
            "single-chain schema cannot hold them without breaking the chain"
        )
    op.rename_table("audit_log", "audit_log_0006")
    if bind.dialect.name == "postgresql":
        op.execute("ALTER TABLE audit_log_0006 RENAME CONSTRAINT pk_audit_log TO pk_audit_log_0006")
        op.execute(
            "ALTER TABLE audit_log_0006 RENAME CONSTRAINT uq_audit_log_chain TO uq_audit_log_chain_0006"
        )
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at", sa.String(length=40), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("object_type", sa.String(length=32), nullable=True),
        sa.Column("object_id", sa.String(length=64), nullable=True),
        sa.Column("consumer_id", sa.String(length=32), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_log"),
    )
    op.execute(
        f"INSERT INTO audit_log ({_COLUMNS}) SELECT {_COLUMNS} FROM audit_log_0006 ORDER BY seq"
    )
    op.drop_table("audit_log_0006")
    op.execute("DELETE FROM audit_head WHERE id <> 1")
