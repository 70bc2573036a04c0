"""Comparison features of identity records, and the bureau's linkage model over them.

Features are computed once, in DuckDB, whatever engine scores the pairs afterwards: the SQL
below is the single definition. Input columns are those of ``identity_records`` plus
``nid_clear`` (the national id decrypted inside the linking job, never stored) and ``det``
(the deterministic component of the record).
"""

from __future__ import annotations

from openbureau.identity.model import Comparison, ModelSpec
from openbureau.identity.romanisation import name_tokens_sql, phonetic_sql

# Address words that carry no identity, and the abbreviations furnishers use.
_ADDRESS_REWRITES: tuple[tuple[str, str], ...] = (
    ("\\bno\\.?\\s", " "),
    ("\\bdistrict\\b", " "),
    ("[^a-z0-9 ]", " "),
    ("\\bavenue\\b", "ave"),
    ("\\bstreet\\b", "st"),
    ("\\broad\\b", "rd"),
    ("\\blane\\b", "ln"),
    ("\\s+", " "),
)


def _address_sql(expr: str) -> str:
    out = f"lower({expr})"
    for pattern, replacement in _ADDRESS_REWRITES:
        out = f"regexp_replace({out}, '{pattern}', '{replacement}', 'g')"
    return f"nullif(trim({out}), '')"


def feature_sql(source: str) -> str:
    """One SELECT over ``source`` giving the feature columns the model compares."""
    tokens = name_tokens_sql("name")
    fwd = phonetic_sql("array_to_string(_tok, '')")
    rot = phonetic_sql(
        "CASE WHEN len(_tok) > 1 THEN _tok[len(_tok)] || array_to_string(_tok[1:len(_tok) - 1],"
        " '') ELSE array_to_string(_tok, '') END"
    )
    swap = (
        "CASE WHEN day(birth_date) <= 12 AND day(birth_date) <> month(birth_date) THEN "
        "strftime(make_date(year(birth_date), day(birth_date), month(birth_date)), '%Y%m%d') END"
    )
    # Built from constants and identifiers only, never from data values.
    return (
        "SELECT unique_id, det, "  # noqa: S608
        f"nullif({fwd}, '') AS n_fwd, nullif({rot}, '') AS n_rot, "
        "strftime(birth_date, '%Y%m%d') AS dob, "
        f"{swap} AS dob_swap, "
        "phone, "
        f"{_address_sql('address')} AS addr, "
        "postcode, "
        "national_id_hmac AS nid_hmac, nid_clear, "
        "CASE WHEN nid_state = 'valid' THEN 1 ELSE 0 END AS nid_valid, "
        "substr(nid_clear, 1, 9) AS nid_head, substr(nid_clear, 10, 9) AS nid_tail "
        f"FROM (SELECT *, {tokens} AS _tok FROM {source})"
    )


# Names whose keys agree on their first two letters in some orientation, rotated against
# rotated included: a typo in the given name of two given-name-first records ("Nng Zhang",
# "Ning Zhang"), or a spaced given name whose syllable the surname table rewrites ("Wan Yu
# Liu"), still agree on the surname that the rotation puts first.
_NAME_PREFIX = (
    "(substr(l.n_fwd, 1, 2) = substr(r.n_fwd, 1, 2) "
    "OR substr(l.n_fwd, 1, 2) = substr(r.n_rot, 1, 2) "
    "OR substr(l.n_rot, 1, 2) = substr(r.n_fwd, 1, 2) "
    "OR substr(l.n_rot, 1, 2) = substr(r.n_rot, 1, 2))"
)
# Birth dates missing, or sharing the year (a day/month swap keeps it) or the month and day.
_DOB_PART = (
    "(l.dob IS NULL OR r.dob IS NULL OR substr(l.dob, 1, 4) = substr(r.dob, 1, 4) "
    "OR substr(l.dob, 5, 4) = substr(r.dob, 5, 4))"
)

# Pairs worth scoring: one side lacks a valid national id (two valid ids are either the same
# person already or never the same person), and the two are not linked already.
# As two alternatives, so that DuckDB filters one side before the blocking join.
RESTRICT = (
    "l.nid_valid = 0 AND l.det <> r.det",
    "r.nid_valid = 0 AND l.det <> r.det",
)


def bureau_model(
    *, u_max_pairs: float = 3e5, em_max_pairs: float | None = 5e5, seed: int = 42
) -> ModelSpec:
    """The bureau's model: name, birth date, phone, address, postcode, national id."""
    return ModelSpec(
        comparisons=(
            Comparison("name", "name", ("n_fwd", "n_rot")),
            Comparison("birth_date", "date", ("dob", "dob_swap")),
            Comparison("phone", "digits", ("phone",)),
            Comparison("address", "text", ("addr",), thresholds=(0.9,)),
            Comparison("postcode", "code", ("postcode",)),
            Comparison("national_id", "id", ("nid_hmac", "nid_clear")),
        ),
        # Each rule is an equality (a cheap hash join) narrowed by a cheap filter, so that
        # a common birth date or name does not make millions of pairs to compare.
        blocking=(
            f"l.dob = r.dob AND ({_NAME_PREFIX} OR l.postcode = r.postcode OR l.phone = r.phone)",
            "l.phone = r.phone",
            f"l.n_fwd = r.n_fwd AND {_DOB_PART}",
            f"l.n_fwd = r.n_rot AND {_DOB_PART}",
            f"l.n_rot = r.n_fwd AND {_DOB_PART}",
            "l.nid_head = r.nid_head",
            "l.nid_tail = r.nid_tail",
            "l.addr = r.addr",
        ),
        restrict=RESTRICT,
        em_blocking=("l.dob = r.dob", "l.n_fwd = r.n_fwd AND l.postcode = r.postcode"),
        deterministic=("l.nid_hmac = r.nid_hmac", "l.phone = r.phone AND l.dob = r.dob"),
        u_max_pairs=u_max_pairs,
        em_max_pairs=em_max_pairs,
        seed=seed,
    )


# Comparisons that are evidence *beyond* name and birth date: a look-alike (same name, same
# birth date, another person) is never linked automatically without one of them agreeing.
CORROBORATING = ("phone", "address", "postcode", "national_id")

__all__ = ["CORROBORATING", "RESTRICT", "bureau_model", "feature_sql"]
