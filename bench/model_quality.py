"""Model quality on synthetic populations: out-of-time AUC of the approved scorecard and GBM
against the AUC of the true PD (the ceiling), as the scoring issue measures it.

    python bench/model_quality.py [--seeds 0 1 2] [--consumers 20000] [--months 36]
                                  [--cache /tmp/openbureau-model-quality] [--kinds scorecard gbm]
                                  [--json FILE]

Per seed: synthesise the population, ingest every feed, link identities and snapshot the
credit file (all cached under ``--cache``, so that iterating on features or training does not
redo them), then in a fresh copy of that home: compute features, train each model kind as
of the end of month ``months − 24`` with out-of-time validation 12 months later, approve it,
score everyone as of the last two year-ends with outcomes on file in the truth, and evaluate
the scores against the truth (``openbureau evaluate scores``). The truth folder is used only
by that last step. Prints one row per seed and model: AUC / true-PD AUC = ratio per date.
Targets: scorecard ≥ 0.95 ×, GBM ≥ 0.97 ×.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from openbureau.config import Settings
from openbureau.context import Context
from openbureau.features.asof import AsOf, month_index
from openbureau.scores.train import Kind
from openbureau.synth import SynthConfig

TARGETS = {"scorecard": 0.95, "gbm": 0.97}
PREPARED = ".prepared"


def _log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def dates(config: SynthConfig) -> tuple[AsOf, AsOf, list[AsOf]]:
    """Training date, validation date, evaluation dates (the last two with a 12-month truth)."""
    last = month_index(config.month(config.months - 1))
    train_at, validate = AsOf.end_of_month(last - 24), AsOf.end_of_month(last - 12)
    return train_at, validate, [validate, AsOf.end_of_month(last)]


def prepare(cache: Path, config: SynthConfig) -> tuple[Path, Path]:
    """The population and a home holding it ingested, linked and snapshotted (cached)."""
    from openbureau.cli.identity import quiet_splink
    from openbureau.features.snapshot import take_snapshots
    from openbureau.identity.link import link
    from openbureau.ingest import ingest_feeds
    from openbureau.synth import generate

    tag = f"n{config.consumers}-m{config.months}-s{config.seed}"
    population, home = cache / f"pop-{tag}", cache / f"home-{tag}"
    if not (population / "truth" / "config.json").exists():
        _log(f"synthesising {tag}")
        shutil.rmtree(population, ignore_errors=True)
        generate(config, population)
    if not (home / PREPARED).exists():
        shutil.rmtree(home, ignore_errors=True)
        ctx = Context(Settings(home=home))
        try:
            ctx.init()
            _log(f"ingesting {tag}")
            ingest_feeds(ctx, population / "feeds", population / "furnishers.json")
            _log(f"linking {tag}")
            quiet_splink()
            link(ctx)
            train_at, validate, evaluate = dates(config)
            _log(f"snapshotting {tag}")
            take_snapshots(ctx, sorted({train_at, validate, *evaluate}))
        finally:
            ctx.close()
        (home / PREPARED).write_text("ingested, linked, snapshotted\n")
    return population, home


def measure(
    cache: Path, config: SynthConfig, kinds: list[Kind], params: dict[str, Any]
) -> list[dict[str, Any]]:
    from openbureau.features.compute import compute_features
    from openbureau.scores import registry
    from openbureau.scores.batch import score
    from openbureau.scores.evaluate import evaluate_scores
    from openbureau.scores.train import train

    population, base = prepare(cache, config)
    work = cache / f"work-n{config.consumers}-m{config.months}-s{config.seed}"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(base, work)
    train_at, validate, evaluate = dates(config)
    rows: list[dict[str, Any]] = []
    ctx = Context(Settings(home=work))
    try:
        t = time.perf_counter()
        for d in sorted({train_at, validate, *evaluate}):
            compute_features(ctx, d)
        _log(f"seed {config.seed}: features in {time.perf_counter() - t:.0f} s")
        for kind in kinds:
            t = time.perf_counter()
            info = train(ctx, train_at, kind, validate_as_of=validate, params=params.get(kind))
            registry.approve(ctx, info.id, by="bench")
            row: dict[str, Any] = {
                "seed": config.seed,
                "kind": kind,
                "model_id": info.id,
                "oot_auc": info.metrics["out_of_time"]["auc"],
            }
            for d in evaluate:
                score(ctx, d)
                ev = evaluate_scores(ctx, population, d)
                row[d.key] = {"auc": ev.auc, "oracle_auc": ev.oracle_auc, "ratio": ev.ratio}
            _log(f"seed {config.seed}: {kind} in {time.perf_counter() - t:.0f} s")
            rows.append(row)
    finally:
        ctx.close()
    return rows


def table(rows: list[dict[str, Any]], keys: list[str]) -> str:
    head = f"{'population':<11} {'model':<10} " + " ".join(
        f"{'as of ' + k[:7] + ' (ratio)':<28}" for k in keys
    )
    lines = [head]
    for r in rows:
        cells = []
        for k in keys:
            c = r[k]
            ok = "" if c["ratio"] >= TARGETS[r["kind"]] else " ✗"
            cells.append(f"{c['auc']:.3f}/{c['oracle_auc']:.3f} = {c['ratio']:.3f}{ok:<3}")
        lines.append(f"seed {r['seed']:<6} {r['kind']:<10} " + " ".join(f"{c:<28}" for c in cells))
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--consumers", type=int, default=20_000)
    ap.add_argument("--months", type=int, default=36)
    ap.add_argument("--cache", type=Path, default=Path("/tmp/openbureau-model-quality"))
    ap.add_argument("--kinds", nargs="+", default=["scorecard", "gbm"], choices=list(TARGETS))
    ap.add_argument(
        "--params", type=json.loads, default={}, help='JSON, e.g. {"gbm": {"num_leaves": 15}}'
    )
    ap.add_argument("--json", type=Path, help="also write the rows as JSON here")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    for name in ("splink", "py4j", "lightgbm", "optbinning"):
        logging.getLogger(name).setLevel(logging.ERROR)
    args.cache.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    keys: list[str] = []
    for seed in args.seeds:
        config = SynthConfig(consumers=args.consumers, months=args.months, seed=seed)
        keys = [d.key for d in dates(config)[2]]
        rows.extend(measure(args.cache, config, args.kinds, args.params))
    print(table(rows, keys))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
