"""Reason texts for the bureau's features: the codes and sentences declared in the spec."""

from __future__ import annotations

from typing import Any

from openbureau.features.spec import FEATURES


def feature_reasons() -> Any:
    """A :class:`openbureau.scoring.ReasonRegistry` with every feature's code and sentences."""
    from openbureau.scoring.reasons import ReasonRegistry, ReasonText, default_registry

    entries = {
        f.name: ReasonText(
            code=f.code,
            text=f.reason,
            missing_text=f"No information: {f.missing}" if f.missing else None,
        )
        for f in FEATURES
    }
    descriptions = {f.name: f.meaning for f in FEATURES}
    return default_registry().merged(ReasonRegistry(entries, descriptions))


__all__ = ["feature_reasons"]
