"""The probabilistic linkage model: Splink comparisons and blocking, written once for every engine.

Comparison levels are SQL over *feature* columns (see :mod:`openbureau.identity.features`).
The only thing that differs between DuckDB and Spark is a few function names, looked up in
:data:`FUNCTIONS` — the same habit as Splink's own dialect table. A backend that lacks a
function fails with a clear message instead of wrong SQL.

The same builders configure the model for the FEBRL benchmark's columns (``bench/``).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from openbureau.errors import IdentityError

logger = logging.getLogger(__name__)

Dialect = Literal["duckdb", "spark"]

# Function names per SQL dialect (Spark's come from Splink's similarity jar).
FUNCTIONS: dict[str, dict[str, str]] = {
    "duckdb": {"jw": "jaro_winkler_similarity", "dl": "damerau_levenshtein"},
    "spark": {"jw": "jaro_winkler", "dl": "damerau_levenshtein"},
}


def fn(dialect: str, name: str) -> str:
    try:
        return FUNCTIONS[dialect][name]
    except KeyError as e:
        raise IdentityError(f"the {dialect} engine has no function for {name!r}") from e


def _level(sql: str, label: str, *, null: bool = False) -> dict[str, Any]:
    level: dict[str, Any] = {"sql_condition": sql, "label_for_charts": label}
    if null:
        level["is_null_level"] = True
    return level


def _null(*cols: str) -> dict[str, Any]:
    cond = " OR ".join(f"{c}_l IS NULL OR {c}_r IS NULL" for c in cols)
    return _level(cond, "missing", null=True)


@dataclass(frozen=True)
class Comparison:
    """One field compared between two records: a kind and the feature columns it reads.

    Kinds:
        ``name``: an orientation-free name: ``columns = (forward, rotated)`` keys; exact in
            any orientation, then Jaro-Winkler >= 0.92 / 0.80 on the best orientation.
        ``date``: ``columns = (yyyymmdd, swapped)``: exact, day and month swapped, one edit.
        ``digits``: phone numbers and the like: exact, one edit, else.
        ``text``: free text: exact, Jaro-Winkler >= 0.92 / 0.80 (thresholds settable).
        ``code``: exact or not.
        ``id``: an identifier: ``columns = (keyed hash, clear value)``: exact hash, then one or
            two edits on the clear value (read only inside the linking job).
    """

    name: str
    kind: Literal["name", "date", "digits", "text", "code", "id"]
    columns: tuple[str, ...]
    thresholds: tuple[float, ...] = (0.92, 0.80)

    def to_splink(self, dialect: str) -> dict[str, Any]:
        jw, dl = fn(dialect, "jw"), fn(dialect, "dl")
        c = self.columns
        levels: list[dict[str, Any]]
        if self.kind == "name":
            f, r = c
            exact = f"{f}_l = {f}_r OR {f}_l = {r}_r OR {r}_l = {f}_r"
            best = f"greatest({jw}({f}_l, {f}_r), {jw}({f}_l, {r}_r), {jw}({r}_l, {f}_r))"
            levels = [_null(f), _level(exact, "exact (any order, any romanisation)")]
            levels += [_level(f"{best} >= {t}", f"Jaro-Winkler >= {t}") for t in self.thresholds]
        elif self.kind == "date":
            d, s = c
            levels = [
                _null(d),
                _level(f"{d}_l = {d}_r", "exact"),
                _level(f"{s}_l = {d}_r OR {d}_l = {s}_r", "day and month swapped"),
                _level(f"{dl}({d}_l, {d}_r) <= 1", "one digit apart"),
            ]
        elif self.kind == "digits":
            (d,) = c
            levels = [
                _null(d),
                _level(f"{d}_l = {d}_r", "exact"),
                _level(f"{dl}({d}_l, {d}_r) <= 1", "one digit apart"),
            ]
        elif self.kind == "text":
            (t,) = c
            levels = [_null(t), _level(f"{t}_l = {t}_r", "exact")]
            levels += [
                _level(f"{jw}({t}_l, {t}_r) >= {x}", f"Jaro-Winkler >= {x}")
                for x in self.thresholds
            ]
        elif self.kind == "code":
            (t,) = c
            levels = [_null(t), _level(f"{t}_l = {t}_r", "exact")]
        elif self.kind == "id":
            h, clear = c
            levels = [
                _null(h),
                _level(f"{h}_l = {h}_r", "exact"),
                _level(f"{dl}({clear}_l, {clear}_r) <= 1", "one edit apart (mistyped)"),
                _level(f"{dl}({clear}_l, {clear}_r) <= 2", "two edits apart"),
            ]
        else:  # pragma: no cover - Literal guards this
            raise IdentityError(f"unknown comparison kind {self.kind!r}")
        levels.append(_level("ELSE", "different"))
        return {
            "output_column_name": self.name,
            "comparison_description": f"{self.name} ({self.kind})",
            "comparison_levels": levels,
        }


@dataclass(frozen=True)
class ModelSpec:
    """A linkage model before training: comparisons, blocking and how EM is trained.

    Attributes:
        comparisons: the fields compared.
        blocking: SQL conditions (``l.x = r.x``, ANDs) that generate candidate pairs; each is
            extended by ``restrict`` when given.
        restrict: alternative conditions (OR) every scored pair must meet, e.g. "the left
            record lacks a valid id" or "the right one does". Each blocking rule is
            repeated once per alternative, so that a one-sided condition is pushed below the
            blocking join instead of filtering its output — far fewer pairs are built.
        em_blocking: blocking conditions for the EM training sessions, in order.
        deterministic: conditions taken as near-certain matches to estimate the prior.
        link_type: ``dedupe_only`` or ``link_only`` (two source datasets).
        u_max_pairs, em_max_pairs: sampling limits for the u and m estimates.
        seed: seed of the u sampling (reproducible models).
    """

    comparisons: tuple[Comparison, ...]
    blocking: tuple[str, ...]
    em_blocking: tuple[str, ...]
    deterministic: tuple[str, ...]
    restrict: tuple[str, ...] = ()
    link_type: Literal["dedupe_only", "link_only", "link_and_dedupe"] = "dedupe_only"
    u_max_pairs: float = 2e6
    em_max_pairs: float | None = 2e6
    deterministic_recall: float = 0.8
    seed: int = 42
    retain_columns: tuple[str, ...] = field(default_factory=tuple)

    def settings(self, dialect: str) -> dict[str, Any]:
        """The Splink settings dictionary for ``dialect`` (untrained)."""
        rules = [r for b in self.blocking for r in self._restricted(b)]
        return {
            "link_type": self.link_type,
            "unique_id_column_name": "unique_id",
            "comparisons": [c.to_splink(dialect) for c in self.comparisons],
            "blocking_rules_to_generate_predictions": rules,
            "retain_intermediate_calculation_columns": True,
            "retain_matching_columns": False,
            "additional_columns_to_retain": list(self.retain_columns),
            "max_iterations": 25,
            "em_convergence": 0.0001,
        }

    def _restricted(self, rule: str) -> list[str]:
        if not self.restrict:
            return [rule]
        return [f"({rule}) AND ({alternative})" for alternative in self.restrict]


@dataclass
class TrainedModel:
    """A trained model: the Splink settings with m and u probabilities filled in."""

    settings: dict[str, Any]

    def for_dialect(self, spec: ModelSpec, dialect: str) -> dict[str, Any]:
        """These trained parameters on ``dialect``'s SQL (same levels, same m and u)."""
        fresh = spec.settings(dialect)
        for comp, trained in zip(fresh["comparisons"], self.settings["comparisons"], strict=True):
            for level, t in zip(
                comp["comparison_levels"], trained["comparison_levels"], strict=True
            ):
                for key in ("m_probability", "u_probability"):
                    if key in t:
                        level[key] = t[key]
        fresh["probability_two_random_records_match"] = self.settings[
            "probability_two_random_records_match"
        ]
        return fresh


