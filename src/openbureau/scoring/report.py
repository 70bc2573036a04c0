"""The model report: one self-contained HTML file (plots embedded as base64 PNG).

Sections: summary, ROC and KS, score distribution of goods and bads, calibration by score
band, characteristics (bins with WoE, IV and points), stability (PSI of the score and of
each characteristic) and, when a group column is given, the score distribution by group
with the adverse-impact ratio at a cut-off. The group is never a model input.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from openbureau.errors import ScoringError
from openbureau.scoring import metrics

SECTIONS = (
    ("summary", "Summary"),
    ("discrimination", "Discrimination: ROC and KS"),
    ("score-distribution", "Score distribution of goods and bads"),
    ("calibration", "Calibration by score band"),
    ("characteristics", "Characteristics: bins, WoE, IV and points"),
    ("stability", "Stability (PSI)"),
    ("fairness", "Score distribution by group and adverse-impact ratio"),
)


@dataclass
class ReportData:
    """Everything a report shows; :func:`report_data` builds it from a model and data."""

    title: str
    model: Any
    y: npt.NDArray[np.int64]
    score: npt.NDArray[np.float64]
    pd_bad: npt.NDArray[np.float64]
    facts: list[tuple[str, str]] = field(default_factory=list)
    folds: pd.DataFrame | None = None
    score_psi: pd.DataFrame | None = None
    characteristic_psi: pd.DataFrame | None = None
    psi_note: str = ""
    group: npt.NDArray[Any] | None = None
    group_name: str = "group"
    cutoff: float | None = None


def report_data(
    model: Any,
    X: Any,
    y: Any,
    *,
    title: str = "Model report",
    X_new: Any = None,
    group: Any = None,
    group_name: str = "group",
    cutoff: float | None = None,
) -> ReportData:
    """Report on ``model`` scored on ``(X, y)``; PSI against ``X_new`` when given."""
    from openbureau.scoring.monitoring import StabilityMonitor

    score = np.asarray(model.predict_score(X), dtype=np.float64)
    pd_bad = np.asarray(model.predict_proba(X)[:, 1], dtype=np.float64)
    data = ReportData(
        title=title,
        model=model,
        y=np.asarray(y).astype(np.int64),
        score=score,
        pd_bad=pd_bad,
        group=None if group is None else np.asarray(group, dtype=object),
        group_name=group_name,
        cutoff=cutoff,
    )
    if X_new is not None:
        monitor = StabilityMonitor(model).fit(X)
        data.score_psi = monitor.psi_table(X_new)
        data.characteristic_psi = monitor.characteristic_psi(X_new)
        data.psi_note = "reference: the scored sample; compared: the later sample"
    return data


# ------------------------------------------------------------------ plots
def _img(fig: Any, alt: str) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _roc_ks(y: npt.NDArray[np.int64], score: npt.NDArray[np.float64]) -> str:
    plt = _plt()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4))
    fpr, tpr = metrics.roc(y, -score)
    a1.plot(fpr, tpr, color="#1f5fa8", label=f"AUC {metrics.auc(y, -score):.3f}")
    a1.plot([0, 1], [0, 1], color="#999", linestyle="--", linewidth=1)
    a1.set(xlabel="share of goods declined", ylabel="share of bads declined", title="ROC")
    a1.legend(loc="lower right")
    curve = metrics.ks_curve(y, -score)
    x = -curve["risk"].to_numpy()
    a2.plot(x, curve["cum_bads"], label="bads", color="#b22")
    a2.plot(x, curve["cum_goods"], label="goods", color="#2a2")
    gap = (curve["cum_bads"] - curve["cum_goods"]).to_numpy()
    i = int(np.argmax(gap))
    a2.vlines(x[i], curve["cum_goods"].iloc[i], curve["cum_bads"].iloc[i], color="k")
    a2.set(
        xlabel="score (declined at or below)",
        ylabel="cumulative share",
        title=f"KS {gap[i]:.3f} at score {x[i]:.0f}",
    )
    a2.legend()
    return _img(fig, "ROC and KS")


def _distribution(y: npt.NDArray[np.int64], score: npt.NDArray[np.float64]) -> str:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(10, 4))
    bins = np.histogram_bin_edges(score, bins=40)
    ax.hist(score[y == 0], bins=bins, alpha=0.6, density=True, label="goods", color="#2a2")
    ax.hist(score[y == 1], bins=bins, alpha=0.6, density=True, label="bads", color="#b22")
    ax.set(xlabel="score", ylabel="density", title="Score distribution")
    ax.legend()
    return _img(fig, "Score distribution of goods and bads")


def _calibration(table: pd.DataFrame) -> str:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(10, 4))
    pos = np.arange(len(table))
    ax.bar(pos - 0.2, table["observed_bad_rate"], width=0.4, label="observed", color="#b22")
    ax.bar(pos + 0.2, table["predicted_bad_rate"], width=0.4, label="predicted", color="#1f5fa8")
    ax.set_xticks(pos, table["band"], rotation=30, ha="right")
    ax.set(ylabel="bad rate", title="Observed and predicted bad rate by score band")
    ax.legend()
    return _img(fig, "Calibration by score band")


def _groups(score: npt.NDArray[np.float64], group: npt.NDArray[Any], cutoff: float) -> str:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(10, 4))
    g = pd.Series(group).fillna("(missing)").astype(str).to_numpy()
    bins = np.histogram_bin_edges(score, bins=40)
    for name in sorted(set(g.tolist())):
        ax.hist(
            score[g == name], bins=bins, density=True, histtype="step", linewidth=1.5, label=name
        )
    ax.axvline(cutoff, color="k", linestyle="--", label=f"cut-off {cutoff:.0f}")
    ax.set(xlabel="score", ylabel="density", title="Score distribution by group")
    ax.legend()
    return _img(fig, "Score distribution by group")


# ----------------------------------------------------------------- tables
def _table(frame: pd.DataFrame | None, *, digits: int = 4) -> str:
    if frame is None or frame.empty:
        return "<p class=note>Nothing to show.</p>"
    return frame.to_html(
        index=False,
        border=0,
        classes="t",
        na_rep="",
        escape=True,
        float_format=lambda v: f"{v:.{digits}f}",
    )


def _facts(rows: Sequence[tuple[str, str]]) -> str:
    body = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows)
    return f"<table class=facts>{body}</table>"


def _characteristics(model: Any) -> str:
    from openbureau.scoring.gbm import GBMChallenger
    from openbureau.scoring.scorecard import Scorecard

    parts = []
    if isinstance(model, Scorecard):
        summary = model.summary()
        parts.append("<h3>Candidate characteristics</h3>" + _table(summary))
        table = model.points_table()
        for name, t in table.groupby("characteristic", sort=False):
            iv = float(t["iv"].sum())
            parts.append(
                f"<h3>{html.escape(str(name))} <small>IV {iv:.4f}, "
                f"coefficient {float(t['coefficient'].iloc[0]):.4f}</small></h3>"
                + _table(t.drop(columns=["characteristic", "coefficient", "max_points"]))
            )
    elif isinstance(model, GBMChallenger):
        parts.append(
            "<p class=note>Gradient boosted trees have no points table; below, the importance "
            "and monotone direction (+1 risk rises, −1 falls, 0 free) of each characteristic, "
            "then the optimal bins used to infer the directions.</p>"
        )
        parts.append("<h3>Importance and constraints</h3>" + _table(model.feature_importance()))
        if model.dropped_:
            dropped = pd.DataFrame(
                {"characteristic": list(model.dropped_), "reason": list(model.dropped_.values())}
            )
            parts.append("<h3>Dropped columns</h3>" + _table(dropped))
        for name in model.features_:
            b = model.binned_[name]
            t = b.table()
            t = t[t["count"] > 0]
            parts.append(
                f"<h3>{html.escape(name)} <small>IV {b.iv:.4f}, trend {b.risk_trend}</small></h3>"
                + _table(t.drop(columns=["characteristic"]))
            )
    else:
        raise ScoringError(f"no report for a {type(model).__name__}")
    return "\n".join(parts)


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;
max-width:1100px;color:#222;padding:0 1em}
h1{font-size:1.6em}h2{border-bottom:2px solid #1f5fa8;padding-bottom:.2em;margin-top:2em}
h3{font-size:1.05em;margin-bottom:.3em}small{color:#666;font-weight:normal}
table.t,table.facts{border-collapse:collapse;font-size:.85em;margin:.5em 0 1em}
table.t th,table.t td,table.facts th,table.facts td{padding:.25em .6em;border-bottom:1px solid #ddd;
text-align:right}table.t th{background:#f0f4fa}table.facts th{text-align:left;background:#f7f7f7}
td:first-child{text-align:left}.note{color:#555;font-size:.9em}img{max-width:100%}
nav a{margin-right:1em}.metric{font-size:1.3em;font-weight:600;margin-right:1.5em}
"""


