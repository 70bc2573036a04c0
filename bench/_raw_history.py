"""A wide, untuned per-consumer view of the raw data the bureau holds on a date, for
``model_ceiling.py``: does the raw history carry more about the true PD than the features?

Reads the same point-in-time inputs as the feature pipeline (the snapshot's lake partitions
and the payments table's monthly partitions up to the cut-off, here 24 of them) and returns
one row per consumer with columns grouped by prefix (``GROUPS``) so that groups can be
ablated: month-by-month account state, per-account habits combined across accounts,
account counts and amounts, month-by-month payments, spending mix by quarter, and amounts.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from openbureau.context import Context
from openbureau.engine.sql import open_runner
from openbureau.features import lake
from openbureau.features.asof import AsOf, month_start
from openbureau.features.compute import register_lake_inputs
from openbureau.features.spec import _age  # months before {C}, as the features count
from openbureau.store import lake as store_lake
from openbureau.synth.reference import MCC_CATEGORIES

MONTHS = 24
MCCS = [code for code, _ in MCC_CATEGORIES]
# column prefix -> group name, for importance and ablation
GROUPS = {
    "ram_": "account months",
    "rah_": "account habits",
    "rac_": "account counts",
    "rpm_": "payment months",
    "rpx_": "payment mix",
    "rpa_": "payment amounts",
}


_AGE_M, _AGE_OPENED, _AGE_T = _age("m.month"), _age("opened"), _age("t")

_ACCOUNT_MONTHS = f"""
SELECT m.account_id, m.consumer_id, {_AGE_M} AS age,
  coalesce(m.credit_limit_minor, 0) AS lim, m.balance_minor AS bal,
  m.amount_due_minor AS due, m.amount_paid_minor AS paid, m.days_past_due AS dpd, m.status,
  lag(m.balance_minor) OVER (PARTITION BY m.account_id ORDER BY m.month) AS prev_bal,
  CASE WHEN a.product IN ('credit_card', 'pay_later') THEN 1 ELSE 0 END AS rev
FROM account_months m JOIN accounts a ON a.account_id = m.account_id
WHERE m.consumer_id IS NOT NULL AND m.month <= DATE '{{CUT}}'
"""

_PER_MONTH = f"""
WITH am AS ({_ACCOUNT_MONTHS})
SELECT consumer_id, age,
  sum(CASE WHEN rev = 1 THEN bal ELSE 0 END) AS rev_bal,
  sum(CASE WHEN rev = 1 THEN lim ELSE 0 END) AS rev_lim,
  max(dpd) AS max_dpd, sum(paid) AS paid, sum(due) AS due, sum(bal) AS bal,
  sum(CASE WHEN status NOT IN ('closed', 'paid', 'charged_off', 'collection')
      THEN 1 ELSE 0 END) AS n_open,
  sum(CASE WHEN rev = 1 AND prev_bal > 0 THEN 1 ELSE 0 END) AS n_owed,
  sum(CASE WHEN rev = 1 AND prev_bal > 0 AND paid >= prev_bal THEN 1 ELSE 0 END) AS n_full,
  sum(CASE WHEN dpd > 0 THEN 1 ELSE 0 END) AS n_late
FROM am WHERE age BETWEEN 0 AND {MONTHS - 1} GROUP BY consumer_id, age
"""

_PER_ACCOUNT = f"""
WITH am AS ({_ACCOUNT_MONTHS}),
u AS (SELECT *, least(greatest(CAST(bal AS DOUBLE) / lim, 0), 1.3) AS util FROM am
      WHERE rev = 1 AND lim > 0 AND age BETWEEN 0 AND 35)
SELECT u.consumer_id, u.account_id, any_value(a.product) AS product,
  avg(util) AS util, stddev_samp(util) AS util_sd,
  avg(CASE WHEN dpd = 0 THEN util END) AS util_clean,
  avg(CASE WHEN prev_bal > 0 THEN CASE WHEN paid >= prev_bal THEN 1 ELSE 0 END END) AS full,
  avg(CASE WHEN bal <= 0 THEN 1 ELSE 0 END) AS zero,
  avg(CASE WHEN due > 0 THEN least(CAST(paid AS DOUBLE) / due, 5) END) AS pay_ratio,
  max(lim) AS lim, count(*) AS n,
  avg(CASE WHEN age = 0 THEN util END) AS util_now,
  avg(CASE WHEN age < 3 THEN util END) AS util_3m,
  avg(CASE WHEN age >= 3 AND dpd = 0 THEN util END) AS util_base
