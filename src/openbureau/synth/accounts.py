"""Credit accounts and their month-by-month life, driven by their holders' repayment chain.

The book holds every account as parallel arrays. Each simulated month is one vectorised
step over all open accounts: utilisation drifts towards each holder's habits (and up under
stress), instalments amortise, and the holder's arrears episode (from ``dynamics``) lands
on the accounts the holder chooses not to pay — rolling, curing or charging off together.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import numpy.typing as npt

from openbureau.synth.config import SynthConfig
from openbureau.synth.dynamics import CHARGE_OFF, Chain
from openbureau.synth.noise import FURNISHERS, Captured, capture
from openbureau.synth.population import MEDIAN_INCOME, NEVER, People

CREDIT_CARD, PAY_LATER, INSTALMENT = 0, 1, 2
PRODUCTS = np.array(["credit_card", "pay_later", "instalment_loan"], dtype=object)
BANKCARD, MICROLOAN, PAYPLAT = (FURNISHERS.index(f) for f in ("bankcard", "microloan", "payplat"))

# Status codes of the furnishing format, by index.
STATUSES = np.array(
    ["current", "dpd30", "dpd60", "dpd90", "dpd120", "charged_off", "collection", "closed", "paid"],
    dtype=object,
)
ST_CURRENT, ST_CHARGED_OFF, ST_COLLECTION, ST_CLOSED, ST_PAID = 0, 5, 6, 7, 8

MONTHLY_RATE = {CREDIT_CARD: 0.015, PAY_LATER: 0.012, INSTALMENT: 0.02}
LATE_FEE = 5_000  # cents


@dataclass
class Book:
    """All accounts, as growable parallel arrays (money in cents)."""

    person: npt.NDArray[np.int32] = field(default_factory=lambda: np.empty(0, np.int32))
    furnisher: npt.NDArray[np.int8] = field(default_factory=lambda: np.empty(0, np.int8))
    product: npt.NDArray[np.int8] = field(default_factory=lambda: np.empty(0, np.int8))
    seq: npt.NDArray[np.int64] = field(default_factory=lambda: np.empty(0, np.int64))
    open_month: npt.NDArray[np.int16] = field(default_factory=lambda: np.empty(0, np.int16))
    open_day: npt.NDArray[np.int8] = field(default_factory=lambda: np.empty(0, np.int8))
    end_month: npt.NDArray[np.int16] = field(default_factory=lambda: np.empty(0, np.int16))
    primary: npt.NDArray[np.bool_] = field(default_factory=lambda: np.empty(0, np.bool_))
    limit: npt.NDArray[np.int64] = field(default_factory=lambda: np.empty(0, np.int64))
    original: npt.NDArray[np.int64] = field(default_factory=lambda: np.empty(0, np.int64))
    term: npt.NDArray[np.int16] = field(default_factory=lambda: np.empty(0, np.int16))
    instalment: npt.NDArray[np.int64] = field(default_factory=lambda: np.empty(0, np.int64))
    paid_count: npt.NDArray[np.int16] = field(default_factory=lambda: np.empty(0, np.int16))
    balance: npt.NDArray[np.int64] = field(default_factory=lambda: np.empty(0, np.int64))
    arrears: npt.NDArray[np.int64] = field(default_factory=lambda: np.empty(0, np.int64))
    util: npt.NDArray[np.float32] = field(default_factory=lambda: np.empty(0, np.float32))
    util_target: npt.NDArray[np.float32] = field(default_factory=lambda: np.empty(0, np.float32))
    transactor: npt.NDArray[np.bool_] = field(default_factory=lambda: np.empty(0, np.bool_))
    bucket: npt.NDArray[np.int8] = field(default_factory=lambda: np.empty(0, np.int8))
    affected: npt.NDArray[np.bool_] = field(default_factory=lambda: np.empty(0, np.bool_))
    charged_off: npt.NDArray[np.int16] = field(default_factory=lambda: np.empty(0, np.int16))
    collection: npt.NDArray[np.int16] = field(default_factory=lambda: np.empty(0, np.int16))
    # identity as captured at opening
    nid_state: npt.NDArray[np.int8] = field(default_factory=lambda: np.empty(0, np.int8))
    nid_override: npt.NDArray[np.object_] = field(default_factory=lambda: np.empty(0, object))
    name_noise: npt.NDArray[np.int8] = field(default_factory=lambda: np.empty(0, np.int8))
    name_override: npt.NDArray[np.object_] = field(default_factory=lambda: np.empty(0, object))
    dob_noise: npt.NDArray[np.int8] = field(default_factory=lambda: np.empty(0, np.int8))
    dob_days: npt.NDArray[np.int32] = field(default_factory=lambda: np.empty(0, np.int32))
    phone_noise: npt.NDArray[np.int8] = field(default_factory=lambda: np.empty(0, np.int8))
    phone: npt.NDArray[np.int64] = field(default_factory=lambda: np.empty(0, np.int64))
    address_version: npt.NDArray[np.int8] = field(default_factory=lambda: np.empty(0, np.int8))

    def __len__(self) -> int:
        return int(self.person.shape[0])

    def extend(self, columns: dict[str, npt.NDArray[np.generic]]) -> None:
        k = next(iter(columns.values())).shape[0]
        for f in fields(self):
            current = getattr(self, f.name)
            new = columns.get(f.name)
            if new is None:
                new = _default(f.name, k, current.dtype)
            setattr(self, f.name, np.concatenate([current, new.astype(current.dtype, copy=False)]))


def _default(name: str, k: int, dtype: np.dtype[np.generic]) -> npt.NDArray[np.generic]:
    if name in {"end_month", "charged_off", "collection"}:
        return np.full(k, NEVER, dtype=dtype)
    if name in {"nid_override", "name_override"}:
        return np.full(k, None, dtype=object)
    return np.zeros(k, dtype=dtype)


@dataclass
class MonthRecords:
    """The account records one month produces (indices into the book plus reported values)."""

    account: npt.NDArray[np.int64]
    balance: npt.NDArray[np.int64]
    amount_due: npt.NDArray[np.int64]
    amount_paid: npt.NDArray[np.int64]
    days_past_due: npt.NDArray[np.int16]
    status: npt.NDArray[np.int8]
    limit: npt.NDArray[np.int64]


class Simulator:
    """Runs the book month by month against the people's chain."""

    def __init__(
        self,
        config: SynthConfig,
        people: People,
        chain: Chain,
        rng: np.random.Generator,
        total_months: int,
    ) -> None:
        self.config = config
        self.people = people
        self.chain = chain
        self.rng = rng
        self.total_months = total_months
        self.book = Book()
        self._next_seq = np.zeros(len(FURNISHERS), dtype=np.int64)
        self._has_microloan = np.zeros(people.n, dtype=bool)
        self._had_charge_off = np.zeros(people.n, dtype=bool)
        self._risk = people.risk
        self._income_factor = (people.income / MEDIAN_INCOME).astype(np.float32)
        self.payplat_user = np.zeros(people.n, dtype=bool)
        self.payplat_join = np.full(people.n, NEVER, dtype=np.int16)
        self._month = 0
        self._open_initial_book()

    # -- opening accounts ---------------------------------------------------------------
    def _open(
        self,
        furnisher: int,
        product: int,
        persons: npt.NDArray[np.int32],
        months: npt.NDArray[np.int16],
        **columns: npt.NDArray[np.generic],
    ) -> None:
        if persons.size == 0:
            return
        rng, p = self.rng, self.people
        k = persons.shape[0]
        seq = self._next_seq[furnisher] + 1 + np.arange(k, dtype=np.int64)
        self._next_seq[furnisher] += k
        captured: Captured = capture(
            rng,
            FURNISHERS[furnisher],
            self.config.noise[FURNISHERS[furnisher]],
            persons,
            np.maximum(months, 0).astype(np.int16),
            national_id=p.national_id,
            surname=p.surname,
            given_syllables=p.given_syllables,
            birth_days=p.birth_days,
            phone=p.phone,
            new_phone=p.new_phone,
            phone_change_month=p.phone_change_month,
            move_month=p.move_month,
        )
        risk = self._risk[persons]
        base = {
            "person": persons,
            "furnisher": np.full(k, furnisher, np.int8),
            "product": np.full(k, product, np.int8),
            "seq": seq,
            "open_month": months,
            "open_day": rng.integers(1, 29, k).astype(np.int8),
            # habits: riskier people run higher utilisation and rarely pay in full
            "util_target": (1 / (1 + np.exp(-(-1.3 + 0.9 * risk + rng.normal(0, 0.7, k))))).astype(
                np.float32
            ),
            "transactor": rng.random(k) < 1 / (1 + np.exp(-(-0.4 - 1.0 * risk))),
            **{f.name: getattr(captured, f.name) for f in fields(captured)},
        }
        base["util"] = (
            (base["util_target"] * rng.uniform(0.5, 1.3, k)).clip(0, 1).astype(np.float32)
        )
        base.update(columns)
        self.book.extend(base)

    def _revolving_limits(
        self, persons: npt.NDArray[np.int32], product: int
    ) -> npt.NDArray[np.int64]:
        k = persons.shape[0]
        if product == CREDIT_CARD:
            median, spread, power = 20_000.0, 0.6, 0.8
        else:
            median, spread, power = 3_000.0, 0.7, 0.5
        yuan = (
            median
            * self._income_factor[persons] ** power
            * np.exp(spread * self.rng.normal(size=k) - 0.25 * self._risk[persons])
        )
        cents: npt.NDArray[np.int64] = (
            (np.round(yuan / 100) * 10_000).clip(50_000, None).astype(np.int64)
        )
        return cents

    def _loans(
        self,
        persons: npt.NDArray[np.int32],
        months: npt.NDArray[np.int16],
        paid_already: npt.NDArray[np.int16] | None = None,
    ) -> None:
        rng = self.rng
        k = persons.shape[0]
        amount = (
            np.round(
                np.exp(rng.normal(np.log(5_000), 0.7, k))
                * self._income_factor[persons] ** 0.3
                / 100
            )
            * 100
        ).clip(500, 50_000)
        term = rng.choice(np.array([6, 12, 24], np.int16), k, p=[0.4, 0.45, 0.15])
        r = MONTHLY_RATE[INSTALMENT]
        instalment = np.ceil(amount * r / (1 - (1 + r) ** -term.astype(float)) * 100).astype(
            np.int64
        )
        done = np.zeros(k, np.int16) if paid_already is None else np.minimum(paid_already, term - 1)
        # outstanding principal after ``done`` instalments
        balance = (
            amount * 100 * (1 + r) ** done - instalment * (((1 + r) ** done - 1) / r)
        ).round()
        self._open(
            MICROLOAN,
            INSTALMENT,
            persons,
            months,
            original=(amount * 100).astype(np.int64),
            term=term,
            instalment=instalment,
            paid_count=done.astype(np.int16),
            balance=balance.astype(np.int64),
        )
        self._has_microloan[persons] = True

    def _open_initial_book(self) -> None:
        rng, p, cfg = self.rng, self.people, self.config
        n = p.n
        horizon = self.total_months
        age = (np.datetime64(cfg.first_month) - p.birth_days.astype("datetime64[D]")).astype(
            np.int64
        ) / 365.25
        # Payment platform: younger people join more; one in six joins during the simulation.
        young = np.clip((60 - age) / 40, 0.3, 1.2)
        self.payplat_user = rng.random(n) < np.clip(cfg.payplat_share * young, 0, 0.98)
        late = rng.random(n) < 0.15
        self.payplat_join = np.where(
            self.payplat_user,
            np.where(late, rng.integers(1, horizon, n), -rng.integers(0, 72, n)),
            NEVER,
        ).astype(np.int16)

        # Cards: more likely for safer, richer people; some hold two or three.
        log_income = np.log(self._income_factor)
        has_card = rng.random(n) < 1 / (1 + np.exp(-(0.1 - 1.0 * self._risk + 0.6 * log_income)))
        # Everyone keeps at least one revolving line from before the first month: a credit
        # file always has an account on which a missed payment shows.
        has_early_line = has_card | (self.payplat_user & (self.payplat_join <= 0))
        needs_line = ~has_early_line
        platform_fix = needs_line & self.payplat_user
        self.payplat_join[platform_fix] = -rng.integers(0, 24, int(platform_fix.sum()))
        has_card |= needs_line & ~self.payplat_user
        holders = np.nonzero(has_card)[0].astype(np.int32)
        extra = rng.poisson(0.35, holders.size).clip(0, 2)
        card_persons = np.concatenate([holders, np.repeat(holders, extra)]).astype(np.int32)
        card_open = -rng.integers(0, 120, card_persons.size).astype(np.int16)
        primary = np.zeros(card_persons.size, dtype=bool)
        primary[: holders.size] = True
        self._open(
            BANKCARD,
            CREDIT_CARD,
            card_persons,
            card_open,
            limit=self._revolving_limits(card_persons, CREDIT_CARD),
            primary=primary,
        )
        # New cards during the simulation, at about 0.4 % a month, more for safer people.
        rate = 0.004 * np.exp(-0.4 * self._risk)
        count = rng.poisson(rate * horizon)
        new_persons = np.repeat(np.arange(n, dtype=np.int32), count)
        new_open = rng.integers(1, horizon, new_persons.size).astype(np.int16)
        self._open(
            BANKCARD,
            CREDIT_CARD,
            new_persons,
            new_open,
            limit=self._revolving_limits(new_persons, CREDIT_CARD),
        )

        users = np.nonzero(self.payplat_user)[0].astype(np.int32)
        self._open(
            PAYPLAT,
            PAY_LATER,
            users,
            self.payplat_join[users],
            limit=self._revolving_limits(users, PAY_LATER),
            primary=~has_card[users],
        )
        # Pay-later balances start near zero for people who just joined.
        book = self.book
        book.balance = np.round(book.util * book.limit).astype(np.int64)
        book.balance[book.product == INSTALMENT] = 0

        # Microloans already running at the start.
        p_loan = 0.05 * np.exp(0.5 * self._risk)
        borrowers = np.nonzero(rng.random(n) < p_loan)[0].astype(np.int32)
        paid = rng.integers(0, 12, borrowers.size).astype(np.int16)
        self._loans(borrowers, (-paid).astype(np.int16), paid_already=paid)

    # -- one month ------------------------------------------------------------------------
    def step(self, u: int) -> MonthRecords:
        rng, book, chain = self.rng, self.book, self.chain
        prev_a = chain.arrears[u - 1] if u > 0 else np.zeros(self.people.n, np.int8)
        a_now = chain.arrears[u]
        s_now = chain.stressed[u]

        self._new_microloans(u, prev_a, s_now)
        live = (book.open_month <= u) & (book.end_month >= u)
        alive = live & (book.charged_off == NEVER)  # can still be paid or missed
        idx = np.nonzero(alive)[0]
        person = book.person[idx]
        pa, pn = prev_a[person], a_now[person]

        # Arrears episodes: which accounts carry the missed payments.
        starting = (pa == 0) & (pn >= 1)
        self._month = u
        if starting.any():
            self._choose_affected(idx[starting])
        cured = (pa >= 1) & (pn == 0) & (pa < CHARGE_OFF)
        book.affected[idx[cured]] = False
        book.arrears[idx[cured]] = 0
        aff = book.affected[idx]
        book.bucket[idx] = np.where(aff, np.minimum(pn, 4), 0).astype(np.int8)
        charging = aff & (pn == CHARGE_OFF)

        n = idx.size
        product = book.product[idx]
        revolving = product != INSTALMENT
        stress = s_now[person].astype(np.float32)
        roll = aff & (pn > pa)
        stay = aff & (pn == pa)

        # Utilisation: drift to the holder's habit, pushed up by stress.
        util = book.util[idx]
        util = (
            util
            + 0.35 * (book.util_target[idx] + 0.25 * stress - util)
            + rng.normal(0, 0.06, n).astype(np.float32)
        ).clip(0, 1)
        book.util[idx] = util
        limit = book.limit[idx]
        rate = np.where(
            product == CREDIT_CARD,
            MONTHLY_RATE[CREDIT_CARD],
            np.where(product == PAY_LATER, MONTHLY_RATE[PAY_LATER], MONTHLY_RATE[INSTALMENT]),
        )
        fresh = book.open_month[idx] == u  # first payment falls due next month
        prev = book.balance[idx].astype(np.float64)  # last statement balance
        # A missed payment needs something owed: people in distress draw on their lines.
        drawn = aff & revolving & (prev < 0.2 * limit)
        prev[drawn] = (0.5 + 0.4 * util[drawn]) * limit[drawn]
        grown = prev * (1 + rate)
        minimum = np.where(
            revolving,
            np.minimum(prev, np.maximum(10_000, 0.1 * prev)),
            np.minimum(book.instalment[idx], grown),
        ).round()
        minimum[fresh] = 0
        arrears_amt = book.arrears[idx].astype(np.float64)
        due = minimum + arrears_amt
        full_payer = book.transactor[idx] & ~aff
        revolver_pay = due + rng.random(n) ** 2 * np.maximum(prev - due, 0)
        paid = np.where(revolving, np.where(full_payer, prev, revolver_pay), minimum)
        partial = rng.random(n) < 0.3
        paid = np.where(roll, np.where(partial, np.floor(rng.random(n) * 0.5 * minimum), 0), paid)
        paid = np.where(stay, minimum, paid)
        paid = np.where(cured, due, paid)
        # Early payoff of instalment loans now and then.
        prepay = (~revolving) & ~aff & ~fresh & (rng.random(n) < 0.01)
        paid = np.where(prepay, grown, paid)
        paid = np.minimum(paid, np.where(revolving, prev, grown)).round()
        fee = np.where(roll | stay, LATE_FEE, 0)
        carried = np.where(revolving, (prev - paid) * (1 + rate), grown - paid) + fee
        carried[fresh & ~revolving] = prev[fresh & ~revolving]
        # Revolving statement: carried balance plus new spending up to the usual utilisation;
        # a line in arrears is blocked, so nothing new is spent on it.
        end_balance = np.where(
            revolving & ~aff, np.maximum(np.round(util * limit), carried), carried
        )
        end_balance = np.where(revolving, np.minimum(end_balance, 1.3 * limit), end_balance)
        end_balance = end_balance.clip(0, None).round()
        book.arrears[idx] = np.where(
            roll, arrears_amt + minimum - paid, np.where(cured, 0, arrears_amt)
        ).astype(np.int64)
        book.balance[idx] = end_balance.astype(np.int64)
        book.paid_count[idx] += (~revolving & ~aff & ~fresh).astype(np.int16)

        # Statuses.
        status = book.bucket[idx].astype(np.int8).copy()
        paid_off = (
            (~revolving)
            & ~aff
            & ~fresh
            & ((book.paid_count[idx] >= book.term[idx]) | (end_balance <= 0))
        )
        status[paid_off] = ST_PAID
        book.balance[idx[paid_off]] = 0
        book.end_month[idx[paid_off]] = u
        closable = (
            revolving & ~book.primary[idx] & ~aff & (end_balance == 0) & (book.furnisher[idx] == 0)
        )
        closing = closable & (rng.random(n) < 0.004)
        status[closing] = ST_CLOSED
        book.end_month[idx[closing]] = u
        status[charging] = ST_CHARGED_OFF
        co_idx = idx[charging]
        book.charged_off[co_idx] = u
        book.collection[co_idx] = u + rng.integers(2, 7, co_idx.size)
        # The debt is sold a few months later; the furnisher reports it for a year, then stops.
        book.end_month[co_idx] = book.collection[co_idx] + 12
        book.affected[co_idx] = False
        self._had_charge_off[book.person[co_idx]] = True

        dpd = np.zeros(n, dtype=np.int16)
        b = book.bucket[idx]
        dpd = np.where(b >= 1, 30 * b + rng.integers(0, 30, n), dpd).astype(np.int16)
        late_but_current = (b == 0) & (
            rng.random(n) < 0.02 + 0.12 * stress + 0.02 * (self._risk[person] > 1)
        )
        dpd = np.where(late_but_current & (status == ST_CURRENT), rng.integers(1, 30, n), dpd)
        dpd = np.where(charging, 150 + rng.integers(0, 30, n), dpd).astype(np.int16)
        due = np.where(np.isin(status, (ST_PAID, ST_CLOSED)), 0, due)
        dpd[np.isin(status, (ST_PAID, ST_CLOSED))] = 0

        # Accounts charged off in earlier months keep being reported, then go to collection.
        old = live & (book.charged_off < u)
        oidx = np.nonzero(old)[0]
        o_bal = book.balance[oidx].astype(np.float64)
        recovery = rng.random(oidx.size) < 0.05
        o_paid = np.where(recovery, np.round(0.1 * o_bal), 0)
        book.balance[oidx] = (o_bal - o_paid).astype(np.int64)
        o_status = np.where(book.collection[oidx] <= u, ST_COLLECTION, ST_CHARGED_OFF).astype(
            np.int8
        )
        o_dpd = np.minimum(150 + 30 * (u - book.charged_off[oidx]), 9_999).astype(np.int16)

        # Records in account order (= each furnisher's account-number order): both index
        # sets are sorted and disjoint, so a running count places every record (no sort).
        reported = np.zeros(len(book), dtype=np.int64)
        reported[idx] = 1
        reported[oidx] = 1
        rank = np.cumsum(reported) - 1
        pos, opos = rank[idx], rank[oidx]
        total = idx.size + oidx.size

        def merged(a: npt.NDArray[Any], b: npt.NDArray[Any]) -> npt.NDArray[Any]:
            out = np.empty(total, dtype=np.result_type(a, b))
            out[pos], out[opos] = a, b
            return out

        return MonthRecords(
            account=merged(idx.astype(np.int64), oidx.astype(np.int64)),
            balance=merged(book.balance[idx], book.balance[oidx]),
            amount_due=merged(due.astype(np.int64), book.balance[oidx]),
            amount_paid=merged(paid.astype(np.int64), o_paid.astype(np.int64)),
            days_past_due=merged(dpd, o_dpd),
            status=merged(status, o_status),
            limit=merged(book.limit[idx], book.limit[oidx]),
        )

    def _choose_affected(self, candidates: npt.NDArray[np.int64]) -> None:
        """For each person starting an episode: the account they skip first, and some others."""
        rng, book = self.rng, self.book
        weight = np.where(book.product[candidates] == CREDIT_CARD, 1.0, 1.5)
        # People skip a payment that is actually due: lines in use, loans past their first month.
        weight = weight * np.where(book.balance[candidates] > 10_000, 1.0, 0.05)
        weight = weight * np.where(book.open_month[candidates] == self._month, 0.001, 1.0)
        key = rng.random(candidates.size) * weight
        persons = book.person[candidates]
        order = np.lexsort((-key, persons))
        first = np.ones(order.size, dtype=bool)
        first[1:] = persons[order][1:] != persons[order][:-1]
        chosen = first | (rng.random(order.size) < 0.3)
        book.affected[candidates[order[chosen]]] = True

    def _new_microloans(
        self, u: int, prev_a: npt.NDArray[np.int8], s_now: npt.NDArray[np.int8]
    ) -> None:
        rng, book, n = self.rng, self.book, self.people.n
        # Which people still hold a running microloan, or any account that can be missed.
        live = (book.open_month <= u) & (book.end_month >= u) & (book.charged_off == NEVER)
        holds_loan = np.zeros(n, dtype=bool)
        holds_loan[book.person[live & (book.product == INSTALMENT)]] = True
        holds_any = np.zeros(n, dtype=bool)
        holds_any[book.person[live]] = True
        self._has_microloan = holds_loan
        hazard = 1 / (
            1 + np.exp(-(-4.6 + 0.6 * self._risk + 1.2 * s_now + 0.8 * self._had_charge_off))
        )
        want = ~holds_loan & (rng.random(n) < hazard) & (prev_a < 2)
        # A charged-off borrower with nothing left open finds a lender of last resort.
        want |= ~holds_any
        persons = np.nonzero(want)[0].astype(np.int32)
        self._loans(persons, np.full(persons.size, u, np.int16))


__all__ = [
    "BANKCARD",
    "CREDIT_CARD",
    "INSTALMENT",
    "MICROLOAN",
    "PAYPLAT",
    "PAY_LATER",
    "PRODUCTS",
    "STATUSES",
    "Book",
    "MonthRecords",
    "Simulator",
]