def deterministic_sample(
    features: Any, max_pairs: float, dialect_free_id: str = "unique_id"
) -> Any:
    """Rows of ``features`` (Arrow) kept by a hash of their id, about ``max_pairs`` pairs' worth.

    The u probabilities are estimated on this sample's full cartesian product, so the model
    depends only on the data — not on an engine's random number generator — and DuckDB and
    Spark train the same model.
    """
    import numpy as np
    import pyarrow as pa

    n = features.num_rows
    want = 0.5 * ((8 * max_pairs + 1) ** 0.5 + 1)  # rows giving max_pairs pairs
    if want >= n:
        return features
    ids = np.asarray(features.column(dialect_free_id).to_numpy(), dtype=np.uint64)
    mixed = (ids * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(40)  # Fibonacci hashing
    keep = mixed.astype(np.float64) / float(1 << 24) < want / n
    return features.filter(pa.array(keep))


def train(engine: Any, features: Any, spec: ModelSpec) -> TrainedModel:
    """Estimate u (deterministic sample), the prior and m (EM) on the data itself."""
    from splink import Linker

    sample = deterministic_sample(features, spec.u_max_pairs)
    u_linker = Linker(
        engine.register(sample, "ob_identity_u_sample"),
        spec.settings(engine.dialect),
        log_level=logging.WARNING,
    )
    pairs = sample.num_rows * (sample.num_rows - 1) / 2 + 1
    u_linker.training.estimate_u_using_random_sampling(
        max_pairs=max(pairs, 1e6 + 1), min_count_per_level=None, num_chunks=1
    )
    with_u = u_linker.misc.save_model_to_json()
    settings = spec.settings(engine.dialect)
    for comp, trained in zip(settings["comparisons"], with_u["comparisons"], strict=True):
        for level, t in zip(comp["comparison_levels"], trained["comparison_levels"], strict=True):
            if t.get("u_probability") is not None:
                level["u_probability"] = t["u_probability"]
    _fill(settings, m=False, pairs=pairs)
    linker = Linker(
        engine.register(features, "ob_identity_features"), settings, log_level=logging.WARNING
    )
    linker.training.estimate_probability_two_random_records_match(
        list(spec.deterministic), recall=spec.deterministic_recall
    )
    for rule in spec.em_blocking:
        linker.training.estimate_parameters_using_expectation_maximisation(
            rule, max_pairs=spec.em_max_pairs
        )
    trained_settings: dict[str, Any] = linker.misc.save_model_to_json()
    _fill(trained_settings, m=True, pairs=pairs)
    return TrainedModel(trained_settings)


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and (math.isnan(v) or v <= 0))


