"""The feature definitions: each feature once, as a SQL expression over named SQL steps.

The steps (``STEPS``) turn the point-in-time inputs into per-consumer aggregates; each
feature (``FEATURES``) is one expression over those aggregates, with its family, meaning,
the direction in which it raises risk (the monotone constraint the models get) and its
reason code. :mod:`openbureau.features.pipeline` compiles them into one ``WITH`` query in
DuckDB's dialect; the Spark runner translates it with sqlglot. ``docs/features.md`` is
generated from this module.

Inputs (the same names in every runtime):

* ``accounts`` — snapshot accounts (``account_id, consumer_id, furnisher_id, product,
  opened, closed, original_amount_minor, …``);
* ``account_months`` — their month-by-month history as known on the as-of date;
* ``payments`` — payment transactions (``furnisher_id, customer_ref, ts, direction,
  amount_minor, merchant_category, inflow_kind``) of the 12 reporting months up to the cut-off;
* ``customer_links`` — ``(furnisher_id, customer_ref) → consumer_id``;
* ``inquiries`` — hard inquiries (``consumer_id, created_at, kind``).

Placeholders: ``{C}`` the cut-off month index (``year * 12 + month - 1``), ``{CUT}`` its first
day, ``{D}`` the as-of date. Writing rules that keep every engine equal to the last bit: money
and counts are summed as integers, ratios divide two integer sums cast to DOUBLE, every
divisor goes through ``NULLIF(…, 0)`` (Spark's ANSI mode raises on division by zero), no
fractional literals (Spark reads them as DECIMAL), and sums that may run over no rows are
wrapped in ``coalesce`` where zero is meant.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

Family = Literal[
    "payment_history",
    "amounts_owed",
    "length_of_history",
    "new_credit",
    "credit_mix",
    "payment_behaviour",
]
Risk = Literal["increasing", "decreasing", "none"]

FAMILIES: dict[str, str] = {
    "payment_history": "Payment history",
    "amounts_owed": "Amounts owed",
    "length_of_history": "Length of credit history",
    "new_credit": "New credit",
    "credit_mix": "Credit mix",
    "payment_behaviour": "Payment behaviour (payment transactions)",
}


@dataclass(frozen=True)
class Step:
    """A named SQL step (a CTE); later steps and feature expressions may read it."""

    name: str
    sql: str
    doc: str


@dataclass(frozen=True)
class Feature:
    """One feature: an expression over the steps' columns, cast to DOUBLE."""

    name: str
    family: Family
    expr: str
    meaning: str
    risk: Risk  # the direction in which the feature raises risk (monotone constraint)
    code: str  # stable reason code
    reason: str  # adverse-action sentence when the feature costs points
    missing: str | None = None  # what a NULL means


def _ratio(num: str, den: str) -> str:
    return f"CAST({num} AS DOUBLE) / NULLIF(CAST({den} AS DOUBLE), 0)"


_MONTH_OF = "(year({col}) * 12 + month({col}) - 1)"


def _age(col: str) -> str:
    return "{C} - " + _MONTH_OF.format(col=col)


# A month's balance-to-limit ratio in basis points, between 0 and 10000 (1 = the limit);
# NULL without a limit. Computed once per account-month in ``am``.
_UTIL_BP = (
    "CASE WHEN m.credit_limit_minor > 0 THEN greatest(least(CAST(floor("
    "CAST(m.balance_minor AS DOUBLE) * 10000 / CAST(m.credit_limit_minor AS DOUBLE)) AS BIGINT), "
    "10000), 0) END"
)
# Months of the last 36 that an account with a limit was paid as agreed: its habits.
_HABIT = "age < 36 AND sr = 0 AND lim > 0"
# An account's average ratio over those months, in basis points.
_HABIT_MEAN = "CAST(floor(CAST(c.hab_bp AS DOUBLE) / CAST(c.hab_n AS DOUBLE)) AS BIGINT)"
# An account's average ratio over all its months of the last 36 with a limit (basis points,
# kept within 50–9950 so that the log-odds stay finite), and its log-odds in thousandths.
_ALL36_MEAN = (
    "greatest(least(CAST(floor(CAST(c.all36_bp AS DOUBLE) / CAST(c.all36_n AS DOUBLE)) "
    "AS BIGINT), 9950), 50)"
)
_LOG_ODDS = (
    f"CAST(floor(1000 * (ln(CAST({_ALL36_MEAN} AS DOUBLE)) - "
    f"ln(CAST(10000 - {_ALL36_MEAN} AS DOUBLE)))) AS BIGINT)"
)