def render(data: ReportData) -> str:
    """The report as one HTML document (no external resources)."""
    y, score = data.y, data.score
    d = metrics.discrimination(y, -score)
    calib = metrics.calibration_table(y, data.pd_bad, score)
    body: list[str] = []
    nav = " ".join(f'<a href="#{sid}">{html.escape(t)}</a>' for sid, t in SECTIONS)
    body.append(f"<h1>{html.escape(data.title)}</h1><nav>{nav}</nav>")

    facts = [
        ("model", type(data.model).__name__),
        ("rows scored", f"{len(y):,}"),
        ("bad rate", f"{y.mean():.4f}"),
        ("generated", datetime.now(UTC).isoformat(timespec="seconds")),
        *data.facts,
    ]
    summary = (
        f"<p><span class=metric>AUC {d['auc']:.4f}</span><span class=metric>KS {d['ks']:.4f}"
        f"</span><span class=metric>Gini {d['gini']:.4f}</span></p>" + _facts(facts)
    )
    if data.folds is not None:
        summary += "<h3>Per fold</h3>" + _table(data.folds)
    body.append(f'<section id="summary"><h2>Summary</h2>{summary}</section>')
    body.append(
        '<section id="discrimination"><h2>Discrimination: ROC and KS</h2>'
        f"{_roc_ks(y, score)}</section>"
    )
    body.append(
        '<section id="score-distribution"><h2>Score distribution of goods and bads</h2>'
        f"{_distribution(y, score)}</section>"
    )
    body.append(
        '<section id="calibration"><h2>Calibration by score band</h2>'
        f"{_calibration(calib)}{_table(calib.drop(columns=['low', 'high']))}</section>"
    )
    body.append(
        '<section id="characteristics"><h2>Characteristics: bins, WoE, IV and points</h2>'
        f"{_characteristics(data.model)}</section>"
    )
    if data.score_psi is not None:
        total = float(data.score_psi["psi"].sum())
        psi_html = (
            f"<p class=note>{html.escape(data.psi_note)}</p>"
            f"<p><span class=metric>score PSI {total:.4f}</span></p>"
            "<h3>Score PSI by band</h3>"
            + _table(data.score_psi)
            + "<h3>PSI per characteristic</h3>"
            + _table(data.characteristic_psi)
        )
    else:
        psi_html = "<p class=note>No comparison sample was given.</p>"
    body.append(f'<section id="stability"><h2>Stability (PSI)</h2>{psi_html}</section>')
    if data.group is not None:
        cutoff = (
            data.cutoff if data.cutoff is not None else float(np.quantile(score, float(y.mean())))
        )
        air = metrics.adverse_impact_table(score, data.group, cutoff)
        fair = (
            f"<p class=note>Group column <b>{html.escape(data.group_name)}</b> (never a model "
            f"input). Approved: score ≥ {cutoff:.1f}"
            + ("" if data.cutoff is not None else " (default: declines as many as the bad rate)")
            + ". A ratio under 0.8 fails the four-fifths rule.</p>"
            + _groups(score, data.group, cutoff)
            + _table(air)
        )
    else:
        fair = "<p class=note>No group column was given.</p>"
    body.append(
        '<section id="fairness"><h2>Score distribution by group and adverse-impact ratio</h2>'
        f"{fair}</section>"
    )
    return (
        "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>"
        f"<title>{html.escape(data.title)}</title><style>{_CSS}</style></head><body>"
        + "\n".join(body)
        + "</body></html>\n"
    )


def write_report(data: ReportData, path: Path) -> Path:
    """Write the report to ``path`` and return it."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(data), encoding="utf-8")
    except OSError as e:
        raise ScoringError(f"cannot write report {path}: {e}") from e
    return path


__all__ = ["SECTIONS", "ReportData", "render", "report_data", "write_report"]