def _fill(settings: dict[str, Any], *, m: bool, pairs: float) -> None:
    """Levels never observed in training get a cautious value instead of failing predict.

    An unseen u (rarer than one in the sampled pairs) gets half an observation; an unseen m
    (never seen among matches) gets 0.1 %: strong evidence, never a certainty.
    """
    for comp in settings["comparisons"]:
        for level in comp["comparison_levels"]:
            if level.get("is_null_level"):
                continue
            if _missing(level.get("u_probability")):
                level["u_probability"] = 0.5 / pairs
            if m and _missing(level.get("m_probability")):
                level["m_probability"] = 1e-3
                logger.info(
                    "level %s of %s was never seen among matches",
                    level.get("label_for_charts"),
                    comp["output_column_name"],
                )


def level_weights(settings: dict[str, Any]) -> dict[str, list[tuple[float, str]]]:
    """Comparison -> [(match weight in bits, level label)] of its non-null levels."""
    out: dict[str, list[tuple[float, str]]] = {}
    for comp in settings["comparisons"]:
        levels = []
        for level in comp["comparison_levels"]:
            if level.get("is_null_level"):
                continue
            mp, up = level.get("m_probability"), level.get("u_probability")
            w = math.log2(mp / up) if mp and up else 0.0
            levels.append((w, str(level.get("label_for_charts", ""))))
        out[comp["output_column_name"]] = levels
    return out


def waterfall(
    row: dict[str, Any], weights: dict[str, list[tuple[float, str]]], comparisons: Sequence[str]
) -> list[dict[str, Any]]:
    """Field-by-field evidence of one scored pair: level, agreement and match weight (bits).

    Splink gives each comparison's match weight (``mw_<name>``); the level is the one whose
    weight it is (0 bits with no level of that weight: a missing value).
    """
    out = []
    for name in comparisons:
        w = row.get(f"mw_{name}")
        weight = float(w) if w is not None and w == w else 0.0
        label = "missing"
        for lw, lab in weights.get(name, []):
            if abs(lw - weight) < 1e-6:
                label = lab
                break
        out.append(
            {
                "comparison": name,
                "level": label,
                "agrees": weight > 0,
                "match_weight": round(weight, 3),
            }
        )
    return out


__all__ = [
    "FUNCTIONS",
    "Comparison",
    "ModelSpec",
    "TrainedModel",
    "deterministic_sample",
    "fn",
    "level_weights",
    "train",
    "waterfall",
]
