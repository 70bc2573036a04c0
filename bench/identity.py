"""Identity linking speed: wall time, CPU time and peak memory of ``link`` at scale (DuckDB).

    python bench/identity.py POPULATION [POPULATION ...]

Each POPULATION is a folder written by ``openbureau synth`` (e.g. 100k and 1M consumers).
Ingesting a million people's monthly files through ``openbureau ingest`` takes far longer than
linking them, so the identity records are built straight from the feeds with the same
validation/normalisation SQL and national-id sealing that ingest uses
(:mod:`openbureau.identity.feeds`), and loaded into a fresh SQLite credit file. Then the real
``link`` job runs — load from the store, decrypt, features, Splink training (EM) and scoring,
clustering, stable ids, writing back — in a child process, so that its peak RSS is its own.
Finally the links are evaluated against the population's truth.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table


def _usage() -> tuple[float, float]:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime, r.ru_maxrss / 1024


def prepare(population: Path, home: Path) -> dict[str, float]:
    from openbureau.config import Settings
    from openbureau.context import Context
    from openbureau.identity.feeds import load_records, read_feeds, seal

    t0 = time.perf_counter()
    records = read_feeds(population / "feeds")
    t1 = time.perf_counter()
    ctx = Context(Settings(home=home))
    ctx.init()
    n = load_records(ctx, seal(records, ctx.keys))
    ctx.close()
    return {"records": n, "read_feeds_s": t1 - t0, "load_s": time.perf_counter() - t1}


def run_link(home: Path) -> dict[str, object]:
    from openbureau.config import Settings
    from openbureau.context import Context
    from openbureau.identity.link import link

    ctx = Context(Settings(home=home))
    t0 = time.perf_counter()
    cpu0, _ = _usage()
    summary = link(ctx)
    wall = time.perf_counter() - t0
    cpu1, rss = _usage()
    ctx.close()
    return {"wall_s": wall, "cpu_s": cpu1 - cpu0, "peak_rss_mb": rss, "summary": summary.as_dict()}


def evaluate(population: Path, home: Path) -> dict[str, float | int]:
    from openbureau.config import Settings
    from openbureau.context import Context
    from openbureau.identity.evaluate import evaluate_store

    ctx = Context(Settings(home=home))
    try:
        return evaluate_store(ctx, population).as_dict()
    finally:
        ctx.close()


def _child(*args: str) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, __file__, *args], check=True, capture_output=True, text=True
    )
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main(populations: list[Path]) -> None:
    console = Console(width=200)  # the table is wide: do not cut it at a pipe's 80 columns
    table = Table(
        "population",
        "people",
        "identity records",
        "link wall (s)",
        "link CPU (s)",
        "peak RSS (MB)",
        "pairs scored",
        "precision",
        "recall",
        "mixed files",
        "fragmented",
        title="openbureau link on DuckDB (this machine, 2 cores)",
    )
    for population in populations:
        people = json.loads((population / "truth" / "config.json").read_text())["consumers"]
        with tempfile.TemporaryDirectory(prefix="ob-bench-identity-") as tmp:
            home = Path(tmp) / "home"
            prep = _child("--prepare", str(population), str(home))
            console.print(
                f"{population.name}: {prep['records']:,} records built from the feeds "
                f"in {prep['read_feeds_s']:.0f} s, loaded in {prep['load_s']:.0f} s "
                "(not timed below)"
            )
            res = _child("--link", str(home))
            summary = res["summary"]
            assert isinstance(summary, dict)
            m = evaluate(population, home)
            console.print(f"  timings: {summary['timings']}")
            table.add_row(
                population.name,
                f"{people:,}",
                f"{summary['records']:,}",
                f"{res['wall_s']:.1f}",
                f"{res['cpu_s']:.1f}",
                f"{res['peak_rss_mb']:.0f}",
                f"{summary['pairs_scored']:,}",
                f"{m['precision']:.5f}",
                f"{m['recall']:.5f}",
                f"{m['mixed_file_rate']:.4%}",
                f"{m['fragmentation_rate']:.4%}",
            )
    console.print(table)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--prepare"]:
        print(json.dumps(prepare(Path(sys.argv[2]), Path(sys.argv[3]))))
    elif sys.argv[1:2] == ["--link"]:
        print(json.dumps(run_link(Path(sys.argv[2])), default=str))
    elif not sys.argv[1:] or sys.argv[1] in {"-h", "--help"}:
        print(__doc__)
    else:
        main([Path(p) for p in sys.argv[1:]])
