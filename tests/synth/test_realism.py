"""The synthetic population behaves like a real national credit population, in numbers."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from openbureau.identity.national_id import is_valid
from openbureau.synth import SynthSummary
from openbureau.synth.config import DEFAULT_NOISE
from tests.synth.conftest import REALISM_CONFIG
from tests.synth.feeds import load_accounts

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def con(population: tuple[Path, SynthSummary]):  # type: ignore[no-untyped-def]
    return load_accounts(population[0])


def test_twelve_month_bad_rate_is_realistic(population: tuple[Path, SynthSummary]) -> None:
    _, summary = population
    assert 0.03 <= summary.bad_rate <= 0.12


def test_truth_pd_is_calibrated_and_discriminates(con) -> None:  # type: ignore[no-untyped-def]
    pd_, bad = (
        con.execute("SELECT pd_12m, bad_12m FROM truth_person_months WHERE NOT bad_now")
        .fetchnumpy()
        .values()
    )
    pd_, bad = np.asarray(pd_, float), np.asarray(bad, bool)
    # The true PD is exact, so it must be calibrated overall and by decile.
    se = math.sqrt(bad.mean() * (1 - bad.mean()) / bad.size)
    assert abs(pd_.mean() - bad.mean()) < 6 * se * 3  # person-months are correlated: wider band
    deciles = np.quantile(pd_, np.linspace(0, 1, 11))
    which = np.clip(np.searchsorted(deciles, pd_, side="right") - 1, 0, 9)
    for d in range(10):
        sel = which == d
        assert abs(pd_[sel].mean() - bad[sel].mean()) < 0.02 + 0.15 * pd_[sel].mean()
    auc = roc_auc_score(bad, pd_)
    print(f"\ntruth-PD AUC (the ceiling for models): {auc:.3f}")
    assert 0.80 < auc < 0.99


def test_roll_rates_worsen_with_depth(con) -> None:  # type: ignore[no-untyped-def]
    rows = con.execute("""
        WITH pairs AS (
            SELECT a.status AS s0, b.status AS s1
            FROM acc a JOIN acc b ON a.furnisher = b.furnisher AND a.account_id = b.account_id
             AND strptime(b.reporting_month, '%Y-%m') = strptime(a.reporting_month, '%Y-%m') + INTERVAL 1 MONTH)
        SELECT s0, avg(CASE WHEN (s0, s1) IN (('current','dpd30'), ('dpd30','dpd60'),
            ('dpd60','dpd90'), ('dpd90','dpd120'), ('dpd120','charged_off')) THEN 1.0 ELSE 0 END)
        FROM pairs WHERE s0 IN ('current','dpd30','dpd60','dpd90','dpd120') GROUP BY s0
    """).fetchall()
    roll = dict(rows)
    chain = [roll[s] for s in ("current", "dpd30", "dpd60", "dpd90", "dpd120")]
    print("\nroll rates current→30→60→90→120→CO:", [f"{r:.3f}" for r in chain])
    assert all(a < b for a, b in itertools.pairwise(chain))
    assert 0.002 < chain[0] < 0.03  # a few accounts in a thousand go delinquent each month
    # Cures exist: some 30-day accounts come back to current.
    cured = con.execute("""
        SELECT count(*) FROM acc a JOIN acc b ON a.furnisher = b.furnisher AND a.account_id = b.account_id
         AND strptime(b.reporting_month, '%Y-%m') = strptime(a.reporting_month, '%Y-%m') + INTERVAL 1 MONTH
        WHERE a.status = 'dpd30' AND b.status = 'current'""").fetchone()[0]
    assert cured > 0


def test_utilisation_and_balances_have_long_right_tails(con) -> None:  # type: ignore[no-untyped-def]
    (util,) = con.execute("""SELECT list(balance / credit_limit) FROM acc
        WHERE credit_limit > 0 AND status = 'current'""").fetchone()
    util = np.asarray(util)
    assert np.median(util) < util.mean()
    assert np.quantile(util, 0.99) > 3 * np.median(util)
    (bal,) = con.execute("SELECT list(balance) FROM acc WHERE balance > 0").fetchone()
    bal = np.asarray(bal)
    skew = ((bal - bal.mean()) ** 3).mean() / bal.std() ** 3
    assert skew > 1.5
    assert np.quantile(bal, 0.99) > 5 * np.median(bal)


def test_status_and_days_past_due_agree(con) -> None:  # type: ignore[no-untyped-def]
    bad = con.execute("""SELECT count(*) FROM acc WHERE
        (status = 'current' AND dpd > 29) OR (status = 'dpd30' AND dpd NOT BETWEEN 30 AND 59)
        OR (status = 'dpd60' AND dpd NOT BETWEEN 60 AND 89) OR (status = 'dpd90' AND dpd NOT BETWEEN 90 AND 119)
        OR (status = 'dpd120' AND dpd < 120) OR (status IN ('closed','paid') AND (balance <> 0 OR dpd <> 0))
    """).fetchone()[0]
    assert bad == 0


def test_dates_are_consistent(population: tuple[Path, SynthSummary]) -> None:
    import duckdb

    root = population[0] / "feeds"
    con = duckdb.connect()
    bad = con.execute(f"""
        SELECT count(*) FILTER (WHERE CAST(opened AS DATE) > last_day(strptime(reporting_month, '%Y-%m'))),
               count(*) FILTER (WHERE CAST(closed AS DATE) > last_day(strptime(reporting_month, '%Y-%m'))),
               count(*) FILTER (WHERE CAST(closed AS DATE) < CAST(opened AS DATE)),
               count(*) FILTER (WHERE status IN ('closed', 'paid', 'charged_off', 'collection') AND closed IS NULL),
               count(*)
        FROM read_csv('{root}/bankcard/*.csv', all_varchar=true)
    """).fetchone()
    assert bad[:4] == (0, 0, 0, 0) and bad[4] > 0
    first_opened = con.execute(f"""SELECT min(opened), max(opened)
        FROM read_parquet('{root}/payplat/*.accounts.parquet')""").fetchone()
    assert first_opened[1] <= REALISM_CONFIG.month(REALISM_CONFIG.months - 1).replace(day=28)


def test_transactions_fall_in_their_files_month(population: tuple[Path, SynthSummary]) -> None:
    import duckdb

    root = population[0] / "feeds" / "payplat"
    outside = (
        duckdb.connect()
        .execute(f"""
        SELECT count(*) FILTER (WHERE strftime(timestamp AT TIME ZONE 'UTC', '%Y-%m')
                                <> regexp_extract(filename, '(\\d{{4}}-\\d{{2}})\\.payments', 1)),
               count(*)
        FROM read_parquet('{root}/*.payments.parquet', filename=true)""")
        .fetchone()
    )
    assert outside[0] == 0 and outside[1] > 0


def test_national_id_noise_matches_configured_rates(con) -> None:  # type: ignore[no-untyped-def]
    for furnisher, noise in DEFAULT_NOISE.items():
        ids = con.execute(
            "SELECT account_id, any_value(national_id) FROM acc WHERE furnisher = ? GROUP BY 1",
            [furnisher],
        ).fetchall()
        n = len(ids)
        missing = sum(nid is None for _, nid in ids) / n
        wrong = sum(nid is not None and not is_valid(nid) for _, nid in ids) / n
        for observed, expected in ((missing, noise.nid_missing), (wrong, noise.nid_mistyped)):
            se = math.sqrt(expected * (1 - expected) / n)
            assert abs(observed - expected) < 4 * se + 1e-4, (furnisher, observed, expected)
        # and the truth says the same as the files
        states = dict(
            con.execute(
                "SELECT nid_state, count(*) FROM truth_accounts WHERE furnisher_id = ? GROUP BY 1",
                [furnisher],
            ).fetchall()
        )
        assert states.get("missing", 0) / sum(states.values()) == pytest.approx(missing, abs=0.003)


def test_lookalikes_share_name_and_birth_date(con) -> None:  # type: ignore[no-untyped-def]
    pairs = con.execute("""SELECT count(*) FROM truth_people a JOIN truth_people b
        ON a.lookalike_of = b.person_id WHERE a.name = b.name AND a.birth_date = b.birth_date
        AND a.national_id <> b.national_id""").fetchone()[0]
    expected = round(REALISM_CONFIG.lookalike_share * REALISM_CONFIG.consumers)
    assert pairs == expected


def test_every_record_has_a_true_person(con) -> None:  # type: ignore[no-untyped-def]
    orphans = con.execute("""SELECT count(*) FROM acc a LEFT JOIN truth_accounts t
        ON a.furnisher = t.furnisher_id AND a.account_id = t.account_id
        WHERE t.person_id IS NULL""").fetchone()[0]
    assert orphans == 0


def test_realised_outcomes_are_visible_in_the_feeds(con) -> None:  # type: ignore[no-untyped-def]
    """A person the truth marks bad within 12 months shows an account entering 90 days past
    due in that window of the furnished files — and nobody else does."""
    months = REALISM_CONFIG.months
    mismatches = con.execute("""
        WITH entries AS (
            SELECT DISTINCT t.person_id, strptime(b.reporting_month, '%Y-%m') AS m
            FROM acc a JOIN acc b ON a.furnisher = b.furnisher AND a.account_id = b.account_id
             AND strptime(b.reporting_month, '%Y-%m') = strptime(a.reporting_month, '%Y-%m') + INTERVAL 1 MONTH
            JOIN truth_accounts t ON t.furnisher_id = a.furnisher AND t.account_id = a.account_id
            WHERE a.status = 'dpd60' AND b.status = 'dpd90'),
        observable AS (
            SELECT * FROM truth_person_months
            WHERE NOT bad_now AND strptime(month, '%Y-%m') + INTERVAL 12 MONTH
                  <= (SELECT max(strptime(month, '%Y-%m')) FROM truth_person_months)),
        seen AS (
            SELECT o.person_id, o.month, o.bad_12m,
                   EXISTS (SELECT 1 FROM entries e WHERE e.person_id = o.person_id
                           AND e.m > strptime(o.month, '%Y-%m')
                           AND e.m <= strptime(o.month, '%Y-%m') + INTERVAL 12 MONTH) AS in_feeds
            FROM observable o)
        SELECT count(*) FILTER (WHERE bad_12m <> in_feeds), count(*) FROM seen
    """).fetchone()
    assert months > 12
    assert mismatches[1] > 0
    assert mismatches[0] == 0, f"{mismatches[0]} of {mismatches[1]} person-months disagree"
