"""service: API clients, consents, inquiries, freezes and alerts, statements, the audit chain

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "abuse_alerts",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("lender", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_abuse_alerts")),
    )
    with op.batch_alter_table("abuse_alerts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_abuse_alerts_lender"), ["lender"], unique=False)

    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    # The chain starts empty: sequence 0, the all-zero hash.
    op.bulk_insert(
        sa.table(
            "audit_head",
            sa.column("id", sa.Integer()),
            sa.column("seq", sa.BigInteger()),
            sa.column("hash", sa.String()),
        ),
        [{"id": 1, "seq": 0, "hash": "0" * 64}],
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
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_log")),
    )
    op.create_table(
        "inquiries",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("consumer_id", sa.String(length=32), nullable=False),
        sa.Column("lender", sa.String(length=100), nullable=False),
        sa.Column("purpose", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("client_id", sa.String(length=24), nullable=True),
        sa.Column("consent_id", sa.String(length=36), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inquiries")),
    )
    with op.batch_alter_table("inquiries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_inquiries_consumer_created", ["consumer_id", "created_at"], unique=False
        )
        batch_op.create_index("ix_inquiries_lender_created", ["lender", "created_at"], unique=False)

    op.create_table(
        "api_clients",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("furnisher_id", sa.String(length=64), nullable=True),
        sa.Column("lender", sa.String(length=100), nullable=True),
        sa.Column("consumer_id", sa.String(length=32), nullable=True),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["consumer_id"], ["consumers.id"], name=op.f("fk_api_clients_consumer_id_consumers")
        ),
        sa.ForeignKeyConstraint(
            ["furnisher_id"], ["furnishers.id"], name=op.f("fk_api_clients_furnisher_id_furnishers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_clients")),
    )
    with op.batch_alter_table("api_clients", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_api_clients_consumer_id"), ["consumer_id"], unique=False
        )

    op.create_table(
        "consents",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("consumer_id", sa.String(length=32), nullable=False),
        sa.Column("lender", sa.String(length=100), nullable=False),
        sa.Column("purpose", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["consumer_id"], ["consumers.id"], name=op.f("fk_consents_consumer_id_consumers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consents")),
    )
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consents_consumer_id"), ["consumer_id"], unique=False)

    op.create_table(
        "consumer_controls",
        sa.Column("consumer_id", sa.String(length=32), nullable=False),
        sa.Column("frozen", sa.Boolean(), nullable=False),
        sa.Column("frozen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("fraud_alert_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["consumer_id"],
            ["consumers.id"],
            name=op.f("fk_consumer_controls_consumer_id_consumers"),
        ),
        sa.PrimaryKeyConstraint("consumer_id", name=op.f("pk_consumer_controls")),
    )
    op.create_table(
        "consumer_statements",
        sa.Column(
            "account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("consumer_id", sa.String(length=32), nullable=False),
        sa.Column("text", sa.String(length=400), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_consumer_statements_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["consumer_id"],
            ["consumers.id"],
            name=op.f("fk_consumer_statements_consumer_id_consumers"),
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_consumer_statements")),
    )
    with op.batch_alter_table("consumer_statements", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_consumer_statements_consumer_id"), ["consumer_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("consumer_statements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consumer_statements_consumer_id"))

    op.drop_table("consumer_statements")
    op.drop_table("consumer_controls")
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consents_consumer_id"))

    op.drop_table("consents")
    with op.batch_alter_table("api_clients", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_clients_consumer_id"))

    op.drop_table("api_clients")
    with op.batch_alter_table("inquiries", schema=None) as batch_op:
        batch_op.drop_index("ix_inquiries_lender_created")
        batch_op.drop_index("ix_inquiries_consumer_created")

    op.drop_table("inquiries")
    op.drop_table("audit_log")
    op.drop_table("audit_head")
    with op.batch_alter_table("abuse_alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_abuse_alerts_lender"))

    op.drop_table("abuse_alerts")