STEPS: tuple[Step, ...] = (
    Step(
        "am",
        "SELECT m.account_id, m.consumer_id, " + _age("m.month") + " AS age, "
        "coalesce(m.credit_limit_minor, 0) AS lim, m.balance_minor AS bal, "
        "m.amount_due_minor AS due, m.amount_paid_minor AS paid, m.days_past_due AS dpd, "
        "CASE WHEN m.status IN ('closed', 'paid') THEN 1 ELSE 0 END AS ended, "
        "CASE WHEN m.status IN ('charged_off', 'collection') THEN 6 "
        "WHEN m.status = 'dpd120' THEN 5 WHEN m.status = 'dpd90' THEN 4 "
        "WHEN m.status = 'dpd60' THEN 3 WHEN m.status = 'dpd30' THEN 2 "
        "WHEN m.days_past_due > 0 THEN 1 ELSE 0 END AS sr, "
        "lag(m.balance_minor) OVER (PARTITION BY m.account_id ORDER BY m.month) AS prev_bal, "
        f"{_UTIL_BP} AS util_bp "
        "FROM account_months m WHERE m.consumer_id IS NOT NULL AND m.month <= DATE '{CUT}'",
        "Account-months with their age in months before the cut-off (0 = the cut-off month) "
        "and a status rank `sr`: 0 paid as agreed, 1 late 1–29 days, 2 30 days, 3 60, 4 90, "
        "5 120+, 6 charged off or in collection; `prev_bal` is the account's balance of the "
        "month before (the statement the month's payment answers); `util_bp` the month's "
        "balance-to-limit ratio in basis points (0–10000, capped at the limit; none without "
        "a limit).",
    ),
    Step(
        "acc",
        "SELECT account_id, "
        "max(CASE WHEN age = 0 THEN 1 ELSE 0 END) AS now_reported, "
        "max(CASE WHEN age = 0 AND ended = 0 AND sr < 6 THEN 1 ELSE 0 END) AS now_open, "
        "max(CASE WHEN age = 0 THEN sr ELSE 0 END) AS now_sr, "
        "max(CASE WHEN age = 0 THEN dpd ELSE 0 END) AS now_dpd, "
        "max(CASE WHEN age = 0 THEN bal ELSE 0 END) AS now_bal, "
        "max(CASE WHEN age = 0 THEN lim ELSE 0 END) AS now_lim, "
        "sum(CASE WHEN age < 3 THEN bal ELSE 0 END) AS bal_3m, "
        "sum(CASE WHEN age < 3 THEN lim ELSE 0 END) AS lim_3m, "
        "sum(CASE WHEN age BETWEEN 3 AND 5 THEN bal ELSE 0 END) AS bal_p3m, "
        "sum(CASE WHEN age BETWEEN 3 AND 5 THEN lim ELSE 0 END) AS lim_p3m, "
        "sum(CASE WHEN age < 12 THEN bal ELSE 0 END) AS bal_12m, "
        "sum(CASE WHEN age < 12 THEN lim ELSE 0 END) AS lim_12m, "
        "sum(CASE WHEN age < 3 AND sr < 6 THEN paid ELSE 0 END) AS paid_3m, "
        "sum(CASE WHEN age < 3 AND sr < 6 THEN due ELSE 0 END) AS due_3m, "
        "sum(CASE WHEN age < 12 AND sr < 6 THEN paid ELSE 0 END) AS paid_12m, "
        "sum(CASE WHEN age < 12 AND sr < 6 THEN due ELSE 0 END) AS due_12m, "
        "sum(CASE WHEN age < 24 AND sr < 6 AND prev_bal > due THEN 1 ELSE 0 END) AS owed_24m, "
        "sum(CASE WHEN age < 24 AND sr < 6 AND prev_bal > due AND paid >= prev_bal "
        "THEN 1 ELSE 0 END) AS full_24m, "
        "sum(CASE WHEN age < 24 THEN bal ELSE 0 END) AS bal_24m, "
        "sum(CASE WHEN age < 24 THEN lim ELSE 0 END) AS lim_24m, "
        "max(CASE WHEN age < 3 THEN sr ELSE 0 END) AS worst_3m, "
        "max(CASE WHEN age < 12 THEN sr ELSE 0 END) AS worst_12m, "
        "max(CASE WHEN age < 24 THEN sr ELSE 0 END) AS worst_24m, "
        "min(CASE WHEN sr BETWEEN 2 AND 5 THEN age END) AS since_delinq, "
        "min(CASE WHEN sr BETWEEN 1 AND 5 THEN age END) AS since_late, "
        "sum(CASE WHEN age < 3 AND sr = 1 THEN 1 ELSE 0 END) AS late_3m, "
        "sum(CASE WHEN age < 12 AND sr = 1 THEN 1 ELSE 0 END) AS late_12m, "
        "sum(CASE WHEN age < 12 AND sr BETWEEN 2 AND 5 THEN 1 ELSE 0 END) AS delinq_12m, "
        "sum(CASE WHEN age < 24 AND sr BETWEEN 2 AND 5 THEN 1 ELSE 0 END) AS delinq_24m, "
        "sum(CASE WHEN age < 24 AND sr = 0 THEN 1 ELSE 0 END) AS clean_24m, "
        "sum(CASE WHEN age < 24 THEN 1 ELSE 0 END) AS months_24m, "
        "sum(CASE WHEN age < 24 AND sr = 2 THEN 1 ELSE 0 END) AS dpd30_24m, "
        "sum(CASE WHEN age < 24 AND sr >= 3 AND sr <= 5 THEN 1 ELSE 0 END) AS dpd60_24m, "
        "max(CASE WHEN sr = 6 THEN age END) AS derog_age, "
        f"sum(CASE WHEN {_HABIT} THEN 1 ELSE 0 END) AS hab_n, "
        f"sum(CASE WHEN {_HABIT} THEN util_bp ELSE 0 END) AS hab_bp, "
        f"sum(CASE WHEN {_HABIT} THEN util_bp * util_bp ELSE 0 END) AS hab_bp2, "
        f"sum(CASE WHEN {_HABIT} AND bal <= 0 THEN 1 ELSE 0 END) AS hab_zero, "
        "sum(CASE WHEN age < 36 AND lim > 0 THEN 1 ELSE 0 END) AS all36_n, "
        "sum(CASE WHEN age < 36 AND lim > 0 THEN util_bp ELSE 0 END) AS all36_bp "
        "FROM am WHERE age >= 0 GROUP BY account_id",
        "One row per account: its state in the cut-off month (`now_*`, open = reported, "
        "not closed, paid off, charged off or in collection), balances, limits, payments and "
        "amounts due summed over windows, months of the last 24 in which the previous balance "
        "exceeded the amount due (`owed_24m`) and of those the months paid in full "
        "(`full_24m`: payment ≥ previous balance), worst status, months since the last late "
        "payment, "
        "`derog_age`, the months since it was first charged off or sent to collection, and "
        "over the months of the last 36 paid as agreed with a credit limit (`hab_n`) the "
        "sum and the sum of squares of `util_bp` and the months with no balance; over all its "
        "months of the last 36 with a credit limit, paid as agreed or not (`all36_n`), the sum "
        "of `util_bp`.",
    ),
    Step(
        "acct",
        "SELECT a.account_id, a.consumer_id, a.furnisher_id, a.product, "
        "CASE WHEN a.product IN ('credit_card', 'pay_later') THEN 1 ELSE 0 END AS revolving, "
        "greatest(" + _age("a.opened") + ", 0) AS open_age, "
        "coalesce(a.original_amount_minor, 0) AS orig "
        "FROM accounts a WHERE a.consumer_id IS NOT NULL",
        "Accounts with whether they revolve and `open_age`, the months since opening.",
    ),
    Step(
        "cf",
        "SELECT t.consumer_id, count(*) AS n_accounts, "
        "sum(c.now_open) AS open_n, "
        "sum(CASE WHEN c.now_open = 1 AND t.product = 'credit_card' THEN 1 ELSE 0 END) "
        "AS open_cards, "
        "sum(CASE WHEN c.now_open = 1 AND t.product = 'pay_later' THEN 1 ELSE 0 END) "
        "AS open_pay_later, "
        "sum(CASE WHEN c.now_open = 1 AND t.revolving = 0 THEN 1 ELSE 0 END) AS open_loans, "
        "max(CASE WHEN c.now_reported = 1 AND c.now_sr < 6 THEN c.now_sr ELSE 0 END) AS cur_sr, "
        "max(CASE WHEN c.now_reported = 1 AND c.now_sr < 6 THEN c.now_dpd ELSE 0 END) "
        "AS cur_dpd, "
        "max(c.worst_3m) AS worst_3m, max(c.worst_12m) AS worst_12m, "
        "max(c.worst_24m) AS worst_24m, min(c.since_delinq) AS since_delinq, "
        "min(c.since_late) AS since_late, sum(c.late_3m) AS late_3m, "
        "sum(c.late_12m) AS late_12m, sum(c.delinq_12m) AS delinq_12m, "
        "sum(c.delinq_24m) AS delinq_24m, sum(c.clean_24m) AS clean_24m, "
        "sum(c.months_24m) AS months_24m, sum(c.dpd30_24m) AS dpd30_24m, "
        "sum(c.dpd60_24m) AS dpd60_24m, "
        "sum(CASE WHEN c.derog_age IS NOT NULL THEN 1 ELSE 0 END) AS derog_n, "
        "min(c.derog_age) AS since_derog, "
        "sum(CASE WHEN c.now_open = 1 AND t.revolving = 1 THEN c.now_bal ELSE 0 END) "
        "AS rev_bal, "
        "sum(CASE WHEN c.now_open = 1 AND t.revolving = 1 THEN c.now_lim ELSE 0 END) "
        "AS rev_lim, "
        "max(CASE WHEN c.now_open = 1 AND t.revolving = 1 AND c.now_lim > 0 THEN "
        "CAST(c.now_bal AS DOUBLE) / CAST(c.now_lim AS DOUBLE) END) AS max_util, "
        "sum(CASE WHEN t.revolving = 1 THEN c.bal_3m ELSE 0 END) AS rev_bal_3m, "
        "sum(CASE WHEN t.revolving = 1 THEN c.lim_3m ELSE 0 END) AS rev_lim_3m, "
        "sum(CASE WHEN t.revolving = 1 THEN c.bal_p3m ELSE 0 END) AS rev_bal_p3m, "
        "sum(CASE WHEN t.revolving = 1 THEN c.lim_p3m ELSE 0 END) AS rev_lim_p3m, "
        "sum(CASE WHEN t.revolving = 1 THEN c.bal_12m ELSE 0 END) AS rev_bal_12m, "
        "sum(CASE WHEN t.revolving = 1 THEN c.lim_12m ELSE 0 END) AS rev_lim_12m, "
        "sum(CASE WHEN c.now_open = 1 THEN c.now_bal ELSE 0 END) AS open_bal, "
        "sum(CASE WHEN c.now_open = 1 AND t.revolving = 0 THEN c.now_bal ELSE 0 END) "
        "AS loan_bal, "
        "sum(CASE WHEN c.now_open = 1 AND t.revolving = 0 THEN t.orig ELSE 0 END) AS loan_orig, "
        "sum(CASE WHEN c.now_open = 1 AND c.now_bal > 0 THEN 1 ELSE 0 END) AS with_bal, "
        "sum(CASE WHEN t.revolving = 1 THEN c.paid_3m ELSE 0 END) AS rev_paid_3m, "
        "sum(CASE WHEN t.revolving = 1 THEN c.due_3m ELSE 0 END) AS rev_due_3m, "
        "sum(CASE WHEN t.revolving = 1 THEN c.paid_12m ELSE 0 END) AS rev_paid_12m, "
        "sum(CASE WHEN t.revolving = 1 THEN c.due_12m ELSE 0 END) AS rev_due_12m, "
        "sum(CASE WHEN t.revolving = 1 THEN c.owed_24m ELSE 0 END) AS rev_owed_24m, "
        "sum(CASE WHEN t.revolving = 1 THEN c.full_24m ELSE 0 END) AS rev_full_24m, "
        "sum(CASE WHEN t.revolving = 1 AND c.lim_24m > 0 THEN CAST(floor(CAST(c.bal_24m AS "
        "DOUBLE) * 10000 / CAST(c.lim_24m AS DOUBLE)) AS BIGINT) ELSE 0 END) AS util24_bp_sum, "
        "sum(CASE WHEN t.revolving = 1 AND c.lim_24m > 0 THEN 1 ELSE 0 END) AS util24_n, "
        "max(t.open_age) AS oldest, sum(t.open_age) AS age_sum, min(t.open_age) AS newest, "
        "sum(CASE WHEN t.open_age < 6 THEN 1 ELSE 0 END) AS opened_6m, "
        "sum(CASE WHEN t.open_age < 12 THEN 1 ELSE 0 END) AS opened_12m, "
        "sum(CASE WHEN t.open_age < 12 AND t.revolving = 0 THEN 1 ELSE 0 END) "
        "AS loans_opened_12m, "
        "sum(CASE WHEN t.open_age < 3 AND t.revolving = 0 THEN 1 ELSE 0 END) "
        "AS loans_opened_3m, "
        "sum(CASE WHEN c.now_reported = 1 AND c.now_sr = 1 THEN 1 ELSE 0 END) AS late_now, "
        "sum(CASE WHEN t.revolving = 1 AND c.lim_12m > 0 THEN CAST(floor(CAST(c.bal_12m AS "
        "DOUBLE) * 10000 / CAST(c.lim_12m AS DOUBLE)) AS BIGINT) ELSE 0 END) AS util_bp_sum, "
        "sum(CASE WHEN t.revolving = 1 AND c.lim_12m > 0 THEN 1 ELSE 0 END) AS util_n, "
        "sum(CASE WHEN t.revolving = 1 AND c.due_12m > 0 THEN CAST(floor(CAST(c.paid_12m AS "
        "DOUBLE) * 100 / CAST(c.due_12m AS DOUBLE)) AS BIGINT) ELSE 0 END) AS pay_pc_sum, "
        "sum(CASE WHEN t.revolving = 1 AND c.due_12m > 0 THEN 1 ELSE 0 END) AS pay_n, "
        "sum(CASE WHEN c.now_open = 1 AND t.product = 'credit_card' THEN c.now_lim ELSE 0 END) "
        "AS card_lim, "
        "sum(CASE WHEN c.now_open = 1 AND t.product = 'pay_later' THEN c.now_lim ELSE 0 END) "
        "AS pay_later_lim, "
        # sample standard deviation per account from integer sums: n·s2 − s1² is exact
        "sum(CASE WHEN t.revolving = 1 AND c.hab_n > 1 THEN CAST(floor(sqrt("
        "CAST(c.hab_n * c.hab_bp2 - c.hab_bp * c.hab_bp AS DOUBLE) / "
        "CAST(c.hab_n * (c.hab_n - 1) AS DOUBLE))) AS BIGINT) ELSE 0 END) AS hab_sd_sum, "
        "sum(CASE WHEN t.revolving = 1 AND c.hab_n > 1 THEN 1 ELSE 0 END) AS hab_sd_n, "
        "sum(CASE WHEN t.revolving = 1 THEN c.hab_zero ELSE 0 END) AS hab_zero, "
        "sum(CASE WHEN t.revolving = 1 THEN c.hab_n ELSE 0 END) AS hab_months, "
        f"min(CASE WHEN t.revolving = 1 AND c.hab_n > 0 THEN {_HABIT_MEAN} END) AS hab_min, "
        f"max(CASE WHEN t.revolving = 1 AND c.hab_n > 0 THEN {_HABIT_MEAN} END) AS hab_max, "
        # log-odds per account, floored to thousandths before they are summed
        f"sum(CASE WHEN t.revolving = 1 AND c.all36_n > 0 THEN {_LOG_ODDS} ELSE 0 END) "
        "AS lo36_sum, "
        "sum(CASE WHEN t.revolving = 1 AND c.all36_n > 0 THEN 1 ELSE 0 END) AS lo36_n "
        "FROM acc c JOIN acct t ON t.account_id = c.account_id GROUP BY t.consumer_id",
        "One row per consumer: the account rows summed, counted or taken at their worst; "
        "`hab_*` describe each revolving account's utilisation over its months of the last 36 "
        "paid as agreed (standard deviation, months with no balance, lowest and highest "
        "average, in basis points); `lo36_*` sum and count the log-odds (in thousandths) of "
        "each revolving account's average ratio over all its months of the last 36.",
    ),
    Step(
        "fur",
        "SELECT consumer_id, count(*) AS furnishers FROM (SELECT DISTINCT t.consumer_id, "
        "t.furnisher_id FROM acc c JOIN acct t ON t.account_id = c.account_id "
        "WHERE c.now_open = 1) x GROUP BY consumer_id",
        "Distinct furnishers of each consumer's open accounts.",
    ),
    Step(
        "pm",
        "SELECT furnisher_id, customer_ref, age, "
        "sum(CASE WHEN direction = 'out' THEN 1 ELSE 0 END) AS n_out, "
        "sum(CASE WHEN direction = 'out' THEN amount_minor ELSE 0 END) AS amt_out, "
        "sum(CASE WHEN direction = 'out' AND merchant_category IN ('6011', '6051') "
        "THEN 1 ELSE 0 END) AS n_cash, "
        "sum(CASE WHEN direction = 'out' AND merchant_category = '7995' THEN 1 ELSE 0 END) "
        "AS n_gamble, "
        "sum(CASE WHEN direction = 'out' AND merchant_category = '6012' THEN 1 ELSE 0 END) "
        "AS n_loan, "
        "sum(CASE WHEN direction = 'out' AND merchant_category IN ('5812', '5651', '5732', "
        "'5311') THEN 1 ELSE 0 END) AS n_discr, "
        "sum(CASE WHEN direction = 'out' AND hr < 6 THEN 1 ELSE 0 END) AS n_night, "
        "sum(CASE WHEN direction = 'in' AND inflow_kind = 'salary' THEN 1 ELSE 0 END) "
        "AS n_salary, "
        "sum(CASE WHEN direction = 'in' AND inflow_kind IN ('salary', 'transfer') "
        "THEN 1 ELSE 0 END) AS n_income, "
        "sum(CASE WHEN direction = 'in' AND inflow_kind IN ('salary', 'transfer') "
        "THEN amount_minor ELSE 0 END) AS amt_income, "
        "max(day) AS last_day "
        "FROM (SELECT furnisher_id, customer_ref, direction, amount_minor, merchant_category, "
        "inflow_kind, " + _age("t") + " AS age, hour(t) AS hr, CAST(t AS DATE) AS day "
        "FROM (SELECT *, CAST(ts AS TIMESTAMP) AS t FROM payments) q) p "
        "WHERE age BETWEEN 0 AND 11 "
        "GROUP BY furnisher_id, customer_ref, age",
        "Payment transactions of the 12 months up to the cut-off, per furnisher customer and "
        "month (timestamps taken in UTC as naive timestamps, so that calendar functions need "
        "no time-zone rules): outflows, their amount, cash-like (MCC 6011, 6051), "
        "gambling (7995) and loan-repayment (6012) outflows, discretionary outflows "
        "(restaurants 5812, clothing 5651, electronics 5732, department stores 5311), "
        "outflows between 00:00 and "
        "05:59, salary and income-like (salary, transfer) inflows, and the last day active.",
    ),
    Step(
        "pcm",
        "SELECT l.consumer_id, p.age, sum(p.n_out) AS n_out, sum(p.amt_out) AS amt_out, "
        "sum(p.n_cash) AS n_cash, sum(p.n_gamble) AS n_gamble, sum(p.n_loan) AS n_loan, "
        "sum(p.n_discr) AS n_discr, sum(p.n_night) AS n_night, sum(p.n_salary) AS n_salary, "
        "sum(p.n_income) AS n_income, sum(p.amt_income) AS amt_income, "
        "max(p.last_day) AS last_day "
        "FROM pm p JOIN customer_links l ON l.furnisher_id = p.furnisher_id "
        "AND l.customer_ref = p.customer_ref GROUP BY l.consumer_id, p.age",
        "The same per consumer and month (a consumer may be a customer of several platforms).",
    ),
    Step(
        "pb",
        "SELECT consumer_id, "
        "sum(CASE WHEN age < 3 THEN amt_out ELSE 0 END) AS out_3m, "
        "sum(CASE WHEN age BETWEEN 3 AND 5 THEN amt_out ELSE 0 END) AS out_p3m, "
        "sum(CASE WHEN age < 3 THEN n_out ELSE 0 END) AS n_3m, "
        "sum(CASE WHEN age BETWEEN 3 AND 5 THEN n_out ELSE 0 END) AS n_p3m, "
        "sum(CASE WHEN age < 6 THEN n_out ELSE 0 END) AS n_6m, "
        "sum(CASE WHEN age >= 3 THEN n_out ELSE 0 END) AS n_base, "
        "sum(CASE WHEN age < 6 AND n_out > 0 THEN 1 ELSE 0 END) AS active_6m, "
        "max(CASE WHEN age < 6 AND n_out > 0 THEN age END) AS first_active, "
        "max(CASE WHEN age < 6 AND n_out + n_income > 0 THEN age END) AS first_seen, "
        "sum(CASE WHEN age < 6 THEN y ELSE 0 END) AS s1, "
        "sum(CASE WHEN age < 6 THEN y * y ELSE 0 END) AS s2, "
        "sum(CASE WHEN age < 3 AND n_salary > 0 THEN 1 ELSE 0 END) AS salary_3m, "
        "sum(CASE WHEN age < 6 AND n_salary > 0 THEN 1 ELSE 0 END) AS salary_6m, "
        "sum(CASE WHEN age < 6 AND n_income > 0 THEN 1 ELSE 0 END) AS income_6m, "
        "min(CASE WHEN n_salary > 0 THEN age END) AS since_salary, "
        "sum(CASE WHEN age < 3 THEN amt_income ELSE 0 END) AS inc_3m, "
        "sum(CASE WHEN age BETWEEN 3 AND 5 THEN amt_income ELSE 0 END) AS inc_p3m, "
        "sum(CASE WHEN age < 6 THEN n_cash ELSE 0 END) AS cash_6m, "
        "sum(CASE WHEN age < 6 THEN n_gamble ELSE 0 END) AS gamble_6m, "
        "sum(CASE WHEN age < 6 THEN n_loan ELSE 0 END) AS loan_6m, "
        "sum(CASE WHEN age < 6 THEN n_night ELSE 0 END) AS night_6m, "
        "sum(CASE WHEN age < 3 THEN n_cash + n_gamble ELSE 0 END) AS risky_3m, "
        "sum(CASE WHEN age >= 3 THEN n_cash + n_gamble ELSE 0 END) AS risky_base, "
        "sum(CASE WHEN age < 3 THEN n_night ELSE 0 END) AS night_3m, "
        "sum(CASE WHEN age < 3 THEN n_discr ELSE 0 END) AS discr_3m, "
        "sum(CASE WHEN age >= 3 THEN n_night ELSE 0 END) AS night_base, "
        "sum(amt_income) AS inc_12m, sum(n_out) AS n_12m, sum(n_cash) AS cash_12m, "
        "sum(n_gamble) AS gamble_12m, sum(n_loan) AS loan_12m, sum(n_night) AS night_12m, "
        "sum(CASE WHEN n_out + n_income > 0 THEN 1 ELSE 0 END) AS seen_12m, "
        "sum(CASE WHEN n_salary > 0 THEN 1 ELSE 0 END) AS salary_12m, "
        "max(last_day) AS last_day "
        "FROM (SELECT *, CAST(floor(amt_out / 100) AS BIGINT) AS y FROM pcm) x "
        "GROUP BY consumer_id",
        "One row per consumer with payment data: windows of the last 3 months (`_3m`), the "
        "3 before (`_p3m`), the last 6 (`_6m`) and months 4–12 back (`_base`); `y` is the "
        "month's spending in whole yuan, `s1`/`s2` its sum and sum of squares over the last "
        "6 months, `first_active` (`first_seen`) the oldest of those months with spending (with "
        "spending or income).",
    ),
    Step(
        "iq",
        "SELECT consumer_id, sum(CASE WHEN d < 183 THEN 1 ELSE 0 END) AS inq_6m, "
        "sum(CASE WHEN d < 365 THEN 1 ELSE 0 END) AS inq_12m, min(d) AS since_inq "
        "FROM (SELECT consumer_id, date_diff('day', CAST(created_at AS DATE), DATE '{D}') AS d "
        "FROM inquiries WHERE kind = 'hard' AND consumer_id IS NOT NULL) q "
        "WHERE d >= 0 GROUP BY consumer_id",
        "Hard inquiries up to the as-of date, by days before it.",
    ),
    Step(
        "pop",
        "SELECT DISTINCT consumer_id FROM acct",
        "The population: every consumer with an account on file on the as-of date.",
    ),
)

