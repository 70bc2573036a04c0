"""``docs/features.md``, generated from the feature definitions (a test keeps it current).

Regenerate with ``python -m openbureau.features.docs``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from openbureau.features.spec import FAMILIES, FEATURES, STEPS, feature_set_hash

_RISK = {
    "increasing": "↑ more is riskier",
    "decreasing": "↓ more is safer",
    "none": "— learned from the data",
}

_INTRO = """\
# Features

Generated from `src/openbureau/features/spec.py` by `python -m openbureau.features.docs`;
do not edit by hand. Feature set `{hash}`: {n} features per consumer.

Every feature is defined once, as a SQL expression over the named SQL steps below, and runs
unchanged on DuckDB (the default), on Spark (the same query translated by sqlglot) and online
for one consumer (the same query in an in-memory DuckDB); the tests check that all three give
the same numbers to the last bit. The inputs are a point-in-time snapshot of the credit file
(see *Snapshots* in `docs/architecture.md`) and the payment transactions of the 12 reporting
months up to the as-of date, so nothing after the as-of date is ever read.

Conventions: months are counted back from the *cut-off month* (the last reporting month known
on the as-of date; 0 = the cut-off month, "last 3 months" = months 0–2); money is in currency
units (yuan), from integer minor units; a ratio with a zero denominator is missing (NULL), and
the models give missing values a bin (scorecard) or a learned branch (GBM) of their own.
*Risk* is the direction declared for the models' monotone constraints (the scorecard's binning
trend and the GBM's constraint); "learned" features are left free. *Code* is the stable reason
code printed on adverse-action notices with the reason sentence.
"""


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render() -> str:
    """The whole ``docs/features.md``."""
    parts = [_INTRO.format(hash=feature_set_hash(), n=len(FEATURES))]
    for family, title in FAMILIES.items():
        members = [f for f in FEATURES if f.family == family]
        parts.append(f"\n## {title} ({len(members)})\n")
        parts.append("| name | meaning | risk | code: reason | missing means | formula |")
        parts.append("|---|---|---|---|---|---|")
        for f in members:
            parts.append(
                f"| `{f.name}` | {_cell(f.meaning)} | {_RISK[f.risk]} | "
                f"{f.code}: {_cell(f.reason)} | {_cell(f.missing or '—')} | "
                f"`{_cell(f.expr)}` |"
            )
    parts.append("\n## The SQL steps\n")
    parts.append(
        "The formulas above read these steps (common table expressions, in this order). "
        "`{C}` is the cut-off month as `year * 12 + month - 1`, `{CUT}` its first day and "
        "`{D}` the as-of date.\n"
    )
    for s in STEPS:
        parts.append(f"### `{s.name}`\n\n{s.doc}\n\n```sql\n{s.sql}\n```\n")
    return "\n".join(parts).rstrip() + "\n"


def main() -> None:
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/features.md")
    target.write_text(render(), encoding="utf-8")


if __name__ == "__main__":
    main()


__all__ = ["main", "render"]