FROM u JOIN accounts a ON a.account_id = u.account_id GROUP BY u.consumer_id, u.account_id
"""

_ACCOUNTS = f"""
SELECT consumer_id, product, greatest({_AGE_OPENED}, 0) AS open_age,
  coalesce(original_amount_minor, 0) AS orig, term_months,
  CASE WHEN closed IS NOT NULL THEN 1 ELSE 0 END AS closed
FROM accounts WHERE consumer_id IS NOT NULL
"""

_PAYMENTS = f"""
SELECT l.consumer_id, {_AGE_T} AS age, direction, amount_minor,
  merchant_category AS mcc, inflow_kind, hour(t) AS hr, CAST(t AS DATE) AS day
FROM (SELECT *, CAST(ts AS TIMESTAMP) AS t FROM payments) q
JOIN customer_links l ON l.furnisher_id = q.furnisher_id AND l.customer_ref = q.customer_ref
"""

_PAY_MONTH = f"""
WITH p AS ({_PAYMENTS})
SELECT consumer_id, age,
  sum(CASE WHEN direction = 'out' THEN 1 ELSE 0 END) AS n_out,
  sum(CASE WHEN direction = 'out' THEN amount_minor ELSE 0 END) AS amt_out,
  sum(CASE WHEN direction = 'out' AND hr < 6 THEN 1 ELSE 0 END) AS n_night,
  count(DISTINCT CASE WHEN direction = 'out' THEN day END) AS days,
  sum(CASE WHEN inflow_kind = 'salary' THEN 1 ELSE 0 END) AS n_salary,
  sum(CASE WHEN inflow_kind = 'salary' THEN amount_minor ELSE 0 END) AS amt_salary,
  sum(CASE WHEN inflow_kind = 'transfer' THEN 1 ELSE 0 END) AS n_transfer,
  sum(CASE WHEN inflow_kind = 'transfer' THEN amount_minor ELSE 0 END) AS amt_transfer
FROM p WHERE age BETWEEN 0 AND {MONTHS - 1} GROUP BY consumer_id, age
"""

_PAY_MCC = f"""
WITH p AS ({_PAYMENTS})
SELECT consumer_id, CAST(floor(age / 3) AS BIGINT) AS q, mcc, count(*) AS n,
  sum(ln(amount_minor)) AS log_amt
