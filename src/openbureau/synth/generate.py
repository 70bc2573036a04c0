"""``generate``: a whole synthetic population — furnisher feeds and ground truth — in one call."""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sklearn.metrics import roc_auc_score

from openbureau.errors import SynthError
from openbureau.synth.accounts import PRODUCTS, Simulator
from openbureau.synth.config import SynthConfig
from openbureau.synth.dynamics import HORIZON, realised_bad, simulate_chain, true_pd
from openbureau.synth.feeds import FURNISHER_INFO, FeedWriter
from openbureau.synth.noise import DOB_NOISE, FURNISHERS, NAME_NOISE, NID_STATES, PHONE_NOISE
from openbureau.synth.payments import Habits, month_transactions
from openbureau.synth.population import GROUPS, People, generate_people
from openbureau.synth.reference import PROVINCES, SURNAMES

logger = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class SynthSummary:
    out: Path
    people: int
    furnishers: int
    months: int
    files: int
    account_records: int
    payment_records: int
    bad_rate: float  # share of person-months followed by 90+ days past due within 12 months
    truth_auc: float  # AUC of the true PD against realised outcomes: the ceiling for models

    def as_dict(self) -> dict[str, object]:
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in self.__dict__.items()}


def _person_ids(n: int) -> pa.Array:
    return pc.binary_join_element_wise(
        "P",
        pc.utf8_lpad(pc.cast(pa.array(np.arange(1, n + 1), pa.int64()), pa.string()), 8, "0"),
        "",
    )


def generate(config: SynthConfig, out: Path, progress: Progress | None = None) -> SynthSummary:
    """Write ``out/feeds/...`` and ``out/truth/...`` for ``config``; same config, same bytes."""
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        if not (out / "truth" / "config.json").exists():
            raise SynthError(
                f"{out} exists and is not a synthetic population; choose an empty folder"
            )
        shutil.rmtree(out)  # regenerate a previous population in place
    out.mkdir(parents=True, exist_ok=True)
    step = progress or (lambda _label, _done, _total: None)

    seeds = np.random.SeedSequence(config.seed).spawn(6)
    rng_people, rng_chain, rng_book, rng_pay, rng_feed, rng_habits = (
        np.random.default_rng(s) for s in seeds
    )
    burn = config.burn_in_months
    sim_months = burn + config.months
    chain_months = sim_months + HORIZON  # outcomes need 12 months beyond the last feed

    step("people", 0, 1)
    people = generate_people(config, rng_people, sim_months)
    chain = simulate_chain(people.risk, chain_months, rng_chain)
    step("people", 1, 1)

    sim = Simulator(config, people, chain, rng_book, sim_months)
    writer = FeedWriter(config, people, out, rng_feed)
    habits = Habits.draw(rng_habits, people.n)
    next_tx = 1
    try:
        for u in range(sim_months):
            records = sim.step(u)
            if u < burn:
                continue
            month = config.month(u - burn)
            writer.write_accounts(sim.book, records, u, month)
            users = np.nonzero(sim.payplat_user & (sim.payplat_join <= u))[0].astype(np.int32)
            tx = month_transactions(
                rng_pay,
                people,
                habits,
                users,
                chain.stressed[u],
                people.risk,
                month,
                config.transactions_per_month,
                next_tx,
            )
            next_tx += tx.size
            writer.write_payments(tx, month)
            step("months", u - burn + 1, config.months)
    finally:
        writer.close()

    step("truth", 0, 1)
    truth = out / "truth"
    truth.mkdir(exist_ok=True)
    _write_people(truth, people)
    _write_accounts_truth(truth, sim, writer)
    bad_rate, auc = _write_person_months(truth, config, chain, burn)
    (truth / "config.json").write_text(
        json.dumps(
            {
                **config.to_json(),
                "months_written": [f"{config.month(i):%Y-%m}" for i in range(config.months)],
            },
            indent=2,
            sort_keys=True,
        )
        + "\n"
    )
    (out / "furnishers.json").write_text(
        json.dumps([{"id": f, **FURNISHER_INFO[f]} for f in FURNISHERS], indent=2) + "\n"
    )
    step("truth", 1, 1)
    return SynthSummary(
        out=out,
        people=people.n,
        furnishers=len(FURNISHERS),
        months=config.months,
        files=len(writer.files),
        account_records=writer.rows["accounts"],
        payment_records=writer.rows["payments"],
        bad_rate=bad_rate,
        truth_auc=auc,
    )


