"""The latent repayment process each person follows, and the exact truth derived from it.

Every person carries two hidden states month by month:

* ``stressed`` (0/1): an income shock such as a job loss. People enter it more easily when
  their latent credit quality is low or the economy is weak, and leave it over months.
* ``arrears`` (0..5): months behind on payments. From current (0) a missed payment rolls to
  1 (30 days), 2 (60), 3 (90), 4 (120+) and 5 (charged off, after which the person starts
  again from 0 with the loss on file). Each month a person in arrears may pay everything
  (cure), pay only the minimum (stay) or miss again (roll) — with probabilities that depend
  on quality, stress and depth, so roll rates worsen with depth as they do in real books.

Accounts, balances and payment transactions are all driven by these states (see
``accounts.py`` and ``payments.py``), so risk signals *emerge* in the furnished data; nothing
is painted on. Because the process is a known Markov chain, the true probability of reaching
90 days past due within the next 12 months is computed exactly by backward recursion — the
ceiling against which any model is measured.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

F32 = npt.NDArray[np.float32]
I8 = npt.NDArray[np.int8]

BAD_ARREARS = 3  # 90 days past due
CHARGE_OFF = 5
HORIZON = 12

# Coefficients of the chain; "risk" is a per-person index, higher = riskier (see Chain.risk).
_ENTER_STRESS = (-3.9, 0.8, 1.0)  # intercept, risk, macro
_LEAVE_STRESS = (-1.0, -0.5)  # intercept, risk
# Per arrears depth 0..4: roll (intercept, risk, stress), then cure (intercept, risk, stress)
_DEPTH = np.array(
    [
        (-5.4, 1.05, 2.3, 0.0, 0.0, 0.0),
        (-1.5, 0.55, 1.2, 0.7, -0.5, -1.0),
        (-0.5, 0.55, 1.2, -0.5, -0.5, -1.0),
        (0.8, 0.4, 1.0, -1.8, -0.5, -1.0),
        (1.6, 0.4, 1.0, -2.6, -0.5, -1.0),
    ],
    dtype=np.float32,
)
_ROLL_MACRO = 0.5


def _sigmoid(x: F32) -> F32:
    return (1.0 / (1.0 + np.exp(-x))).astype(np.float32, copy=False)


def macro_path(total_months: int, rng: np.random.Generator) -> F32:
    """A business cycle: a slow wave with a random phase, plus small monthly noise."""
    phase = rng.uniform(0, 2 * np.pi)
    u = np.arange(total_months, dtype=np.float32)
    wave = 0.35 * np.sin(2 * np.pi * u / 44.0 + phase)
    path: F32 = (wave + rng.normal(0, 0.05, total_months)).astype(np.float32)
    return path


@dataclass
class Chain:
    """Simulated states for ``months`` months of ``n`` people (arrays are month-major)."""

    risk: F32  # (n,)
    macro: F32  # (months,)
    stressed: I8  # (months, n)
    arrears: I8  # (months, n)

    @property
    def months(self) -> int:
        return int(self.stressed.shape[0])


def stress_probs(risk: F32, macro_u: float) -> tuple[F32, F32]:
    """P(enter stress), P(leave stress) for month ``u``."""
    enter = _sigmoid(_ENTER_STRESS[0] + _ENTER_STRESS[1] * risk + _ENTER_STRESS[2] * macro_u)
    leave = _sigmoid(_LEAVE_STRESS[0] + _LEAVE_STRESS[1] * risk)
    return enter, leave


def arrears_probs(risk: F32, stressed: int | I8, depth: int, macro_u: float) -> tuple[F32, F32]:
    """P(roll one month deeper), P(cure to current) for people at ``depth`` this month."""
    c = _DEPTH[depth]
    roll_logit = c[0] + c[1] * risk + c[2] * stressed + _ROLL_MACRO * macro_u
    if depth == 0:
        return _sigmoid(roll_logit.astype(np.float32)), np.zeros_like(risk)
    cure_logit = c[3] + c[4] * risk + c[5] * stressed
    e_roll = np.exp(roll_logit)
    e_cure = np.exp(cure_logit)
    denom = 1.0 + e_roll + e_cure
    return (e_roll / denom).astype(np.float32), (e_cure / denom).astype(np.float32)


def simulate_chain(risk: F32, months: int, rng: np.random.Generator) -> Chain:
    """Run the chain forward for every person at once (one vectorised step per month)."""
    n = risk.shape[0]
    macro = macro_path(months, rng)
    stressed = np.zeros((months, n), dtype=np.int8)
    arrears = np.zeros((months, n), dtype=np.int8)
    enter0, leave0 = stress_probs(risk, float(macro[0]))
    stressed[0] = rng.random(n, dtype=np.float32) < enter0 / (enter0 + leave0)
    for u in range(1, months):
        prev_s, prev_a = stressed[u - 1], arrears[u - 1]
        enter, leave = stress_probs(risk, float(macro[u]))
        draw: F32 = np.asarray(rng.random(n, dtype=np.float32))
        s = np.where(prev_s == 1, draw >= leave, draw < enter).astype(np.int8)
        draw = np.asarray(rng.random(n, dtype=np.float32))
        a = prev_a.copy()
        a[prev_a == CHARGE_OFF] = 0
        for depth in range(CHARGE_OFF):
            at = prev_a == depth
            if not at.any():
                continue
            roll, cure = arrears_probs(risk[at], s[at], depth, float(macro[u]))
            d = draw[at]
            a[at] = np.where(d < roll, depth + 1, np.where(d < roll + cure, 0, depth))
        stressed[u], arrears[u] = s, a
    return Chain(risk=risk, macro=macro, stressed=stressed, arrears=arrears)


def true_pd(chain: Chain, start: int, stop: int) -> F32:
    """Exact P(arrears reaches 90 days within the next 12 months) for months ``start..stop-1``.

    Backward recursion over the (stressed, arrears<3) states, with the month-specific macro
    factor; needs ``stop - 1 + 12 < chain.months``. Returns (stop-start, n) float32, NaN where
    the person is already 90+ days past due. All windows that share a month are advanced
    together, so each month's transition probabilities are computed once.
    """
    n = chain.risk.shape[0]
    if stop - 1 + HORIZON >= chain.months:
        raise ValueError("chain too short for the 12-month horizon")
    risk = chain.risk
    # value[w][s, a]: P(hit within the remaining steps of window w | state (s, a))
    values: dict[int, F32] = {}
    out = np.full((stop - start, n), np.nan, dtype=np.float32)
    for u in range(stop - 1 + HORIZON, start, -1):
        # windows t with t < u <= t + 12 take their step for month u now
        active = [t for t in range(max(start, u - HORIZON), min(stop, u))]
        if not active:
            continue
        enter, leave = stress_probs(risk, float(chain.macro[u]))
        move = {}
        for s_next in (0, 1):
            for depth in range(BAD_ARREARS):
                move[s_next, depth] = arrears_probs(risk, s_next, depth, float(chain.macro[u]))
        for t in active:
            v = values.get(t)
            if v is None:
                v = np.zeros((2, BAD_ARREARS, n), dtype=np.float32)
            after = np.empty_like(v)  # value after the stress step, before the arrears step
            for s_next in (0, 1):
                for depth in range(BAD_ARREARS):
                    roll, cure = move[s_next, depth]
                    deeper = 1.0 if depth + 1 == BAD_ARREARS else v[s_next, depth + 1]
                    stay = 1.0 - roll - cure
                    after[s_next, depth] = (
                        roll * deeper + cure * v[s_next, 0] + stay * v[s_next, depth]
                    )
            new = np.empty_like(v)
            new[0] = (1.0 - enter) * after[0] + enter * after[1]
            new[1] = leave * after[0] + (1.0 - leave) * after[1]
            values[t] = new
        # window u-1 is complete once month u is folded in
        done = u - 1
        if start <= done < stop and done in values:
            v = values.pop(done)
            s_now = chain.stressed[done].astype(np.intp)
            a_now = chain.arrears[done].astype(np.intp)
            ok = a_now < BAD_ARREARS
            idx = np.nonzero(ok)[0]
            out[done - start, idx] = v[s_now[idx], a_now[idx], idx]
    return out


def realised_bad(
    chain: Chain, start: int, stop: int
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """(bad_now, bad_12m) for months ``start..stop-1``: 90+ now, and a new entry into 90+
    days past due within the next 12 months."""
    a = chain.arrears
    entered = np.zeros_like(a, dtype=np.bool_)
    entered[1:] = (a[1:] == BAD_ARREARS) & (a[:-1] == BAD_ARREARS - 1)
    # cumulative count of entries lets each 12-month window be one subtraction
    csum = np.cumsum(entered, axis=0, dtype=np.int32)
    rows = np.arange(start, stop)
    bad_12m = (csum[rows + HORIZON] - csum[rows]) > 0
    bad_now = a[start:stop] >= BAD_ARREARS
    return bad_now, bad_12m


__all__ = [
    "BAD_ARREARS",
    "CHARGE_OFF",
    "HORIZON",
    "Chain",
    "arrears_probs",
    "macro_path",
    "realised_bad",
    "simulate_chain",
    "stress_probs",
    "true_pd",
]