FROM p WHERE direction = 'out' AND age BETWEEN 0 AND {MONTHS - 1}
GROUP BY consumer_id, q, mcc
"""


def _logit(p: pd.Series | pd.DataFrame) -> Any:
    p = p.clip(0.005, 0.995)
    return np.log(p / (1 - p))


def _wide(df: pd.DataFrame, index: str, column: str, values: dict[str, pd.Series]) -> pd.DataFrame:
    """One column per (name, value of ``column``) from long rows."""
    parts = []
    for name, series in values.items():
        w = df.assign(_v=series).pivot(index=index, columns=column, values="_v")
        w.columns = [f"{name}{c}" for c in w.columns]
        parts.append(w)
    return pd.concat(parts, axis=1)


def _div(a: pd.Series, b: pd.Series) -> pd.Series:
    return a / b.where(b != 0)


def _account_months(q: Any) -> pd.DataFrame:
    m = q(_PER_MONTH)
    wide = _wide(
        m,
        "consumer_id",
        "age",
        {
            "ram_util_": _div(m.rev_bal, m.rev_lim),
            "ram_dpd_": m.max_dpd,
            "ram_pay_": _div(m.paid, m.due).clip(upper=5),
            "ram_open_": m.n_open,
            "ram_logbal_": np.log1p(m.bal.clip(lower=0)),
            "ram_full_": _div(m.n_full, m.n_owed),
            "ram_late_": m.n_late,
        },
    )
    # recent utilisation against the consumer's own 24-month level (stress pushes it up)
    # months the bureau does not hold yet (an early date) are absent, not zero
    cols = [c for c in (f"ram_util_{a}" for a in range(MONTHS)) if c in wide]
    base = wide[cols].mean(axis=1)
    wide["ram_util_mean"] = base
    for w in (1, 3, 6):
        wide[f"ram_util_{w}m_vs_mean"] = wide[cols[:w]].mean(axis=1) - base
    return wide


def _account_habits(q: Any) -> pd.DataFrame:
    a = q(_PER_ACCOUNT)
    a = a.assign(
        lutil=_logit(a.util),
        lclean=_logit(a.util_clean),
        loglim=np.log(a.lim.clip(lower=1)),
        card=(a["product"] == "credit_card").astype(float),
        # each account's recent utilisation against its own habit, in level and logit
        dev_now=a.util_now - a.util_base,
        dev_3m=a.util_3m - a.util_base,
        ldev_now=_logit(a.util_now) - _logit(a.util_base),
    )
    g = a.groupby("consumer_id")
    out = {}
    cols = ("lutil", "lclean", "full", "zero", "util_sd", "pay_ratio", "loglim")
    for col in (*cols, "dev_now", "dev_3m", "ldev_now"):
        for how in ("mean", "min", "max"):
            out[f"rah_{col}_{how}"] = g[col].agg(how)
    out["rah_n"] = g.size()
    out["rah_cards"] = g.card.sum()
    out["rah_months"] = g.n.sum()
    # the same over cards only: pay-later lines follow other habits
    cards = a[a.card == 1].groupby("consumer_id")
    for col in ("lutil", "full", "loglim"):
        out[f"rah_card_{col}_mean"] = cards[col].mean()
    out["rah_log_total_lim"] = np.log(g.lim.sum().clip(lower=1))
    return pd.DataFrame(out)


def _account_counts(q: Any) -> pd.DataFrame:
    a = q(_ACCOUNTS)
    loan = ~a["product"].isin(["credit_card", "pay_later"])
    a = a.assign(loan=loan, logorig=np.where(loan, np.log1p(a.orig), np.nan))
    g = a.groupby("consumer_id")
    out = {"rac_n": g.size(), "rac_oldest": g.open_age.max(), "rac_newest": g.open_age.min()}
    for p in ("credit_card", "pay_later"):
        out[f"rac_{p}"] = g["product"].agg(lambda s, p=p: int((s == p).sum()))
    out["rac_loans"] = g.loan.sum()
    out["rac_loan_logorig_mean"] = g.logorig.mean()
    out["rac_loan_logorig_max"] = g.logorig.max()
    out["rac_loan_term_mean"] = a[loan].groupby("consumer_id").term_months.mean()
    for w in (3, 6, 12, 24):
        recent = a[a.open_age < w].groupby("consumer_id")
        out[f"rac_opened_{w}m"] = recent.size()
        out[f"rac_loans_opened_{w}m"] = recent.loan.sum()
    out["rac_closed"] = g.closed.sum()
    df = pd.DataFrame(out)
    counts = [c for c in df.columns if "opened_" in c]
    df[counts] = df[counts].fillna(0)
    return df


def _payment_months(q: Any) -> pd.DataFrame:
    p = q(_PAY_MONTH)
    wide = _wide(
        p,
        "consumer_id",
        "age",
        {
            "rpm_n_": p.n_out,
            "rpm_logamt_": np.log1p(p.amt_out),
            "rpm_night_": _div(p.n_night, p.n_out),
            "rpm_days_": p.days,
            "rpm_nsal_": p.n_salary,
            "rpm_logsal_": np.log1p(p.amt_salary),
            "rpm_logtr_": np.log1p(p.amt_transfer),
        },
    )
    # a month without a row is a month without transactions
    wide = wide.fillna({c: 0 for c in wide.columns if not c.startswith("rpm_night_")})
    # recent months against the person's own 24-month level: the signs of stress
    out = {}
    for name in ("n", "logamt", "days", "nsal", "logsal", "logtr"):
        cols = [c for c in (f"rpm_{name}_{a}" for a in range(MONTHS)) if c in wide]
        base = wide[cols].mean(axis=1)
        out[f"rpm_{name}_mean"] = base
        for w in (1, 3, 6):
            out[f"rpm_{name}_{w}m_vs_mean"] = wide[cols[:w]].mean(axis=1) - base
    night = p.groupby("consumer_id")[["n_night", "n_out"]].sum()
    out["rpm_night_share"] = _div(night.n_night, night.n_out)
    salary = [c for c in (f"rpm_nsal_{a}" for a in range(MONTHS)) if c in wide]
    out["rpm_salary_months"] = (wide[salary] > 0).sum(axis=1)
    out["rpm_months_since_salary"] = (wide[salary] > 0).to_numpy().argmax(axis=1)
    extra = pd.DataFrame(out, index=wide.index)
    none = extra.rpm_salary_months == 0
    extra.loc[none, "rpm_months_since_salary"] = np.nan
    return pd.concat([wide, extra], axis=1)


def _payment_mix(q: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    x = q(_PAY_MCC)
    n = x.pivot_table(index="consumer_id", columns=["q", "mcc"], values="n", aggfunc="sum")
    n = n.fillna(0)
    quarters = sorted({q for q, _ in n.columns})
    mix = {}
    totals = {qq: n.xs(qq, axis=1, level="q").sum(axis=1) for qq in quarters}
    for qq in quarters:
        for code in MCCS:
            col = n[(qq, code)] if (qq, code) in n.columns else 0
            mix[f"rpx_q{qq}_{code}"] = _div(col + 0 * totals[qq], totals[qq])
    all_n = n.T.groupby(level="mcc").sum().T
    recent = n[[c for c in n.columns if c[0] == 0]].T.groupby(level="mcc").sum().T
    total, total_recent = all_n.sum(axis=1), recent.sum(axis=1)
    for code in MCCS:
        a = all_n.get(code, 0 * total)
        r = recent.get(code, 0 * total)
        mix[f"rpx_share_{code}"] = _div(a, total)
        # log-ratio of the last quarter's share to the 24-month share, the former shrunk
        # towards the latter (5 pseudo-transactions): few transactions a quarter
        share = (a + 0.1) / (total + 1.4)
        mix[f"rpx_shift_{code}"] = np.log((r + 5 * share) / (total_recent + 5) / share)
    # amounts: mean log amount per category (income shows through every category)
    s = x.groupby(["consumer_id", "mcc"])[["n", "log_amt"]].sum()
    mean = (s.log_amt / s.n).unstack("mcc")
    centred = mean - mean.mean()
    amounts = {f"rpa_logamt_{c}": mean[c] for c in MCCS if c in mean.columns}
    weights = s.n.unstack("mcc").reindex_like(centred).where(centred.notna())
    amounts["rpa_level"] = (centred * weights).sum(axis=1) / weights.sum(axis=1)
    return pd.DataFrame(mix), pd.DataFrame(amounts)


def raw_history(ctx: Context, as_of: AsOf) -> pd.DataFrame:
    """One row per consumer (index ``consumer_id``) of raw-data columns as of ``as_of``."""
    runner = open_runner("duckdb", memory_mb=ctx.settings.features_memory_mb, threads=1)
    try:
        register_lake_inputs(runner, ctx, as_of)
        last = as_of.cutoff_index
        files = []
        for i in range(last - MONTHS + 1, last + 1):
            files.extend(store_lake.month_files(ctx.lake, f"{month_start(i):%Y-%m}"))
        runner.register_parquet("payments", files, lake.PAYMENTS_COLUMNS)

        def q(sql: str) -> pd.DataFrame:
            bound = sql.replace("{C}", str(last)).replace("{CUT}", as_of.cutoff_month.isoformat())
            df = runner.query(bound).to_pandas()
            # DuckDB sums integers as HUGEINT, which arrive as Decimal objects
            text = {"consumer_id", "product", "mcc", "status"}
            for c in df.columns:
                if c not in text and df[c].dtype == object:
                    df[c] = df[c].astype(float)
            return df

        mix, amounts = _payment_mix(q)
        parts = [
            _account_months(q),
            _account_habits(q),
            _account_counts(q),
            _payment_months(q),
            mix,
            amounts,
        ]
    finally:
        runner.close()
    out = pd.concat(parts, axis=1)
    out.index.name = "consumer_id"
    return out.astype(float)


__all__ = ["GROUPS", "raw_history"]
