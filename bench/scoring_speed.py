"""Scorecard speed: batch scoring and fitting, OpenBureau vs its peers, in one run.

    python bench/scoring_speed.py                 # 5M rows scored, 200k rows fitted
    python bench/scoring_speed.py --rows 1000000  # quicker

Scoring (20 characteristics), in rows per CPU-second (time.process_time; the machine is
shared, so wall time means little):
  * OpenBureau's compiled scorer (numpy searchsorted, chunked);
  * a hand-written vectorised reference (searchsorted + np.where per characteristic, the
    whole batch at once);
  * optbinning ``Scorecard.score`` and scorecardpy ``scorecard_ply``: too slow for 5M rows,
    so measured on a sample and extrapolated (the table says so). scorecardpy fails on
    pandas 3 and runs in a venv of its own with pandas < 3 (created on first use).
Memory: OpenBureau and the reference are run again in fresh processes at 1M and 5M rows,
reporting the peak RSS added by scoring (VmHWM reset before scoring, minus RSS before).
Fitting: a 20-characteristic scorecard on 200k rows, ours vs optbinning's own fit, each
``--fit-repeats`` times (3) interleaved; the medians are compared.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import venv
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from _synthetic import make_columns  # noqa: E402
from openbureau.scoring.artifacts import load_model, save_model  # noqa: E402
from openbureau.scoring.compiled import CompiledScorecard  # noqa: E402
from openbureau.scoring.scorecard import Scorecard  # noqa: E402

VENV = (
    Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "openbureau-bench" / "scp-venv"
)


def reference_score(model: CompiledScorecard, X: pd.DataFrame) -> npt.NDArray[np.float64]:
    """The hand-written vectorised reference: per characteristic, searchsorted + np.where."""
    total = np.zeros(len(X))
    for ch in model.characteristics:
        x = X[ch.name].to_numpy()
        pts = np.asarray(ch.slot_points)
        idx = np.searchsorted(np.asarray(ch.splits), x, side="right")
        total += np.where(np.isnan(x), pts[ch.missing], pts[idx])
    return total


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def rss_probe(model_dir: str, rows: int, k: int, seed: int, which: str) -> dict[str, Any]:
    """In a fresh process: generate ``rows``, reset the peak RSS, score, report the growth."""
    model = load_model(Path(model_dir))
    assert isinstance(model, Scorecard)
    compiled = model.compile()
    cols, _ = make_columns(rows, k, seed + 1)
    X = pd.DataFrame(cols, copy=False)
    del cols
    before = _status_kb("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM (peak RSS) to the current RSS
    t0 = time.process_time()
    if which == "ours":
        compiled.score(X)
    else:
        model.scaling_.clip(reference_score(compiled, X))
    cpu = time.process_time() - t0
    return {
        "rows": rows,
        "rss_before_mb": before / 1024,
        "added_peak_mb": (_status_kb("VmHWM") - before) / 1024,
        "cpu_s": cpu,
    }


def ensure_venv() -> Path:
    """A venv with pandas < 3 and scorecardpy (installed from PyPI on first use)."""
    python = VENV / "bin" / "python"
    if not python.exists():
        VENV.parent.mkdir(parents=True, exist_ok=True)
        venv.create(VENV, with_pip=True)
    probe = subprocess.run(
        [str(python), "-c", "import scorecardpy, sklearn"], capture_output=True, check=False
    )
    if probe.returncode != 0:
        subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "-q",
                "pandas>=2.2,<3",
                "numpy<2.3",
                "scikit-learn",
                "scorecardpy==0.1.9.7",
            ],
            check=True,
        )
    return python


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--train-rows", type=int, default=200_000)
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--optbinning-rows", type=int, default=500_000)
    parser.add_argument("--scorecardpy-rows", type=int, default=50_000)
    parser.add_argument("--scorecardpy-train-rows", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fit-repeats", type=int, default=3, help="Fits of each, interleaved.")
    parser.add_argument(
        "--rss-probe", nargs=4, metavar=("MODEL_DIR", "ROWS", "WHICH", "K"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.rss_probe:
        model_dir, rows, which, k = args.rss_probe
        print(json.dumps(rss_probe(model_dir, int(rows), int(k), args.seed, which)))
        return
    warnings.filterwarnings("ignore")
    k = args.features
    from optbinning import BinningProcess
    from optbinning import Scorecard as OptbinningScorecard
    from sklearn.linear_model import LogisticRegression

    # ---------------------------------------------------------------- fit
    cols, y = make_columns(args.train_rows, k, args.seed)
    train = pd.DataFrame(cols)
    names = list(train.columns)
    # Interleaved and repeated: the first fit in a process also pays lazy imports and
    # warm-up, and the machine is shared — one fit each, ours first, is not a comparison.
    fits_ours: list[float] = []
    fits_optb: list[float] = []
    for _ in range(args.fit_repeats):
        t0 = time.process_time()
        ours = Scorecard().fit(train, y)
        fits_ours.append(time.process_time() - t0)
        t0 = time.process_time()
        peer = OptbinningScorecard(
            binning_process=BinningProcess(names), estimator=LogisticRegression()
        ).fit(train, y)
        fits_optb.append(time.process_time() - t0)
        print(
            f"fit on {args.train_rows:,} rows × {k}: ours {fits_ours[-1]:.2f} CPU-s "
            f"({len(ours.features_)} characteristics kept), optbinning {fits_optb[-1]:.2f} CPU-s",
            flush=True,
        )
    fit_ours, fit_optb = statistics.median(fits_ours), statistics.median(fits_optb)

    # ------------------------------------------------------------ scoring
    compiled = ours.compile()
    cols, _ = make_columns(args.rows, k, args.seed + 1)
    X = pd.DataFrame(cols)
    del cols
    t0 = time.process_time()
    s_ours = compiled.score(X)
    cpu_ours = time.process_time() - t0
    t0 = time.process_time()
    s_ref = ours.scaling_.clip(reference_score(compiled, X))
    cpu_ref = time.process_time() - t0
    same = bool(np.array_equal(s_ours, s_ref))
    m = min(args.optbinning_rows, args.rows)
    t0 = time.process_time()
    peer.score(X.iloc[:m])
    cpu_optb = time.process_time() - t0
    print(
        f"scored: ours {cpu_ours:.2f}, reference {cpu_ref:.2f}, optbinning {cpu_optb:.2f} "
        f"CPU-s on {m:,}",
        flush=True,
    )
    python = ensure_venv()
    out = subprocess.run(
        [
            str(python),
            str(BENCH / "_scorecardpy_peer.py"),
            str(args.scorecardpy_train_rows),
            str(args.scorecardpy_rows),
            str(k),
            str(args.seed),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    scp = json.loads(out.stdout.strip().splitlines()[-1])

    # ------------------------------------------------------------- memory
    rss: dict[tuple[str, int], dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        save_model(ours, Path(tmp))
        for which in ("ours", "reference"):
            for rows in (1_000_000, args.rows):
                res = subprocess.run(
                    [sys.executable, __file__, "--rss-probe", tmp, str(rows), which, str(k)],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                rss[(which, rows)] = json.loads(res.stdout.strip().splitlines()[-1])

    # -------------------------------------------------------------- table
    n = args.rows
    rate = {
        "ours": n / cpu_ours,
        "reference": n / cpu_ref,
        "optbinning": m / cpu_optb,
        "scorecardpy": scp["rows"] / scp["cpu_s"],
    }
    n_bins = sum(c.n_bins for c in compiled.characteristics)
    print()
    print(
        f"Batch scoring, {len(compiled.characteristics)} characteristics ({n_bins} bins), "
        f"{n:,} rows; CPU time (time.process_time)"
    )
    print(f"{'scorer':<34}{'rows measured':>14}{'CPU s':>9}{'rows/CPU-s':>14}{'ours ×':>9}  note")
    rows_measured = {"ours": n, "reference": n, "optbinning": m, "scorecardpy": scp["rows"]}
    cpu = {
        "ours": cpu_ours,
        "reference": cpu_ref,
        "optbinning": cpu_optb,
        "scorecardpy": scp["cpu_s"],
    }
    notes = {
        "ours": "compiled scorer, chunks of 32k rows",
        "reference": f"identical scores: {same}",
        "optbinning": "Scorecard.score; sample, extrapolated" if m < n else "Scorecard.score",
        "scorecardpy": f"scorecard_ply, pandas {scp['pandas']} venv; sample, extrapolated",
    }
    labels = {
        "ours": "OpenBureau CompiledScorecard",
        "reference": "hand-written numpy reference",
        "optbinning": "optbinning Scorecard.score",
        "scorecardpy": "scorecardpy scorecard_ply",
    }
    for key in ("ours", "reference", "optbinning", "scorecardpy"):
        print(
            f"{labels[key]:<34}{rows_measured[key]:>14,}{cpu[key]:>9.2f}{rate[key]:>14,.0f}"
            f"{rate['ours'] / rate[key]:>9.1f}  {notes[key]}"
        )
    print()
    print("Peak RSS added by scoring (fresh process per row count; input data not counted)")
    print(f"{'scorer':<34}{'rows':>12}{'input MB':>10}{'added peak MB':>15}{'CPU s':>8}")
    for which in ("ours", "reference"):
        for rows in (1_000_000, n):
            r = rss[(which, rows)]
            print(
                f"{labels[which]:<34}{rows:>12,}{rows * k * 8 / 2**20:>10.0f}"
                f"{r['added_peak_mb']:>15.1f}{r['cpu_s']:>8.2f}"
            )
    print("(the 5M-row output array alone is 38 MB; ours adds only that plus one chunk)")
    print()
    print(
        f"Fit, {args.train_rows:,} rows × {k} characteristics "
        f"(CPU s, median of {args.fit_repeats}, interleaved)"
    )
    runs = ", ".join(f"{t:.2f}" for t in fits_ours)
    print(f"{'OpenBureau Scorecard.fit':<34}{fit_ours:>9.2f}   runs {runs}")
    runs = ", ".join(f"{t:.2f}" for t in fits_optb)
    print(
        f"{'optbinning Scorecard.fit':<34}{fit_optb:>9.2f}   runs {runs}; ratio ours/optbinning "
        f"{fit_ours / fit_optb:.2f}"
    )


if __name__ == "__main__":
    main()
