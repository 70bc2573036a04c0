"""ingest: account-month revisions, identity records, batch references

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 18:26:41.925198
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "account_month_revisions",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("credit_limit_minor", sa.BigInteger(), nullable=True),
        sa.Column("balance_minor", sa.BigInteger(), nullable=False),
        sa.Column("amount_due_minor", sa.BigInteger(), nullable=False),
        sa.Column("amount_paid_minor", sa.BigInteger(), nullable=False),
        sa.Column("days_past_due", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("batch_id", sa.String(length=36), nullable=False),
        sa.Column("superseded_by", sa.String(length=36), nullable=False),
        sa.Column(
            "superseded_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_account_month_revisions_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batches.id"], name=op.f("fk_account_month_revisions_batch_id_batches")
        ),
        sa.ForeignKeyConstraint(
            ["superseded_by"],
            ["batches.id"],
            name=op.f("fk_account_month_revisions_superseded_by_batches"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_month_revisions")),
    )
    with op.batch_alter_table("account_month_revisions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_account_month_revisions_account_month", ["account_id", "month"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_account_month_revisions_superseded_by"), ["superseded_by"], unique=False
        )

    op.create_table(
        "identity_records",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("furnisher_id", sa.String(length=64), nullable=False),
        sa.Column("furnisher_account_id", sa.String(length=64), nullable=False),
        sa.Column("customer_ref", sa.String(length=64), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_key", sa.String(length=200), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("address", sa.String(length=300), nullable=True),
        sa.Column("postcode", sa.String(length=10), nullable=True),
        sa.Column("national_id_hmac", sa.String(length=64), nullable=True),
        sa.Column("national_id_cipher", sa.LargeBinary(), nullable=True),
        sa.Column("nid_state", sa.String(length=8), nullable=False),
        sa.Column("consumer_id", sa.String(length=32), nullable=True),
        sa.Column("needs_resolution", sa.Boolean(), nullable=False),
        sa.Column("last_month", sa.Date(), nullable=False),
        sa.Column("batch_id", sa.String(length=36), nullable=False),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["consumer_id"],
            ["consumers.id"],
            name=op.f("fk_identity_records_consumer_id_consumers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_records")),
        sa.UniqueConstraint(
            "furnisher_id", "furnisher_account_id", name=op.f("uq_identity_records_furnisher_id")
        ),
    )
    with op.batch_alter_table("identity_records", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_identity_records_consumer_id"), ["consumer_id"], unique=False
        )
        batch_op.create_index(
            "ix_identity_records_furnisher_customer", ["furnisher_id", "customer_ref"], unique=False
        )
        batch_op.create_index(
            "ix_identity_records_unresolved",
            ["furnisher_id"],
            unique=False,
            postgresql_where=sa.text("needs_resolution"),
            sqlite_where=sa.text("needs_resolution"),
        )

    with op.batch_alter_table("batches", schema=None) as batch_op:
        batch_op.create_index(
            "uq_batches_furnisher_ref", ["furnisher_id", "furnisher_ref"], unique=True
        )


def downgrade() -> None:
    with op.batch_alter_table("batches", schema=None) as batch_op:
        batch_op.drop_index("uq_batches_furnisher_ref")

    with op.batch_alter_table("identity_records", schema=None) as batch_op:
        batch_op.drop_index("ix_identity_records_unresolved")
        batch_op.drop_index("ix_identity_records_furnisher_customer")
        batch_op.drop_index(batch_op.f("ix_identity_records_consumer_id"))

    op.drop_table("identity_records")
    with op.batch_alter_table("account_month_revisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_month_revisions_superseded_by"))
        batch_op.drop_index("ix_account_month_revisions_account_month")

    op.drop_table("account_month_revisions")