def _write_people(truth: Path, people: People) -> None:
    surnames = np.array([s for s, _, _ in SURNAMES], dtype=object)
    cities = np.array([c for _, c, _, _ in PROVINCES], dtype=object)
    codes = np.array([c for c, _, _, _ in PROVINCES], dtype=object)
    given = people.given_name()
    table = pa.table(
        {
            "person_id": _person_ids(people.n),
            "national_id": pa.array(people.national_id, pa.string()),
            "surname": pa.array(surnames[people.surname], pa.string()),
            "given_name": pa.array(given, pa.string()),
            "name": pc.binary_join_element_wise(
                pa.array(surnames[people.surname], pa.string()), pa.array(given, pa.string()), " "
            ),
            "sex": pa.array(np.where(people.male, "M", "F"), pa.string()),
            "birth_date": pa.array(people.birth_days, pa.date32()),
            "phone": pc.cast(pa.array(people.phone), pa.string()),
            "region": pa.array(codes[people.province], pa.string()),
            "city": pa.array(cities[people.province], pa.string()),
            "postcode": pc.utf8_lpad(
                pc.cast(pa.array(people.address.postcode), pa.string()), 6, "0"
            ),
            "income": pa.array(people.income, pa.float32()),
            "quality": pa.array(people.quality, pa.float32()),
            "salaried": pa.array(people.salaried),
            "group": pa.array(GROUPS[people.group], pa.string()),
            "lookalike_of": pc.if_else(
                pa.array(people.lookalike_of >= 0),
                pc.take(
                    _person_ids(people.n), pa.array(np.maximum(people.lookalike_of, 0), pa.int32())
                ),
                pa.scalar(None, pa.string()),
            ),
            "moved_in_month": pa.array(
                people.move_month.astype(np.int32), pa.int32(), mask=people.move_month >= 32_000
            ),
        }
    )
    pq.write_table(table, truth / "people.parquet", compression="zstd")


def _write_accounts_truth(truth: Path, sim: Simulator, writer: FeedWriter) -> None:
    from openbureau.synth.feeds import ACCOUNT_PREFIX

    book = sim.book
    written = book.end_month >= sim.config.burn_in_months  # accounts that reach the feeds
    idx = np.nonzero(written & (book.open_month < sim.total_months))[0]
    furn = book.furnisher[idx]
    account_id = np.empty(idx.size, dtype=object)
    customer_ref = np.full(idx.size, None, dtype=object)
    for f, (prefix, width) in ACCOUNT_PREFIX.items():
        sel = furn == f
        account_id[sel] = [f"{prefix}{s:0{width}d}" for s in book.seq[idx[sel]]]
        if f in writer.customer_no:
            letter, w = ("B", 8) if FURNISHERS[f] == "bankcard" else ("U", 9)
            customer_ref[sel] = [
                f"{letter}{c:0{w}d}" for c in writer.customer_no[f][book.person[idx[sel]]]
            ]
    table = pa.table(
        {
            "furnisher_id": pa.array(np.array(FURNISHERS, dtype=object)[furn], pa.string()),
            "account_id": pa.array(account_id, pa.string()),
            "customer_ref": pa.array(customer_ref, pa.string()),
            "person_id": pc.take(_person_ids(sim.people.n), pa.array(book.person[idx], pa.int32())),
            "product": pa.array(PRODUCTS[book.product[idx]], pa.string()),
            "open_month_index": pa.array(
                (book.open_month[idx] - sim.config.burn_in_months).astype(np.int32)
            ),
            "nid_state": pa.array(NID_STATES[book.nid_state[idx]], pa.string()),
            "name_noise": pa.array(NAME_NOISE[book.name_noise[idx]], pa.string()),
            "dob_noise": pa.array(DOB_NOISE[book.dob_noise[idx]], pa.string()),
            "phone_noise": pa.array(PHONE_NOISE[book.phone_noise[idx]], pa.string()),
        }
    )
    pq.write_table(table, truth / "accounts.parquet", compression="zstd")


def _write_person_months(
    truth: Path, config: SynthConfig, chain: object, burn: int
) -> tuple[float, float]:
    from openbureau.synth.dynamics import Chain

    assert isinstance(chain, Chain)
    start, stop = burn, burn + config.months
    pd = true_pd(chain, start, stop)
    bad_now, bad_12m = realised_bad(chain, start, stop)
    n = chain.risk.shape[0]
    months = np.array([f"{config.month(i):%Y-%m}" for i in range(config.months)], dtype=object)
    eligible = ~bad_now
    bad_rate = float(bad_12m[eligible].mean())
    y, score = bad_12m[eligible], pd[eligible]
    auc = float(roc_auc_score(y, score)) if 0 < y.sum() < y.size else float("nan")
    table = pa.table(
        {
            "person_id": pa.chunked_array([_person_ids(n)] * config.months),
            "month": pa.array(np.repeat(months, n), pa.string()),
            "stressed": pa.array(chain.stressed[start:stop].ravel().astype(bool)),
            "arrears": pa.array(chain.arrears[start:stop].ravel()),
            "bad_now": pa.array(bad_now.ravel()),
            "pd_12m": pa.array(pd.ravel(), pa.float32(), from_pandas=True),
            "bad_12m": pa.array(np.where(bad_now, False, bad_12m).ravel()),
        }
    )
    table = table.set_column(
        6,
        "bad_12m",
        pc.if_else(table.column("bad_now"), pa.scalar(None, pa.bool_()), table.column("bad_12m")),
    )
    pq.write_table(table, truth / "person_months.parquet", compression="zstd")
    return bad_rate, auc


__all__ = ["SynthSummary", "generate"]
