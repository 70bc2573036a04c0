"""Synthetic population generation: wall time, CPU time and peak memory at 100k and 1M people.

Each size runs in a fresh subprocess so peak RSS is that run's own. Target (issue 2):
1M consumers x 36 months in <= 5 minutes and <= 8 GB on this 2-core machine.

    python bench/synth.py                 # 100k and 1M
    python bench/synth.py --sizes 100000  # just one size
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile

CHILD = """
import json, resource, sys, time
from pathlib import Path
from openbureau.synth import SynthConfig, generate
n, months, out = int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
wall, cpu = time.perf_counter(), time.process_time()
s = generate(SynthConfig(consumers=n, months=months, seed=1), out)
print(json.dumps({"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu,
                  "rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2,
                  "accounts": s.account_records, "payments": s.payment_records,
                  "bad_rate": s.bad_rate, "auc": s.truth_auc,
                  "bytes": sum(p.stat().st_size for p in out.rglob("*") if p.is_file())}))
"""


def run(n: int, months: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="ob-bench-synth-") as tmp:
        result = subprocess.run(
            [sys.executable, "-c", CHILD, str(n), str(months), tmp],
            capture_output=True,
            text=True,
            check=True,
        )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--months", type=int, default=36)
    args = parser.parse_args()
    header = (
        f"{'consumers':>10} {'months':>6} {'wall s':>8} {'CPU s':>8} {'peak GB':>8} "
        f"{'acct rows':>11} {'pay rows':>11} {'rows/s':>10} {'output GB':>9} "
        f"{'bad rate':>8} {'truth AUC':>9}"
    )
    print(header)
    print("-" * len(header))
    for n in args.sizes:
        r = run(n, args.months)
        rows = r["accounts"] + r["payments"]
        print(
            f"{n:>10,} {args.months:>6} {r['wall']:>8.1f} {r['cpu']:>8.1f} {r['rss_gb']:>8.2f} "
            f"{r['accounts']:>11,} {r['payments']:>11,} {rows / r['wall']:>10,.0f} "
            f"{r['bytes'] / 1e9:>9.2f} {r['bad_rate']:>8.2%} {r['auc']:>9.3f}",
            flush=True,
        )
    print("\ntarget for 1M x 36 months: <= 300 s wall and <= 8 GB peak (CPU s counts every thread)")


if __name__ == "__main__":
    main()
