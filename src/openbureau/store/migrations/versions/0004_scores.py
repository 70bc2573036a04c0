"""scores: batch reporting months, the score-model registry, latest scores

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "batch_months",
        sa.Column("batch_id", sa.String(length=36), nullable=False),
        sa.Column("reporting_month", sa.Date(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["batches.id"],
            name=op.f("fk_batch_months_batch_id_batches"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("batch_id", name=op.f("pk_batch_months")),
    )
    op.create_table(
        "score_models",
        sa.Column("id", _BIGID, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("train_as_of", sa.Date(), nullable=False),
        sa.Column("validate_as_of", sa.Date(), nullable=True),
        sa.Column("feature_set", sa.String(length=64), nullable=False),
        sa.Column("features", sa.JSON(), nullable=False),
        sa.Column("data_hash", sa.String(length=100), nullable=False),
        sa.Column("artifact", sa.String(length=500), nullable=False),
        sa.Column("training", sa.JSON(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("library_versions", sa.JSON(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_by", sa.String(length=100), nullable=True),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_score_models")),
    )
    with op.batch_alter_table("score_models", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_score_models_state"), ["state"], unique=False)
        batch_op.create_index(
            "uq_score_models_approved",
            ["state"],
            unique=True,
            sqlite_where=sa.text("state = 'approved'"),
            postgresql_where=sa.text("state = 'approved'"),
        )
    op.create_table(
        "scores",
        sa.Column("consumer_id", sa.String(length=32), nullable=False),
        sa.Column("model_id", _BIGID, nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("pd_bad", sa.Float(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("scored_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id"], ["score_models.id"], name=op.f("fk_scores_model_id_score_models")
        ),
        sa.PrimaryKeyConstraint("consumer_id", name=op.f("pk_scores")),
    )
    with op.batch_alter_table("scores", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scores_model_id"), ["model_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("scores", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scores_model_id"))
    op.drop_table("scores")
    with op.batch_alter_table("score_models", schema=None) as batch_op:
        batch_op.drop_index("uq_score_models_approved")
        batch_op.drop_index(batch_op.f("ix_score_models_state"))
    op.drop_table("score_models")
    op.drop_table("batch_months")
