"""Identity as furnishers capture it: their formats, their typos, their stale records.

Each account captures its holder's identity once, at opening, through its furnisher's habits
(``IdentityNoise``). Only the few noisy values are built one by one; clean values are
assembled later for whole columns at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from openbureau.identity.national_id import check_char
from openbureau.synth.config import IdentityNoise
from openbureau.synth.reference import (
    GIVEN_SYLLABLES,
    SURNAMES,
    WADE_GILES_FINALS,
    WADE_GILES_INITIALS,
)

FURNISHERS = ("bankcard", "microloan", "payplat")

NID_OK, NID_MISSING, NID_MISTYPED = 0, 1, 2
NID_STATES = np.array(["ok", "missing", "mistyped"], dtype=object)
NAME_CLEAN, NAME_VARIANT, NAME_TYPO, NAME_BOTH = 0, 1, 2, 3
NAME_NOISE = np.array(["none", "variant", "typo", "variant+typo"], dtype=object)
DOB_CLEAN, DOB_MISSING, DOB_SWAPPED = 0, 1, 2
DOB_NOISE = np.array(["none", "missing", "swapped"], dtype=object)
PHONE_CLEAN, PHONE_MISSING, PHONE_TYPO = 0, 1, 2
PHONE_NOISE = np.array(["none", "missing", "typo"], dtype=object)

_LETTERS = "abcdefghijklmnopqrstuvwxyz"


@dataclass
class Captured:
    """Identity noise for a batch of new accounts (arrays aligned with the accounts)."""

    nid_state: npt.NDArray[np.int8]
    nid_override: npt.NDArray[np.object_]  # the mistyped id, else None
    name_noise: npt.NDArray[np.int8]
    name_override: npt.NDArray[np.object_]  # the noisy full name as furnished, else None
    dob_noise: npt.NDArray[np.int8]
    dob_days: npt.NDArray[np.int32]  # the birth date as captured (swapped if so)
    phone_noise: npt.NDArray[np.int8]
    phone: npt.NDArray[np.int64]  # the number as captured (typo included)
    address_version: npt.NDArray[np.int8]  # 0 = address before moving, 1 = after


def format_name(furnisher: str, surname: str, given: str) -> str:
    """A full name in the furnisher's house style (the same rule the column builder uses)."""
    if furnisher == "bankcard":
        return f"{surname.upper()} {given}"
    if furnisher == "microloan":
        return f"{given} {surname}"
    return f"{surname} {given}".lower()


def wade_giles(syllable: str) -> str:
    """Respell one pinyin syllable the Wade-Giles way (apostrophes dropped, as systems do)."""
    s = syllable.lower()
    for old, new in WADE_GILES_INITIALS:
        if s.startswith(old):
            s = new + s[len(old) :]
            break
    for old, new in WADE_GILES_FINALS:
        if s.endswith(old):
            s = s[: -len(old)] + new
            break
    return s.replace("'", "")


def _variant(
    rng: np.random.Generator, surname_idx: int, syllables: tuple[int, int]
) -> tuple[str, str]:
    surname, _, alternatives = SURNAMES[surname_idx]
    parts = [GIVEN_SYLLABLES[i] for i in syllables if i >= 0]
    kind = rng.integers(0, 3)
    if kind == 0:  # another romanisation of the surname
        surname = alternatives[rng.integers(0, len(alternatives))]
        given = "".join(parts).capitalize()
    elif kind == 1:  # Wade-Giles given name, syllables hyphenated
        given = "-".join(wade_giles(p) for p in parts).capitalize()
    else:  # syllables spaced or hyphenated: "Xiao Ming", "Xiao-ming"
        sep = " " if rng.random() < 0.5 else "-"
        given = sep.join(p.capitalize() if sep == " " else p for p in parts)
        given = given[0].upper() + given[1:]
    return surname, given


def _typo(rng: np.random.Generator, text: str) -> str:
    positions = [i for i, c in enumerate(text) if c.isalpha()]
    if len(positions) < 2:
        return text
    i = positions[rng.integers(0, len(positions))]
    op = rng.integers(0, 4)
    c = text[i]
    new = _LETTERS[rng.integers(0, 26)]
    new = new.upper() if c.isupper() else new
    if op == 0:  # dropped letter
        return text[:i] + text[i + 1 :]
    if op == 1:  # doubled letter
        return text[:i] + c + text[i:]
    if op == 2 and i + 1 < len(text) and text[i + 1].isalpha():  # swapped neighbours
        return text[:i] + text[i + 1] + c + text[i + 2 :]
    replacement = new if new.lower() != c.lower() else ("a" if c.lower() != "a" else "e")
    return text[:i] + replacement + text[i + 1 :]


