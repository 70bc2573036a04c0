"""Portable model artifacts: JSON for the scorecard, LightGBM's text model for the GBM.

No pickles. A model is a folder:

* ``model.json`` — format, version, kind, library versions, data hash, and the model
  itself (bins, points, scaling, feature list, dropped columns with their reasons);
* ``lightgbm.txt`` — for a GBM only: LightGBM's native text model, whose SHA-256 is
  recorded in ``model.json`` and checked on load.

JSON floats are written with Python's shortest round-trip repr, so a reloaded model scores
bit-identically.
"""

from __future__ import annotations

import hashlib
import json
import platform
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from openbureau.errors import ArtifactError, ScoringError
from openbureau.scoring.gbm import GBMChallenger
from openbureau.scoring.scorecard import Scorecard

FORMAT = "openbureau.score-model"
FORMAT_VERSION = 1
MODEL_FILE = "model.json"
LIGHTGBM_FILE = "lightgbm.txt"

Model = Scorecard | GBMChallenger

_LIBRARIES = ("openbureau", "numpy", "pandas", "scikit-learn", "optbinning", "lightgbm")


def library_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in _LIBRARIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _sha256(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def model_to_dict(model: Model, *, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ``model.json`` document (for a GBM, without the LightGBM text)."""
    if isinstance(model, Scorecard):
        kind, body = "scorecard", model.to_dict()
    elif isinstance(model, GBMChallenger):
        kind, body = "gbm", model.to_dict()
        body["lightgbm_file"] = LIGHTGBM_FILE
        body["lightgbm_sha256"] = _sha256(model.model_text())
    else:
        raise ScoringError(f"cannot save a {type(model).__name__}")
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "kind": kind,
        "saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "library_versions": library_versions(),
        "data_hash": body["data_hash"],
        "features": body["features"],
        "extra": extra or {},
        "model": body,
    }


def model_from_dict(document: dict[str, Any], lightgbm_text: str | None = None) -> Model:
    if document.get("format") != FORMAT:
        raise ArtifactError(f"not an OpenBureau score model (format {document.get('format')!r})")
    if document.get("format_version") != FORMAT_VERSION:
        raise ArtifactError(f"unsupported model format version {document.get('format_version')!r}")
    kind = document.get("kind")
    try:
        if kind == "scorecard":
            return Scorecard.from_dict(document["model"])
        if kind == "gbm":
            if lightgbm_text is None:
                raise ArtifactError("a GBM artifact needs its LightGBM text model")
            if _sha256(lightgbm_text) != document["model"].get("lightgbm_sha256"):
                raise ArtifactError("the LightGBM text model does not match model.json (sha256)")
            return GBMChallenger.from_dict(document["model"], lightgbm_text)
    except ArtifactError:
        raise
    except ScoringError as e:
        raise ArtifactError(str(e)) from e
    raise ArtifactError(f"unknown model kind {kind!r}")


def save_model(model: Model, directory: Path, *, extra: dict[str, Any] | None = None) -> Path:
    """Write the model into ``directory`` (created); returns the path of ``model.json``."""
    directory = Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        document = model_to_dict(model, extra=extra)
        if isinstance(model, GBMChallenger):
            (directory / LIGHTGBM_FILE).write_text(model.model_text(), encoding="utf-8")
        path = directory / MODEL_FILE
        path.write_text(
            json.dumps(document, indent=1, allow_nan=False, ensure_ascii=False) + "\n",
            encoding="utf-8",
        )
    except (OSError, ValueError) as e:
        raise ArtifactError(f"cannot write model to {directory}: {e}") from e
    return path


def load_model(path: Path) -> Model:
    """Load a model from its folder (or its ``model.json``)."""
    path = Path(path)
    directory = path.parent if path.name == MODEL_FILE else path
    try:
        document = json.loads((directory / MODEL_FILE).read_text(encoding="utf-8"))
        lightgbm_text = None
        if document.get("kind") == "gbm":
            name = document.get("model", {}).get("lightgbm_file", LIGHTGBM_FILE)
            lightgbm_text = (directory / name).read_text(encoding="utf-8")
    except (OSError, json.JSONDecodeError) as e:
        raise ArtifactError(f"cannot read model from {directory}: {e}") from e
    return model_from_dict(document, lightgbm_text)


__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "LIGHTGBM_FILE",
    "MODEL_FILE",
    "Model",
    "library_versions",
    "load_model",
    "model_from_dict",
    "model_to_dict",
    "save_model",
]
