"""Point-in-time snapshots of the credit file and the features computed from them.

Names load lazily, so ``import openbureau.features`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from openbureau.features.asof import AsOf
    from openbureau.features.compute import (
        compute_features,
        features_for_consumer,
        load_features,
    )
    from openbureau.features.snapshot import take_snapshot, take_snapshots
    from openbureau.features.spec import FEATURES, Feature

_EXPORTS = {
    "AsOf": "asof",
    "FEATURES": "spec",
    "Feature": "spec",
    "compute_features": "compute",
    "features_for_consumer": "compute",
    "load_features": "compute",
    "take_snapshot": "snapshot",
    "take_snapshots": "snapshot",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'openbureau.features' has no attribute {name!r}")
    return getattr(importlib.import_module(f"openbureau.features.{module}"), name)


__all__ = [
    "FEATURES",
    "AsOf",
    "Feature",
    "compute_features",
    "features_for_consumer",
    "load_features",
    "take_snapshot",
    "take_snapshots",
]