def mistype_national_id(rng: np.random.Generator, nid: str) -> str:
    """One wrong digit or two swapped neighbours: the errors MOD 11-2 is designed to catch."""
    chars = list(nid)
    if rng.random() < 0.3:
        i = int(rng.integers(0, 16))
        if chars[i] != chars[i + 1]:
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
            return "".join(chars)
    i = int(rng.integers(0, 17))
    chars[i] = str((int(chars[i]) + int(rng.integers(1, 10))) % 10)
    wrong = "".join(chars)
    assert check_char(wrong[:17]) != wrong[17]  # single-digit errors are always detectable
    return wrong


def capture(
    rng: np.random.Generator,
    furnisher: str,
    noise: IdentityNoise,
    persons: npt.NDArray[np.int32],
    months: npt.NDArray[np.int16],
    *,
    national_id: npt.NDArray[np.object_],
    surname: npt.NDArray[np.int16],
    given_syllables: npt.NDArray[np.int16],
    birth_days: npt.NDArray[np.int32],
    phone: npt.NDArray[np.int64],
    new_phone: npt.NDArray[np.int64],
    phone_change_month: npt.NDArray[np.int16],
    move_month: npt.NDArray[np.int16],
) -> Captured:
    """Capture the identity of ``persons`` opening accounts with ``furnisher`` in ``months``."""
    k = persons.shape[0]
    draw = rng.random((k, 8))

    nid_state = np.where(
        draw[:, 0] < noise.nid_missing,
        NID_MISSING,
        np.where(draw[:, 0] < noise.nid_missing + noise.nid_mistyped, NID_MISTYPED, NID_OK),
    ).astype(np.int8)
    nid_override = np.full(k, None, dtype=object)
    for j in np.nonzero(nid_state == NID_MISTYPED)[0]:
        nid_override[j] = mistype_national_id(rng, national_id[persons[j]])

    variant = draw[:, 1] < noise.name_variant
    typo = draw[:, 2] < noise.name_typo
    name_noise = (variant.astype(np.int8) + 2 * typo.astype(np.int8)).astype(np.int8)
    name_override = np.full(k, None, dtype=object)
    for j in np.nonzero(name_noise)[0]:
        p = persons[j]
        syl = (int(given_syllables[p, 0]), int(given_syllables[p, 1]))
        if variant[j]:
            s, g = _variant(rng, int(surname[p]), syl)
        else:
            s = SURNAMES[surname[p]][0]
            g = "".join(GIVEN_SYLLABLES[i] for i in syl if i >= 0).capitalize()
        full = format_name(furnisher, s, g)
        name_override[j] = _typo(rng, full) if typo[j] else full

    dob_days = birth_days[persons].copy()
    dob_noise = np.where(draw[:, 3] < noise.dob_missing, DOB_MISSING, DOB_CLEAN).astype(np.int8)
    swap = (draw[:, 4] < noise.dob_swapped) & (dob_noise == DOB_CLEAN)
    if swap.any():
        days = dob_days[swap].astype("datetime64[D]")
        years = days.astype("datetime64[Y]")
        month = (days.astype("datetime64[M]") - years).astype(np.int64) + 1
        day = (days - days.astype("datetime64[M]")).astype(np.int64) + 1
        swappable = (day <= 12) & (day != month)  # only then can the mistake go unnoticed
        swapped = (years + (day - 1).astype("timedelta64[M]")).astype("datetime64[D]") + (month - 1)
        idx = np.nonzero(swap)[0][swappable]
        dob_days[idx] = (swapped[swappable] - np.datetime64("1970-01-01")).astype(np.int32)
        dob_noise[idx] = DOB_SWAPPED

    changed = months >= phone_change_month[persons]
    captured_phone = np.where(changed, new_phone[persons], phone[persons])
    phone_noise = np.where(
        draw[:, 5] < noise.phone_missing,
        PHONE_MISSING,
        np.where(draw[:, 5] < noise.phone_missing + noise.phone_typo, PHONE_TYPO, PHONE_CLEAN),
    ).astype(np.int8)
    typo_idx = np.nonzero(phone_noise == PHONE_TYPO)[0]
    if typo_idx.size:
        position = rng.integers(0, 9, typo_idx.size)  # never the leading "1x"
        digit = (captured_phone[typo_idx] // 10**position) % 10
        delta = rng.integers(1, 10, typo_idx.size)
        captured_phone[typo_idx] += (((digit + delta) % 10) - digit) * 10**position

    address_version = (months >= move_month[persons]).astype(np.int8)
    return Captured(
        nid_state,
        nid_override,
        name_noise,
        name_override,
        dob_noise,
        dob_days,
        phone_noise,
        captured_phone,
        address_version,
    )


__all__ = [
    "DOB_NOISE",
    "FURNISHERS",
    "NAME_NOISE",
    "NID_STATES",
    "PHONE_NOISE",
    "Captured",
    "capture",
    "format_name",
    "mistype_national_id",
    "wade_giles",
]
