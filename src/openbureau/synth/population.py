"""The people: identities, places, income, latent credit quality, synthetic group.

Everything is drawn as whole arrays (one vectorised draw per attribute), never per person.
Strings are assembled later, column by column, by Arrow compute kernels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from openbureau.identity.national_id import check_chars
from openbureau.synth.config import SynthConfig
from openbureau.synth.reference import GIVEN_SYLLABLES, PROVINCES, STREET_KINDS, STREETS, SURNAMES

I8 = npt.NDArray[np.int8]
I16 = npt.NDArray[np.int16]
I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]
F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
Obj = npt.NDArray[np.object_]

NEVER = np.int16(32_000)  # a month index that never comes
GROUPS = np.array(["A", "B", "C"], dtype=object)
MEDIAN_INCOME = 5500.0  # CNY a month


@dataclass
class Address:
    house: I16
    street: I16
    kind: I8
    district: I8
    province: I8
    postcode: I32


@dataclass
class People:
    """n true persons; index i is person ``P{i+1:08d}``."""

    n: int
    male: npt.NDArray[np.bool_]
    birth_days: I32  # days since 1970-01-01
    province: I8
    area_code: I32  # 6-digit administrative code of the place of registration
    national_id: Obj
    surname: I16  # index into SURNAMES
    given_syllables: I16  # (n, 2); second is -1 for one-syllable given names
    phone: I64
    new_phone: I64
    phone_change_month: I16  # simulation month of the change, NEVER if none
    address: Address
    new_address: Address
    move_month: I16
    income: F32  # monthly, CNY
    quality: F32  # latent credit quality, standard normal; higher = safer
    salaried: npt.NDArray[np.bool_]
    group: I8  # synthetic demographic group, for fairness review only
    lookalike_of: I32  # -1, or the person whose name and birth date this one shares

    @property
    def risk(self) -> F32:
        """The risk index that drives the repayment chain (higher = riskier)."""
        risk: F32 = (-self.quality - 0.25 * np.log(self.income / MEDIAN_INCOME)).astype(np.float32)
        return risk

    def given_name(self) -> Obj:
        """Given names as furnishers hold them, e.g. ``Xiaoming``."""
        syl = np.array(GIVEN_SYLLABLES, dtype=object)
        first = syl[self.given_syllables[:, 0]]
        second = np.where(self.given_syllables[:, 1] >= 0, syl[self.given_syllables[:, 1]], "")
        return np.array(
            [(a + b).capitalize() for a, b in zip(first, second, strict=True)], dtype=object
        )


def _address(rng: np.random.Generator, n: int, province: I8) -> Address:
    postcode_prefix = np.array([(int(code) * 7) % 89 + 10 for code, *_ in PROVINCES], np.int32)
    return Address(
        house=rng.integers(1, 999, n, dtype=np.int16),
        street=rng.integers(0, len(STREETS), n, dtype=np.int16),
        kind=rng.integers(0, len(STREET_KINDS), n, dtype=np.int8),
        district=rng.integers(0, 30, n, dtype=np.int8),
        province=province,
        postcode=postcode_prefix[province] * 10_000 + rng.integers(0, 10_000, n, dtype=np.int32),
    )


def _unique_phones(rng: np.random.Generator, n: int, taken: I64 | None = None) -> I64:
    prefixes = np.array(
        [
            130,
            131,
            132,
            135,
            136,
            137,
            138,
            139,
            150,
            151,
            152,
            155,
            158,
            159,
            176,
            177,
            180,
            181,
            186,
            187,
            188,
            189,
            199,
        ],
        dtype=np.int64,
    )
    phones = prefixes[rng.integers(0, len(prefixes), n)] * 100_000_000 + rng.integers(
        0, 100_000_000, n, dtype=np.int64
    )
    while True:
        pool = phones if taken is None else np.concatenate([taken, phones])
        _, first = np.unique(pool, return_index=True)
        dup = np.ones(pool.shape[0], dtype=bool)
        dup[first] = False
        offset = 0 if taken is None else taken.shape[0]
        redo = np.nonzero(dup[offset:])[0]
        if redo.size == 0:
            return phones
        phones[redo] = prefixes[
            rng.integers(0, len(prefixes), redo.size)
        ] * 100_000_000 + rng.integers(0, 100_000_000, redo.size, dtype=np.int64)


def _national_ids(
    rng: np.random.Generator, area: I32, birth_days: I32, male: npt.NDArray[np.bool_]
) -> Obj:
    """18-character resident ids, unique, with the right sex digit and check character."""
    n = area.shape[0]
    births = birth_days.astype("datetime64[D]")
    ymd = births.astype(str)  # 'YYYY-MM-DD'
    date_digits = np.char.replace(ymd, "-", "").astype("U8")
    seq = rng.integers(0, 500, n, dtype=np.int32) * 2 + male.astype(np.int32)  # odd = male
    while True:
        first17 = np.char.add(
            np.char.add(area.astype("U6"), date_digits), np.char.zfill(seq.astype("U3"), 3)
        )
        _, first = np.unique(first17, return_index=True)
        dup = np.ones(n, dtype=bool)
        dup[first] = False
        if not dup.any():
            break
        redo = np.nonzero(dup)[0]
        seq[redo] = rng.integers(0, 500, redo.size, dtype=np.int32) * 2 + male[redo].astype(
            np.int32
        )
    digits = np.frombuffer(first17.astype("S17").tobytes(), dtype=np.uint8).reshape(n, 17) - 48
    checks = check_chars(digits.astype(np.int64))
    return np.char.add(first17, checks).astype(object)


def generate_people(config: SynthConfig, rng: np.random.Generator, window_months: int) -> People:
    """Draw the whole population. ``window_months`` is the length of the simulation."""
    n = config.consumers
    male = rng.random(n) < 0.5
    province_weights = np.array([w for *_, w in PROVINCES])
    province = rng.choice(len(PROVINCES), n, p=province_weights / province_weights.sum()).astype(
        np.int8
    )
    province_codes = np.array([int(code) for code, *_ in PROVINCES], dtype=np.int32)
    area = province_codes[province] * 10_000 + rng.integers(1, 16, n) * 100 + rng.integers(1, 21, n)

    # Ages 18-75 at the start of the window, skewed young as credit users are.
    age_years = 18 + rng.gamma(2.2, 8.5, n).clip(0, 57)
    start_days = (np.datetime64(config.first_month) - np.datetime64("1970-01-01")).astype(np.int64)
    birth_days = (start_days - (age_years * 365.25).astype(np.int64)).astype(np.int32)

    surname_weights = np.array([w for _, w, _ in SURNAMES])
    surname = rng.choice(len(SURNAMES), n, p=surname_weights / surname_weights.sum()).astype(
        np.int16
    )
    given = rng.integers(0, len(GIVEN_SYLLABLES), (n, 2)).astype(np.int16)
    given[rng.random(n) < 0.3, 1] = -1  # one-syllable given names

    # Look-alikes: different people with the same name, sex and birth date (mixed-file bait).
    lookalike_of = np.full(n, -1, dtype=np.int32)
    k = round(config.lookalike_share * n)
    if k:
        targets = rng.choice(n, k, replace=False)
        sources = rng.integers(0, n, k)
        sources = np.where(sources == targets, (sources + 1) % n, sources)
        surname[targets] = surname[sources]
        given[targets] = given[sources]
        birth_days[targets] = birth_days[sources]
        male[targets] = male[sources]
        lookalike_of[targets] = sources

    national_id = _national_ids(rng, area.astype(np.int32), birth_days, male)

    phone = _unique_phones(rng, n)
    changes = rng.random(n) < config.phone_change_share
    new_phone = phone.copy()
    new_phone[changes] = _unique_phones(rng, int(changes.sum()), taken=phone)
    phone_change_month = np.where(changes, rng.integers(1, window_months, n), NEVER).astype(
        np.int16
    )

    address = _address(rng, n, province)
    movers = rng.random(n) < config.mover_share
    far = rng.random(n) < 0.2  # one move in five leaves the province
    new_province = np.where(
        far, rng.choice(len(PROVINCES), n, p=province_weights / province_weights.sum()), province
    ).astype(np.int8)
    new_address = _address(rng, n, new_province)
    move_month = np.where(movers, rng.integers(1, window_months, n), NEVER).astype(np.int16)

    # Income: region, an age curve peaking in the mid-forties, and a heavy individual spread.
    multiplier = np.array([m for _, _, m, _ in PROVINCES], dtype=np.float32)[province]
    age_curve = np.exp(-(((age_years - 45) / 30) ** 2))
    z_income = rng.normal(size=n)
    income = (
        MEDIAN_INCOME * multiplier * (0.6 + 0.5 * age_curve) * np.exp(0.55 * z_income)
    ).astype(np.float32)

    # Latent quality: partly explained by income and age, mostly individual.
    age_z = (age_years - 38) / 12
    quality = (
        0.35 * z_income + 0.15 * age_z + np.sqrt(1 - 0.35**2 - 0.15**2) * rng.normal(size=n)
    ).astype(np.float32)
    salaried = rng.random(n) < 1 / (1 + np.exp(-(0.6 + 0.8 * quality + 0.4 * z_income)))

    # Synthetic group, correlated with region (and so with income), never with quality itself.
    p_b = np.where(multiplier < 0.9, 0.35, 0.18)
    p_c = np.full(n, 0.08)
    draw = rng.random(n)
    group = np.where(draw < p_b, 1, np.where(draw < p_b + p_c, 2, 0)).astype(np.int8)

    return People(
        n=n,
        male=male,
        birth_days=birth_days,
        province=province,
        area_code=area.astype(np.int32),
        national_id=national_id,
        surname=surname,
        given_syllables=given,
        phone=phone,
        new_phone=new_phone,
        phone_change_month=phone_change_month,
        address=address,
        new_address=new_address,
        move_month=move_month,
        income=income,
        quality=quality,
        salaried=salaried,
        group=group,
        lookalike_of=lookalike_of,
    )


__all__ = ["GROUPS", "MEDIAN_INCOME", "NEVER", "Address", "People", "generate_people"]
