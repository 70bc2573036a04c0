"""The model registry: one row per trained model in the database, its artifact in the home.

States: ``candidate`` (trained, not serving) → ``approved`` (the one model that serves;
approving another retires it) → ``retired``. A partial unique index keeps at most one model
approved. Artifacts are written by the scoring core (:func:`openbureau.scoring.save_model`:
portable JSON for a scorecard, LightGBM's text model for a GBM; no pickles) into
``<home>/models/<id>/``.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from openbureau.context import Context
from openbureau.errors import (
    ModelNotFoundError,
    ModelRegistryError,
    ModelStateError,
    NoApprovedModelError,
)
from openbureau.store.models import ScoreModel

logger = logging.getLogger(__name__)

STATES = ("candidate", "approved", "retired")


@dataclass(frozen=True)
class ModelInfo:
    """A registry row, detached from the session."""

    id: int
    kind: str
    state: str
    train_as_of: dt.date
    validate_as_of: dt.date | None
    feature_set: str
    features: list[str]
    data_hash: str
    artifact: str
    training: dict[str, Any]
    metrics: dict[str, Any]
    library_versions: dict[str, Any]
    params: dict[str, Any]
    created_at: dt.datetime
    approved_at: dt.datetime | None
    approved_by: str | None
    retired_at: dt.datetime | None

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def _info(row: ScoreModel) -> ModelInfo:
    return ModelInfo(
        id=int(row.id),
        kind=row.kind,
        state=row.state,
        train_as_of=row.train_as_of,
        validate_as_of=row.validate_as_of,
        feature_set=row.feature_set,
        features=list(row.features or []),
        data_hash=row.data_hash,
        artifact=row.artifact,
        training=dict(row.training or {}),
        metrics=dict(row.metrics or {}),
        library_versions=dict(row.library_versions or {}),
        params=dict(row.params or {}),
        created_at=row.created_at,
        approved_at=row.approved_at,
        approved_by=row.approved_by,
        retired_at=row.retired_at,
    )


def models_dir(ctx: Context) -> Path:
    return ctx.settings.home / "models"


def artifact_path(ctx: Context, info: ModelInfo) -> Path:
    return ctx.settings.home / info.artifact


def register(
    ctx: Context,
    model: Any,
    *,
    kind: str,
    train_as_of: dt.date,
    validate_as_of: dt.date | None,
    feature_set: str,
    training: Mapping[str, Any],
    metrics: Mapping[str, Any],
    params: Mapping[str, Any],
) -> ModelInfo:
    """Save ``model``'s artifact and add it to the registry as a candidate (one transaction)."""
    from openbureau.scoring.artifacts import library_versions, save_model

    now = dt.datetime.now(dt.UTC)
    with ctx.sessions() as session, session.begin():
        row = ScoreModel(
            kind=kind,
            state="candidate",
            train_as_of=train_as_of,
            validate_as_of=validate_as_of,
            feature_set=feature_set,
            features=[str(f) for f in model.features_],
            data_hash=str(model.data_hash_),
            artifact="",
            training=dict(training),
            metrics=dict(metrics),
            library_versions=library_versions(),
            params=dict(params),
            created_at=now,
        )
        session.add(row)
        session.flush()
        folder = models_dir(ctx) / str(row.id)
        if folder.exists():  # left by a transaction that rolled back
            shutil.rmtree(folder)
        try:
            save_model(
                model,
                folder,
                extra={"registry_id": row.id, "feature_set": feature_set, "training": training},
            )
        except Exception:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        row.artifact = str(folder.relative_to(ctx.settings.home))
        session.flush()
        info = _info(row)
    logger.info("registered %s model %d", kind, info.id)
    return info


def get(ctx: Context, model_id: int) -> ModelInfo:
    with ctx.sessions() as session:
        row = session.get(ScoreModel, model_id)
        if row is None:
            raise ModelNotFoundError(f"no model {model_id} in the registry")
        return _info(row)


def list_models(ctx: Context) -> list[ModelInfo]:
    with ctx.sessions() as session:
        return [_info(r) for r in session.scalars(select(ScoreModel).order_by(ScoreModel.id))]


def approved(ctx: Context) -> ModelInfo:
    """The model that serves; :class:`NoApprovedModelError` if none is approved."""
    with ctx.sessions() as session:
        row = session.scalars(select(ScoreModel).where(ScoreModel.state == "approved")).first()
        if row is None:
            raise NoApprovedModelError(
                "no model is approved: train one ('openbureau model train') and approve it "
                "('openbureau model approve ID')"
            )
        return _info(row)


def approve(ctx: Context, model_id: int, *, by: str | None = None) -> ModelInfo:
    """Approve a candidate (or re-approve a retired model); the approved one is retired."""
    now = dt.datetime.now(dt.UTC)
    with ctx.sessions() as session, session.begin():
        row = session.get(ScoreModel, model_id, with_for_update=True)
        if row is None:
            raise ModelNotFoundError(f"no model {model_id} in the registry")
        if row.state == "approved":
            return _info(row)
        if not (ctx.settings.home / row.artifact).is_dir():
            raise ModelRegistryError(f"model {model_id}'s artifact {row.artifact} is missing")
        session.execute(
            update(ScoreModel)
            .where(ScoreModel.state == "approved")
            .values(state="retired", retired_at=now)
        )
        session.flush()
        row.state = "approved"
        row.approved_at = now
        row.approved_by = by
        row.retired_at = None
        session.flush()
        info = _info(row)
    logger.info("model %d approved", model_id)
    return info


def retire(ctx: Context, model_id: int) -> ModelInfo:
    """Retire a model (an approved one stops serving: no model serves until one is approved)."""
    now = dt.datetime.now(dt.UTC)
    with ctx.sessions() as session, session.begin():
        row = session.get(ScoreModel, model_id, with_for_update=True)
        if row is None:
            raise ModelNotFoundError(f"no model {model_id} in the registry")
        if row.state == "retired":
            raise ModelStateError(f"model {model_id} is already retired")
        row.state = "retired"
        row.retired_at = now
        session.flush()
        return _info(row)


def load(ctx: Context, info: ModelInfo) -> Any:
    """The fitted model from its artifact (scores bit-identical to the trained one)."""
    from openbureau.scoring.artifacts import load_model

    return load_model(artifact_path(ctx, info))


__all__ = [
    "STATES",
    "ModelInfo",
    "approve",
    "approved",
    "artifact_path",
    "get",
    "list_models",
    "load",
    "models_dir",
    "register",
    "retire",
]
