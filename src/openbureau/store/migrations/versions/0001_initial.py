"""initial credit file schema

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-26 18:21:25.088598
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "consumers",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("national_id_hmac", sa.String(length=64), nullable=True),
        sa.Column("national_id_cipher", sa.LargeBinary(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consumers")),
        sa.UniqueConstraint("national_id_hmac", name=op.f("uq_consumers_national_id_hmac")),
    )
    op.create_table(
        "furnishers",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_furnishers")),
    )
    op.create_table(
        "accounts",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("furnisher_id", sa.String(length=64), nullable=False),
        sa.Column("furnisher_account_id", sa.String(length=64), nullable=False),
        sa.Column("consumer_id", sa.String(length=32), nullable=True),
        sa.Column("product", sa.String(length=32), nullable=False),
        sa.Column("opened", sa.Date(), nullable=False),
        sa.Column("closed", sa.Date(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("credit_limit_minor", sa.BigInteger(), nullable=True),
        sa.Column("original_amount_minor", sa.BigInteger(), nullable=True),
        sa.Column("term_months", sa.Integer(), nullable=True),
        sa.Column("last_month", sa.Date(), nullable=False),
        sa.Column("balance_minor", sa.BigInteger(), nullable=False),
        sa.Column("amount_due_minor", sa.BigInteger(), nullable=False),
        sa.Column("amount_paid_minor", sa.BigInteger(), nullable=False),
        sa.Column("days_past_due", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["consumer_id"], ["consumers.id"], name=op.f("fk_accounts_consumer_id_consumers")
        ),
        sa.ForeignKeyConstraint(
            ["furnisher_id"], ["furnishers.id"], name=op.f("fk_accounts_furnisher_id_furnishers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint(
            "furnisher_id", "furnisher_account_id", name=op.f("uq_accounts_furnisher_id")
        ),
    )
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_accounts_consumer_id"), ["consumer_id"], unique=False)

    op.create_table(
        "batches",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("furnisher_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("file_name", sa.String(length=500), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("furnisher_ref", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received", sa.Integer(), nullable=False),
        sa.Column("accepted", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("corrected", sa.Integer(), nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.Column("receipt", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["furnisher_id"], ["furnishers.id"], name=op.f("fk_batches_furnisher_id_furnishers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batches")),
        sa.UniqueConstraint(
            "furnisher_id", "kind", "file_sha256", name=op.f("uq_batches_furnisher_id")
        ),
    )
    with op.batch_alter_table("batches", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_batches_furnisher_id"), ["furnisher_id"], unique=False)

    op.create_table(
        "account_months",
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
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_account_months_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batches.id"], name=op.f("fk_account_months_batch_id_batches")
        ),
        sa.PrimaryKeyConstraint("account_id", "month", name=op.f("pk_account_months")),
    )
    with op.batch_alter_table("account_months", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_account_months_batch_id"), ["batch_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("account_months", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_months_batch_id"))

    op.drop_table("account_months")
    with op.batch_alter_table("batches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_batches_furnisher_id"))

    op.drop_table("batches")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_accounts_consumer_id"))

    op.drop_table("accounts")
    op.drop_table("furnishers")
    op.drop_table("consumers")