_VOL_N = "(pb.first_active + 1)"

FEATURES: tuple[Feature, ...] = (
    # --- payment history -------------------------------------------------------------------
    Feature(
        "ph_current_delinquency",
        "payment_history",
        "cf.cur_sr",
        "Worst status rank in the cut-off month over accounts not charged off: 0 paid as "
        "agreed, 1 late 1–29 days, 2 30, 3 60, 4 90, 5 120+ days past due.",
        "increasing",
        "PH01",
        "Currently past due on one or more accounts",
    ),
    Feature(
        "ph_current_days_past_due",
        "payment_history",
        "cf.cur_dpd",
        "Most days past due in the cut-off month over accounts not charged off.",
        "increasing",
        "PH02",
        "Days past due on current accounts",
    ),
    Feature(
        "ph_late_now",
        "payment_history",
        "cf.late_now",
        "Accounts paid 1–29 days late in the cut-off month.",
        "increasing",
        "PH15",
        "Paid late this month",
    ),
    Feature(
        "ph_worst_status_3m",
        "payment_history",
        "cf.worst_3m",
        "Worst status rank (6 = charged off or collection) in the last 3 months.",
        "increasing",
        "PH03",
        "Serious delinquency in the last 3 months",
    ),
    Feature(
        "ph_worst_status_12m",
        "payment_history",
        "cf.worst_12m",
        "Worst status rank in the last 12 months.",
        "increasing",
        "PH04",
        "Serious delinquency in the last 12 months",
    ),
    Feature(
        "ph_worst_status_24m",
        "payment_history",
        "cf.worst_24m",
        "Worst status rank in the last 24 months.",
        "increasing",
        "PH05",
        "Serious delinquency in the last 24 months",
    ),
    Feature(
        "ph_months_since_delinquency",
        "payment_history",
        "cf.since_delinq",
        "Months since the last month 30 or more days past due (not charged off).",
        "decreasing",
        "PH06",
        "Too recent a delinquency",
        "never 30 days past due on file",
    ),
    Feature(
        "ph_months_since_late_payment",
        "payment_history",
        "cf.since_late",
        "Months since the last month paid late (1+ days past due, not charged off).",
        "decreasing",
        "PH07",
        "Too recent a late payment",
        "never late on file",
    ),
    Feature(
        "ph_late_payments_3m",
        "payment_history",
        "cf.late_3m",
        "Account-months paid 1–29 days late in the last 3 months.",
        "increasing",
        "PH08",
        "Recent late payments",
    ),
    Feature(
        "ph_late_payments_12m",
        "payment_history",
        "cf.late_12m",
        "Account-months paid 1–29 days late in the last 12 months.",
        "increasing",
        "PH09",
        "Late payments in the last 12 months",
    ),
    Feature(
        "ph_delinquent_months_12m",
        "payment_history",
        "cf.delinq_12m",
        "Account-months 30–120+ days past due in the last 12 months.",
        "increasing",
        "PH10",
        "Number of accounts with delinquency",
    ),
    Feature(
        "ph_delinquent_months_24m",
        "payment_history",
        "cf.delinq_24m",
        "Account-months 30–120+ days past due in the last 24 months.",
        "increasing",
        "PH11",
        "Delinquencies in the last 24 months",
    ),
    Feature(
        "ph_roll_share_24m",
        "payment_history",
        _ratio("cf.dpd60_24m", "cf.dpd30_24m + cf.dpd60_24m"),
        "Of the account-months 30 or more days past due in the last 24 months, the share "
        "60 or more days past due (how often a missed payment rolled deeper).",
        "increasing",
        "PH16",
        "Late payments have rolled into serious delinquency",
        "no delinquency in 24 months",
    ),
    Feature(
        "ph_derogatory_accounts",
        "payment_history",
        "cf.derog_n",
        "Accounts ever charged off or sent to collection (on file).",
        "increasing",
        "PH12",
        "Account charged off or sent to collection",
    ),
    Feature(
        "ph_months_since_derogatory",
        "payment_history",
        "cf.since_derog",
        "Months since the most recent account was first charged off or sent to collection.",
        "decreasing",
        "PH13",
        "Too recent a charge-off or collection",
        "no charge-off or collection on file",
    ),
    Feature(
        "ph_clean_share_24m",
        "payment_history",
        _ratio("cf.clean_24m", "cf.months_24m"),
        "Share of account-months of the last 24 paid as agreed (0 days past due).",
        "decreasing",
        "PH14",
        "Too few accounts paid as agreed",
    ),
    # --- amounts owed ----------------------------------------------------------------------
    Feature(
        "ao_utilisation",
        "amounts_owed",
        _ratio("cf.rev_bal", "cf.rev_lim"),
        "Balances over credit limits of open revolving accounts (credit cards, pay-later "
        "lines) in the cut-off month.",
        "increasing",
        "AO01",
        "Proportion of balances to credit limits is too high",
        "no open revolving account with a limit",
    ),
    Feature(
        "ao_max_utilisation",
        "amounts_owed",
        "cf.max_util",
        "Highest balance-to-limit ratio of one open revolving account.",
        "increasing",
        "AO02",
        "Balance too close to the limit on one or more accounts",
        "no open revolving account with a limit",
    ),
    Feature(
        "ao_utilisation_3m",
        "amounts_owed",
        _ratio("cf.rev_bal_3m", "cf.rev_lim_3m"),
        "Revolving balances over limits, summed over the last 3 months.",
        "increasing",
        "AO03",
        "Balances have been high relative to limits",
    ),
    Feature(
        "ao_utilisation_12m",
        "amounts_owed",
        _ratio("cf.rev_bal_12m", "cf.rev_lim_12m"),
        "Revolving balances over limits, summed over the last 12 months (the habit).",
        "increasing",
        "AO04",
        "Balances are habitually high relative to limits",
    ),
    Feature(
        "ao_utilisation_trend",
        "amounts_owed",
        f"{_ratio('cf.rev_bal_3m', 'cf.rev_lim_3m')} - "
        f"{_ratio('cf.rev_bal_p3m', 'cf.rev_lim_p3m')}",
        "Revolving utilisation of the last 3 months minus that of the 3 months before.",
        "increasing",
        "AO05",
        "Balances are rising relative to limits",
    ),
    Feature(
        "ao_total_balance",
        "amounts_owed",
        "CAST(cf.open_bal AS DOUBLE) / 100",
        "Total balance of open accounts in the cut-off month, in currency units.",
        "none",
        "AO06",
        "Amount owed on accounts is too high",
    ),
    Feature(
        "ao_revolving_limit",
        "amounts_owed",
        "CAST(cf.rev_lim AS DOUBLE) / 100",
        "Total credit limit of open revolving accounts, in currency units.",
        "decreasing",
        "AO07",
        "Credit limits are low",
    ),
    Feature(
        "ao_loan_balance_ratio",
        "amounts_owed",
        _ratio("cf.loan_bal", "cf.loan_orig"),
        "Balance still owed on open instalment loans over the amounts lent.",
        "increasing",
        "AO08",
        "Too much still owed on instalment loans",
        "no open instalment loan",
    ),
    Feature(
        "ao_accounts_with_balance",
        "amounts_owed",
        "cf.with_bal",
        "Open accounts with a balance in the cut-off month.",
        "increasing",
        "AO09",
        "Too many accounts with balances",
    ),
    Feature(
        "ao_payment_to_due_3m",
        "amounts_owed",
        _ratio("cf.rev_paid_3m", "cf.rev_due_3m"),
        "Amount paid over amount due on revolving accounts in the last 3 months (a full "
        "payer pays the statement, many times the minimum).",
        "decreasing",
        "AO10",
        "Payments are low relative to amounts due",
        "nothing due on revolving accounts",
    ),
    Feature(
        "ao_payment_to_due_12m",
        "amounts_owed",
        _ratio("cf.rev_paid_12m", "cf.rev_due_12m"),
        "Amount paid over amount due on revolving accounts in the last 12 months.",
        "decreasing",
        "AO11",
        "Payments are habitually close to the minimum due",
        "nothing due on revolving accounts",
    ),
    Feature(
        "ao_utilisation_vs_12m",
        "amounts_owed",
        f"{_ratio('cf.rev_bal', 'cf.rev_lim')} - {_ratio('cf.rev_bal_12m', 'cf.rev_lim_12m')}",
        "Revolving utilisation in the cut-off month minus the 12-month utilisation (balances "
        "above or below the holder's habit).",
        "increasing",
        "AO16",
        "Balances have risen above their usual level relative to limits",
        "no open revolving account with a limit",
    ),
    Feature(
        "ao_full_payment_share_24m",
        "amounts_owed",
        _ratio("cf.rev_full_24m", "cf.rev_owed_24m"),
        "Of the revolving account-months of the last 24 whose previous balance exceeded the "
        "amount due, the share in which the previous balance was paid in full (a transactor "
        "pays the statement; a revolver carries part of it).",
        "decreasing",
        "AO17",
        "Balances are seldom paid in full",
        "no revolving balance above the amount due in 24 months",
    ),
    Feature(
        "ao_mean_account_utilisation_12m",
        "amounts_owed",
        "CAST(cf.util_bp_sum AS DOUBLE) / NULLIF(CAST(cf.util_n AS DOUBLE), 0) / 10000",
        "Average over revolving accounts of each account's balance-to-limit ratio over the "
        "last 12 months (each account counts once, whatever its limit; ratios floored to "
        "0.0001).",
        "increasing",
        "AO12",
        "Balances are habitually high relative to limits on most accounts",
        "no revolving account with a limit",
    ),
    Feature(
        "ao_mean_account_utilisation_24m",
        "amounts_owed",
        "CAST(cf.util24_bp_sum AS DOUBLE) / NULLIF(CAST(cf.util24_n AS DOUBLE), 0) / 10000",
        "Average over revolving accounts of each account's balance-to-limit ratio over the "
        "last 24 months (the long-run habit; ratios floored to 0.0001).",
        "increasing",
        "AO18",
        "Balances are persistently high relative to limits on most accounts",
        "no revolving account with a limit",
    ),
    Feature(
        "ao_utilisation_volatility_36m",
        "amounts_owed",
        "CAST(cf.hab_sd_sum AS DOUBLE) / NULLIF(CAST(cf.hab_sd_n AS DOUBLE), 0) / 10000",
        "Average over revolving accounts of the standard deviation of the account's monthly "
        "balance-to-limit ratio over its months of the last 36 paid as agreed (how far "
        "balances swing from month to month; ratios capped at 1, in steps of 0.0001).",
        "increasing",
        "AO19",
        "Balances swing widely from month to month",
        "no revolving account with two months paid as agreed",
    ),
    Feature(
        "ao_zero_balance_share_36m",
        "amounts_owed",
        _ratio("cf.hab_zero", "cf.hab_months"),
        "Of the revolving account-months of the last 36 paid as agreed, the share with no "
        "balance (lines left unused or cleared).",
        "decreasing",
        "AO20",
        "Revolving accounts seldom have a zero balance",
        "no revolving account-month paid as agreed",
    ),
    Feature(
        "ao_lowest_account_utilisation_36m",
        "amounts_owed",
        "CAST(cf.hab_min AS DOUBLE) / 10000",
        "Lowest, over revolving accounts, of the account's average balance-to-limit ratio over "
        "its months of the last 36 paid as agreed (even the least used line is drawn on; "
        "ratios capped at 1).",
        "increasing",
        "AO21",
        "Balances are high relative to limits on every revolving account",
        "no revolving account-month paid as agreed",
    ),
    Feature(
        "ao_highest_account_utilisation_36m",
        "amounts_owed",
        "CAST(cf.hab_max AS DOUBLE) / 10000",
        "Highest, over revolving accounts, of the account's average balance-to-limit ratio "
        "over its months of the last 36 paid as agreed (one line habitually near its limit; "
        "ratios capped at 1).",
        "increasing",
        "AO22",
        "A revolving account is habitually near its limit",
        "no revolving account-month paid as agreed",
    ),
    Feature(
        "ao_account_utilisation_log_odds_36m",
        "amounts_owed",
        "CAST(cf.lo36_sum AS DOUBLE) / NULLIF(CAST(cf.lo36_n AS DOUBLE), 0) / 1000",
        "Average over revolving accounts of the log-odds, ln(u / (1 − u)), of the account's "
        "average balance-to-limit ratio u over all its months of the last 36 with a limit, "
        "paid as agreed or not (u capped at 1 a month, kept within 0.005–0.995; each log-odds "
        "floored to thousandths): the holder's usual utilisation across lines, on a scale on "
        "which one unused or one maxed-out line does not dominate. 0 is an average of 50 %.",
        "increasing",
        "AO23",
        "Balances are habitually high relative to limits across revolving accounts",
        "no revolving account with a limit in 36 months",
    ),
    Feature(
        "ao_mean_payment_ratio_12m",
        "amounts_owed",
        "CAST(cf.pay_pc_sum AS DOUBLE) / NULLIF(CAST(cf.pay_n AS DOUBLE), 0) / 100",
        "Average over revolving accounts of each account's amount paid over amount due in "
        "the last 12 months (ratios floored to 0.01).",
        "decreasing",
        "AO13",
        "Most accounts are paid close to the minimum due",
        "nothing due on revolving accounts",
    ),
    Feature(
        "ao_card_limit_average",
        "amounts_owed",
        "CAST(cf.card_lim AS DOUBLE) / NULLIF(CAST(cf.open_cards AS DOUBLE), 0) / 100",
        "Average credit limit of the open credit cards, in currency units.",
        "decreasing",
        "AO14",
        "Credit card limits are low",
        "no open credit card",
    ),
    Feature(
        "ao_pay_later_limit_average",
        "amounts_owed",
        "CAST(cf.pay_later_lim AS DOUBLE) / NULLIF(CAST(cf.open_pay_later AS DOUBLE), 0) / 100",
        "Average limit of the open pay-later lines, in currency units.",
        "decreasing",
        "AO15",
        "Pay-later limits are low",
        "no open pay-later line",
    ),
    # --- length of history -----------------------------------------------------------------
    Feature(
        "lh_oldest_account_months",
        "length_of_history",
        "cf.oldest",
        "Months since the oldest account on file was opened.",
        "decreasing",
        "LH01",
        "Length of credit history is too short",
    ),
    Feature(
        "lh_average_account_months",
        "length_of_history",
        _ratio("cf.age_sum", "cf.n_accounts"),
        "Average months since opening over the accounts on file.",
        "decreasing",
        "LH02",
        "Accounts are too new on average",
    ),
    Feature(
        "lh_newest_account_months",
        "length_of_history",
        "cf.newest",
        "Months since the newest account on file was opened.",
        "decreasing",
        "LH03",
        "An account was opened too recently",
    ),
    # --- new credit --------------------------------------------------------------------------
    Feature(
        "nc_accounts_opened_6m",
        "new_credit",
        "cf.opened_6m",
        "Accounts opened in the last 6 months.",
        "increasing",
        "NC01",
        "Too many accounts opened recently",
    ),
    Feature(
        "nc_accounts_opened_12m",
        "new_credit",
        "cf.opened_12m",
        "Accounts opened in the last 12 months.",
        "increasing",
        "NC02",
        "Too many accounts opened in the last year",
    ),
    Feature(
        "nc_loans_opened_12m",
        "new_credit",
        "cf.loans_opened_12m",
        "Instalment loans opened in the last 12 months.",
        "increasing",
        "NC03",
        "Too many loans taken out recently",
    ),
    Feature(
        "nc_loans_opened_3m",
        "new_credit",
        "cf.loans_opened_3m",
        "Instalment loans opened in the last 3 months.",
        "increasing",
        "NC07",
        "A loan was taken out very recently",
    ),
    Feature(
        "nc_hard_inquiries_6m",
        "new_credit",
        "coalesce(iq.inq_6m, 0)",
        "Hard inquiries in the 183 days up to the as-of date.",
        "increasing",
        "NC04",
        "Too many recent inquiries for credit",
    ),
    Feature(
        "nc_hard_inquiries_12m",
        "new_credit",
        "coalesce(iq.inq_12m, 0)",
        "Hard inquiries in the 365 days up to the as-of date.",
        "increasing",
        "NC05",
        "Too many inquiries for credit in the last year",
    ),
    Feature(
        "nc_days_since_inquiry",
        "new_credit",
        "iq.since_inq",
        "Days since the most recent hard inquiry.",
        "decreasing",
        "NC06",
        "Too recent an inquiry for credit",
        "no hard inquiry",
    ),
    # --- credit mix ----------------------------------------------------------------------------
    Feature(
        "cm_open_accounts",
        "credit_mix",
        "cf.open_n",
        "Open accounts in the cut-off month.",
        "none",
        "CM01",
        "Number of open accounts",
    ),
    Feature(
        "cm_open_credit_cards",
        "credit_mix",
        "cf.open_cards",
        "Open credit cards.",
        "decreasing",
        "CM02",
        "Too few bank credit cards",
    ),
    Feature(
        "cm_open_pay_later",
        "credit_mix",
        "cf.open_pay_later",
        "Open pay-later lines.",
        "none",
        "CM03",
        "Reliance on pay-later credit",
    ),
    Feature(
        "cm_open_loans",
        "credit_mix",
        "cf.open_loans",
        "Open instalment loans.",
        "increasing",
        "CM04",
        "Too many open instalment loans",
    ),
    Feature(
        "cm_furnishers",
        "credit_mix",
        "coalesce(fur.furnishers, 0)",
        "Distinct furnishers of the open accounts.",
        "none",
        "CM05",
        "Number of lenders with open accounts",
    ),
    # --- payment behaviour ----------------------------------------------------------------
    Feature(
        "pb_active_months_6m",
        "payment_behaviour",
        "coalesce(pb.active_6m, 0)",
        "Months of the last 6 with at least one outgoing payment.",
        "none",
        "PB01",
        "Little recent payment activity",
    ),
    Feature(
        "pb_spending_3m",
        "payment_behaviour",
        "CAST(pb.out_3m AS DOUBLE) / 300",
        "Average monthly spending (outgoing payments) over the last 3 months, in currency units.",
        "none",
        "PB02",
        "Level of spending",
        "no payment data",
    ),
    Feature(
        "pb_spending_volatility_6m",
        "payment_behaviour",
        f"CASE WHEN pb.first_active >= 1 AND pb.s1 > 0 THEN sqrt(greatest(CAST("
        f"{_VOL_N} * pb.s2 - pb.s1 * pb.s1 AS DOUBLE), 0) / CAST({_VOL_N} * "
        f"pb.first_active AS DOUBLE)) / (CAST(pb.s1 AS DOUBLE) / CAST({_VOL_N} AS DOUBLE)) "
        f"END",
        "Coefficient of variation (standard deviation over mean) of monthly spending over "
        "the last 6 months, from the first month with spending.",
        "increasing",
        "PB03",
        "Spending varies too much from month to month",
        "fewer than two months of spending",
    ),
    Feature(
        "pb_spending_trend",
        "payment_behaviour",
        _ratio("pb.out_3m", "pb.out_p3m"),
        "Spending of the last 3 months over that of the 3 months before.",
        "none",
        "PB04",
        "Spending has changed sharply",
        "no spending 4–6 months ago",
    ),
    Feature(
        "pb_transactions_trend",
        "payment_behaviour",
        _ratio("pb.n_3m", "pb.n_p3m"),
        "Outgoing payments of the last 3 months over those of the 3 months before.",
        "decreasing",
        "PB05",
        "Payment activity has dropped",
        "no payments 4–6 months ago",
    ),
    Feature(
        "pb_salary_months_6m",
        "payment_behaviour",
        "coalesce(pb.salary_6m, 0)",
        "Months of the last 6 with a salary inflow.",
        "decreasing",
        "PB06",
        "No regular salary inflows",
    ),
    Feature(
        "pb_salary_months_3m",
        "payment_behaviour",
        "pb.salary_3m",
        "Months of the last 3 with a salary inflow.",
        "decreasing",
        "PB24",
        "Salary inflows have been missed recently",
        "no payment data",
    ),
    Feature(
        "pb_salary_months_12m",
        "payment_behaviour",
        "coalesce(pb.salary_12m, 0)",
        "Months of the last 12 with a salary inflow.",
        "decreasing",
        "PB18",
        "No regular salary inflows over the year",
    ),
    Feature(
        "pb_income_12m",
        "payment_behaviour",
        "CAST(pb.inc_12m AS DOUBLE) / NULLIF(CAST(pb.seen_12m AS DOUBLE), 0) / 100",
        "Average monthly income-like inflow (salary, transfers) over the months with any "
        "payment in the last 12, in currency units.",
        "decreasing",
        "PB19",
        "Income-like inflows are low",
        "no payment data",
    ),
    Feature(
        "pb_months_since_salary",
        "payment_behaviour",
        "pb.since_salary",
        "Months since the last salary inflow (within 12 months).",
        "increasing",
        "PB07",
        "Salary inflows have stopped",
        "no salary inflow in 12 months",
    ),
    Feature(
        "pb_income_trend",
        "payment_behaviour",
        _ratio("pb.inc_3m", "pb.inc_p3m"),
        "Income-like inflows (salary, transfers) of the last 3 months over those of the 3 "
        "months before.",
        "decreasing",
        "PB08",
        "Income-like inflows have fallen",
        "no income-like inflow 4–6 months ago",
    ),
    Feature(
        "pb_income_regularity_6m",
        "payment_behaviour",
        _ratio("pb.income_6m", "pb.first_seen + 1"),
        "Share of months with an income-like inflow (salary, transfer), over the last 6 "
        "months or since the first month with any payment if later.",
        "decreasing",
        "PB09",
        "Income-like payments are irregular",
        "no spending in the last 6 months",
    ),
    Feature(
        "pb_cash_share_6m",
        "payment_behaviour",
        _ratio("pb.cash_6m", "pb.n_6m"),
        "Share of outgoing payments of the last 6 months that are cash-like (MCC 6011 cash "
        "withdrawal, 6051 quasi-cash).",
        "increasing",
        "PB10",
        "High share of cash-like spending",
        "no spending in the last 6 months",
    ),
    Feature(
        "pb_gambling_share_6m",
        "payment_behaviour",
        _ratio("pb.gamble_6m", "pb.n_6m"),
        "Share of outgoing payments of the last 6 months to gambling (MCC 7995).",
        "increasing",
        "PB11",
        "High share of spending in high-risk categories",
        "no spending in the last 6 months",
    ),
    Feature(
        "pb_loan_repayment_share_6m",
        "payment_behaviour",
        _ratio("pb.loan_6m", "pb.n_6m"),
        "Share of outgoing payments of the last 6 months that repay loans (MCC 6012).",
        "increasing",
        "PB12",
        "High share of payments going to loan repayments",
        "no spending in the last 6 months",
    ),
    Feature(
        "pb_cash_share_12m",
        "payment_behaviour",
        _ratio("pb.cash_12m", "pb.n_12m"),
        "Share of outgoing payments of the last 12 months that are cash-like (MCC 6011, 6051).",
        "increasing",
        "PB20",
        "High share of cash-like spending over the year",
        "no spending in the last 12 months",
    ),
    Feature(
        "pb_gambling_share_12m",
        "payment_behaviour",
        _ratio("pb.gamble_12m", "pb.n_12m"),
        "Share of outgoing payments of the last 12 months to gambling (MCC 7995).",
        "increasing",
        "PB21",
        "High share of spending in high-risk categories over the year",
        "no spending in the last 12 months",
    ),
    Feature(
        "pb_loan_repayment_share_12m",
        "payment_behaviour",
        _ratio("pb.loan_12m", "pb.n_12m"),
        "Share of outgoing payments of the last 12 months that repay loans (MCC 6012).",
        "increasing",
        "PB22",
        "High share of payments going to loan repayments over the year",
        "no spending in the last 12 months",
    ),
    Feature(
        "pb_discretionary_share_3m",
        "payment_behaviour",
        _ratio("pb.discr_3m", "pb.n_3m"),
        "Share of outgoing payments of the last 3 months that are discretionary (restaurants "
        "5812, clothing 5651, electronics 5732, department stores 5311); households under "
        "strain cut these first.",
        "decreasing",
        "PB25",
        "Little discretionary spending recently",
        "no spending in the last 3 months",
    ),
    Feature(
        "pb_night_share_12m",
        "payment_behaviour",
        _ratio("pb.night_12m", "pb.n_12m"),
        "Share of outgoing payments of the last 12 months made between 00:00 and 05:59 UTC.",
        "increasing",
        "PB23",
        "High share of late-night spending over the year",
        "no spending in the last 12 months",
    ),
    Feature(
        "pb_risky_share_shift",
        "payment_behaviour",
        f"{_ratio('pb.risky_3m', 'pb.n_3m')} - {_ratio('pb.risky_base', 'pb.n_base')}",
        "Share of cash-like and gambling payments in the last 3 months minus that share "
        "4–12 months back.",
        "increasing",
        "PB13",
        "Shift towards cash-like and high-risk spending",
        "no payments in one of the periods",
    ),
    Feature(
        "pb_night_share_6m",
        "payment_behaviour",
        _ratio("pb.night_6m", "pb.n_6m"),
        "Share of outgoing payments of the last 6 months made between 00:00 and 05:59 UTC.",
        "increasing",
        "PB14",
        "High share of late-night spending",
        "no spending in the last 6 months",
    ),
    Feature(
        "pb_night_share_shift",
        "payment_behaviour",
        f"{_ratio('pb.night_3m', 'pb.n_3m')} - {_ratio('pb.night_base', 'pb.n_base')}",
        "Late-night share of the last 3 months minus that share 4–12 months back.",
        "increasing",
        "PB15",
        "More late-night spending than usual",
        "no payments in one of the periods",
    ),
    Feature(
        "pb_days_since_last_activity",
        "payment_behaviour",
        "date_diff('day', pb.last_day, DATE '{D}')",
        "Days from the last payment transaction (within 12 months) to the as-of date.",
        "increasing",
        "PB16",
        "No recent payment activity",
        "no payment data",
    ),
    Feature(
        "pb_inflow_to_outflow_3m",
        "payment_behaviour",
        _ratio("pb.inc_3m", "pb.out_3m"),
        "Income-like inflows over spending in the last 3 months.",
        "decreasing",
        "PB17",
        "Spending is high relative to income-like inflows",
        "no spending in the last 3 months",
    ),
)

# Steps joined to the population in the final SELECT, by the alias the features use.
JOINS: tuple[str, ...] = ("cf", "fur", "pb", "iq")


def feature_names() -> list[str]:
    return [f.name for f in FEATURES]


def by_name() -> dict[str, Feature]:
    return {f.name: f for f in FEATURES}


def feature_set_hash() -> str:
    """A short hash of every step and feature: features computed by other definitions differ."""
    h = hashlib.sha256()
    for s in STEPS:
        h.update(f"{s.name}\0{s.sql}\0".encode())
    for f in FEATURES:
        h.update(f"{f.name}\0{f.expr}\0{f.risk}\0".encode())
    return h.hexdigest()[:16]


__all__ = [
    "FAMILIES",
    "FEATURES",
    "JOINS",
    "STEPS",
    "Feature",
    "Step",
    "by_name",
    "feature_names",
    "feature_set_hash",
]
