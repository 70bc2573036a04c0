"""disputes: a consumer's dispute of an account or one of its months, the furnisher's answer

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_OPEN = "status = 'open'"


def upgrade() -> None:
    op.create_table(
        "disputes",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("consumer_id", sa.String(length=32), nullable=False),
        sa.Column(
            "account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("furnisher_id", sa.String(length=64), nullable=False),
        sa.Column("month", sa.Date(), nullable=True),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("text", sa.String(length=400), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("effect", sa.String(length=16), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution_note", sa.String(length=400), nullable=True),
        sa.Column("correction_batch_id", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_disputes_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["consumer_id"], ["consumers.id"], name=op.f("fk_disputes_consumer_id_consumers")
        ),
        sa.ForeignKeyConstraint(
            ["correction_batch_id"],
            ["batches.id"],
            name=op.f("fk_disputes_correction_batch_id_batches"),
        ),
        sa.ForeignKeyConstraint(
            ["furnisher_id"], ["furnishers.id"], name=op.f("fk_disputes_furnisher_id_furnishers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disputes")),
    )
    with op.batch_alter_table("disputes", schema=None) as batch_op:
        batch_op.create_index("ix_disputes_account_id", ["account_id"], unique=False)
        batch_op.create_index("ix_disputes_consumer_id", ["consumer_id", "id"], unique=False)
        batch_op.create_index("ix_disputes_furnisher_id", ["furnisher_id", "id"], unique=False)
        batch_op.create_index(
            "ix_disputes_furnisher_status", ["furnisher_id", "status", "id"], unique=False
        )
        batch_op.create_index(
            "ix_disputes_open_due",
            ["due_at"],
            unique=False,
            sqlite_where=sa.text(_OPEN),
            postgresql_where=sa.text(_OPEN),
        )
        # At most one open dispute per item: an account (month NULL) or one month of it.
        batch_op.create_index(
            "uq_disputes_open_item",
            ["account_id", sa.text("coalesce(month, '0001-01-01')")],
            unique=True,
            sqlite_where=sa.text(_OPEN),
            postgresql_where=sa.text(_OPEN),
        )


def downgrade() -> None:
    with op.batch_alter_table("disputes", schema=None) as batch_op:
        batch_op.drop_index("uq_disputes_open_item")
        batch_op.drop_index("ix_disputes_open_due")
        batch_op.drop_index("ix_disputes_furnisher_status")
        batch_op.drop_index("ix_disputes_furnisher_id")
        batch_op.drop_index("ix_disputes_consumer_id")
        batch_op.drop_index("ix_disputes_account_id")
    op.drop_table("disputes")
