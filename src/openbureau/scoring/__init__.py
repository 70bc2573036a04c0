"""Credit scores: the scorecard champion, the GBM challenger, reason codes, metrics, reports.

Independent of the credit-file database and of the feature pipeline: every model takes a
table of characteristics per consumer (pandas, Arrow, or a mapping of numpy columns) and a
0/1 outcome (1 = bad).

Names are imported lazily so ``import openbureau.scoring`` stays cheap (optbinning,
LightGBM and matplotlib load only when used).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from openbureau.scoring.artifacts import load_model, model_from_dict, model_to_dict, save_model
    from openbureau.scoring.compiled import CompiledCharacteristic, CompiledScorecard, score_table
    from openbureau.scoring.gbm import GBMChallenger
    from openbureau.scoring.metrics import (
        adverse_impact_table,
        auc,
        calibration_table,
        gini,
        ks,
    )
    from openbureau.scoring.monitoring import StabilityMonitor, psi, psi_table
    from openbureau.scoring.reasons import (
        Reason,
        ReasonRegistry,
        ReasonText,
        default_registry,
        reason_codes,
        reasons_frame,
    )
    from openbureau.scoring.report import ReportData, report_data, write_report
    from openbureau.scoring.scaling import Scaling
    from openbureau.scoring.scorecard import Scorecard
    from openbureau.scoring.table import (
        CVResult,
        FitTableResult,
        cross_validate,
        fit_table,
        prepare_target,
        read_table,
    )

_EXPORTS = {
    "CVResult": "table",
    "CompiledCharacteristic": "compiled",
    "FitTableResult": "table",
    "ReportData": "report",
    "fit_table": "table",
    "report_data": "report",
    "CompiledScorecard": "compiled",
    "GBMChallenger": "gbm",
    "Reason": "reasons",
    "ReasonRegistry": "reasons",
    "ReasonText": "reasons",
    "Scaling": "scaling",
    "Scorecard": "scorecard",
    "StabilityMonitor": "monitoring",
    "adverse_impact_table": "metrics",
    "auc": "metrics",
    "calibration_table": "metrics",
    "cross_validate": "table",
    "default_registry": "reasons",
    "gini": "metrics",
    "ks": "metrics",
    "load_model": "artifacts",
    "model_from_dict": "artifacts",
    "model_to_dict": "artifacts",
    "prepare_target": "table",
    "psi": "monitoring",
    "psi_table": "monitoring",
    "read_table": "table",
    "reason_codes": "reasons",
    "reasons_frame": "reasons",
    "save_model": "artifacts",
    "score_table": "compiled",
    "write_report": "report",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'openbureau.scoring' has no attribute {name!r}")
    return getattr(importlib.import_module(f"openbureau.scoring.{module}"), name)


__all__ = [
    "CVResult",
    "CompiledCharacteristic",
    "CompiledScorecard",
    "FitTableResult",
    "GBMChallenger",
    "Reason",
    "ReasonRegistry",
    "ReasonText",
    "ReportData",
    "Scaling",
    "Scorecard",
    "StabilityMonitor",
    "adverse_impact_table",
    "auc",
    "calibration_table",
    "cross_validate",
    "default_registry",
    "fit_table",
    "gini",
    "ks",
    "load_model",
    "model_from_dict",
    "model_to_dict",
    "prepare_target",
    "psi",
    "psi_table",
    "read_table",
    "reason_codes",
    "reasons_frame",
    "report_data",
    "save_model",
    "score_table",
    "write_report",
]
