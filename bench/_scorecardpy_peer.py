"""Run scorecardpy's woebin + scorecard_ply; prints one JSON line with the CPU seconds.

scorecardpy 0.1.9.7 fails on pandas 3 (``pd.to_numeric(errors="ignore")`` was removed and
string checks assume object columns), so scoring_speed.py runs this file in a venv of its own
with pandas < 3 (see ``ensure_venv`` there).
"""

from __future__ import annotations

import json
import resource
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pandas as pd
import scorecardpy as scp
from sklearn.linear_model import LogisticRegression

from _synthetic import make_columns


def main() -> None:
    train_rows, score_rows, k, seed = (int(a) for a in sys.argv[1:5])
    warnings.filterwarnings("ignore")
    cols, y = make_columns(train_rows, k, seed)
    train = pd.DataFrame(cols)
    train["y"] = y
    bins = scp.woebin(train, y="y", ignore_datetime_cols=False, no_cores=1)
    woe = scp.woebin_ply(train, bins, no_cores=1)
    xcols = [c for c in woe.columns if c.endswith("_woe")]
    lr = LogisticRegression(max_iter=1000).fit(woe[xcols], y)
    card = scp.scorecard(bins, lr, xcols)
    cols, _ = make_columns(score_rows, k, seed + 1)
    frame = pd.DataFrame(cols)
    # CPU of this process and of any worker it forks (scorecardpy may use multiprocessing).
    t0 = time.process_time()
    c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    scp.scorecard_ply(frame, card, only_total_score=True)
    c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = time.process_time() - t0 + (c1.ru_utime - c0.ru_utime) + (c1.ru_stime - c0.ru_stime)
    n_bins = int(sum(len(b) for b in bins.values()))
    print(json.dumps({"cpu_s": cpu, "rows": score_rows, "bins": n_bins, "pandas": pd.__version__}))


if __name__ == "__main__":
    main()
