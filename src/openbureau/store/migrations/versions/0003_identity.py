"""identity: link runs, merge/split events, consumer redirects, review queue

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "identity_runs",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("engine", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("model", sa.JSON(), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_runs")),
    )
    op.create_table(
        "identity_events",
        sa.Column("id", _BIGID, autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(length=36), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("before", sa.JSON(), nullable=False),
        sa.Column("after", sa.JSON(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("accounts_moved", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["identity_runs.id"], name=op.f("fk_identity_events_run_id_identity_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_events")),
    )
    with op.batch_alter_table("identity_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_identity_events_run_id"), ["run_id"], unique=False)

    op.create_table(
        "consumer_redirects",
        sa.Column("from_id", sa.String(length=32), nullable=False),
        sa.Column("to_id", sa.String(length=32), nullable=False),
        sa.Column("event_id", _BIGID, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["from_id"], ["consumers.id"], name=op.f("fk_consumer_redirects_from_id_consumers")
        ),
        sa.ForeignKeyConstraint(
            ["to_id"], ["consumers.id"], name=op.f("fk_consumer_redirects_to_id_consumers")
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["identity_events.id"],
            name=op.f("fk_consumer_redirects_event_id_identity_events"),
        ),
        sa.PrimaryKeyConstraint("from_id", name=op.f("pk_consumer_redirects")),
    )
    with op.batch_alter_table("consumer_redirects", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consumer_redirects_to_id"), ["to_id"], unique=False)

    op.create_table(
        "identity_reviews",
        sa.Column("id", _BIGID, autoincrement=True, nullable=False),
        sa.Column("record_a", _BIGID, nullable=False),
        sa.Column("record_b", _BIGID, nullable=False),
        sa.Column("match_probability", sa.Float(), nullable=False),
        sa.Column("match_weight", sa.Float(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("run_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=100), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["record_a"],
            ["identity_records.id"],
            name=op.f("fk_identity_reviews_record_a_identity_records"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["record_b"],
            ["identity_records.id"],
            name=op.f("fk_identity_reviews_record_b_identity_records"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["identity_runs.id"], name=op.f("fk_identity_reviews_run_id_identity_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_reviews")),
        sa.UniqueConstraint("record_a", "record_b", name=op.f("uq_identity_reviews_record_a")),
    )
    with op.batch_alter_table("identity_reviews", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_identity_reviews_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("identity_reviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identity_reviews_status"))
    op.drop_table("identity_reviews")
    with op.batch_alter_table("consumer_redirects", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consumer_redirects_to_id"))
    op.drop_table("consumer_redirects")
    with op.batch_alter_table("identity_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identity_events_run_id"))
    op.drop_table("identity_events")
    op.drop_table("identity_runs")
