"""Jurisdiction profiles: what the law of a place says the bureau may collect and keep.

``cn`` follows the 2013 Regulation on the Administration of the Credit Investigation
Industry; ``us`` follows the FCRA. Ingest reads ``forbidden_fields`` (never collected),
reporting reads the retention and the free-report allowance, disputes read the deadline
and what happens to an item whose furnisher does not answer in time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Literal

from openbureau.errors import ConfigError

# Every concept that may never be collected, with the names furnishers use for it.
# Names are compared after folding: lower case, separators and camelCase removed.
_COMMON_FORBIDDEN: dict[str, tuple[str, ...]] = {
    "religion": (
        "religion",
        "religious",
        "religious_affiliation",
        "faith",
        "belief",
        "creed",
        "church",
        "denomination",
    ),
    "ethnicity": (
        "ethnicity",
        "ethnic",
        "ethnic_group",
        "ethnic_origin",
        "race",
        "racial",
        "nation_group",
        "minzu",
        "tribe",
    ),
    "genetic data": (
        "gene",
        "genes",
        "genetic",
        "genetics",
        "genome",
        "genotype",
        "dna",
        "genetic_data",
        "genetic_test",
    ),
    "biometrics": (
        "fingerprint",
        "fingerprints",
        "biometric",
        "biometrics",
        "face_image",
        "facial",
        "face_id",
        "iris",
        "retina",
        "voiceprint",
        "palmprint",
    ),
    "blood type": ("blood_type", "blood_group", "bloodtype", "abo", "rh_factor", "xuexing"),
    "health and medical data": (
        "disease",
        "diseases",
        "illness",
        "medical",
        "medical_history",
        "medical_record",
        "health",
        "health_status",
        "diagnosis",
        "condition_medical",
        "disability",
        "hiv",
        "pregnancy",
        "pregnant",
        "mental_health",
        "medication",
    ),
    "sexual orientation": ("sexual_orientation", "sexuality", "orientation_sexual"),
    "social relationships": (
        "contacts",
        "contact_list",
        "friends",
        "friend_list",
        "social_graph",
        "relatives",
        "relationships",
        "social_network",
    ),
}
_US_EXTRA: dict[str, tuple[str, ...]] = {
    "political opinion": ("political_affiliation", "political_party", "party_membership"),
}
_CN_EXTRA: dict[str, tuple[str, ...]] = {
    "political opinion": ("political_affiliation", "political_party", "party_membership"),
}


def fold(name: str) -> str:
    """Fold a column name for matching: camelCase split, lower case, separators removed."""
    return "".join(_tokens(name))


def _tokens(name: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name.strip().lstrip("\ufeff"))
    return [t for t in re.split(r"[^0-9a-zA-Z]+", spaced.lower()) if t]


@dataclass(frozen=True)
class Profile:
    """The rules of one jurisdiction.

    Attributes:
        code: ``cn`` or ``us``.
        negative_retention_years: years negative information is kept after it ends.
        dispute_days: days the furnisher has to answer a consumer's dispute (the deadline is
            set when the dispute is opened).
        dispute_unanswered: what becomes of a disputed item whose furnisher did not answer by
            the deadline: ``delete`` (off the report and out of the score, as if the
            furnisher had deleted it) or ``unverified`` (kept on the report, marked as
            disputed and not verified, and out of the score).
        free_reports_per_year: reports a consumer may get free of charge each year.
        forbidden: concept -> names furnishers use for it (never collected).
        phone_country_code: the country calling code stripped when normalising phones.
        phone_digits: digits of a national mobile number.
        postcode_pattern: regular expression of a valid postal code.
        permissible_purposes: purposes for which a lender may pull a file (with consent).
        hard_purposes: the purposes whose inquiries are *hard* (count in the score features);
            the others are soft (shown to the consumer, not scored).
        consent_max_days: the longest a consumer's consent to one lender may last.
    """

    code: str
    negative_retention_years: int
    dispute_days: int
    free_reports_per_year: int
    consent_required: bool
    forbidden: dict[str, tuple[str, ...]] = field(default_factory=dict)
    phone_country_code: str = "86"
    phone_digits: int = 11
    phone_prefix: str = "1"
    postcode_pattern: str = r"^\d{6}$"
    permissible_purposes: tuple[str, ...] = ()
    hard_purposes: tuple[str, ...] = ("credit_application",)
    consent_max_days: int = 365
    dispute_unanswered: Literal["delete", "unverified"] = "delete"

    def folded_forbidden(self) -> dict[str, str]:
        """Folded name -> concept, for every name in the forbidden list."""
        out: dict[str, str] = {}
        for concept, names in self.forbidden.items():
            for name in (concept, *names):
                out[fold(name)] = concept
        return out


def forbidden_match(profile: Profile, columns: Iterable[str]) -> list[tuple[str, str]]:
    """Columns that name a never-collected field: ``(column, concept)`` pairs, in input order.

    A column matches when its folded name, any word of it, or any two adjacent words equal a
    folded forbidden name (``Blood_Type``, ``bloodType``, ``cust_religion`` all match).
    """
    table = profile.folded_forbidden()
    found: list[tuple[str, str]] = []
    for column in columns:
        words = _tokens(column)
        candidates = {"".join(words), *words}
        candidates |= {a + b for a, b in pairwise(words)}
        hits = sorted(table[c] for c in candidates if c in table)
        if hits:
            found.append((column, hits[0]))
    return found


PROFILES: dict[str, Profile] = {
    "cn": Profile(
        code="cn",
        negative_retention_years=5,
        dispute_days=20,
        # Regulation art. 25: an objection that cannot be confirmed either way is recorded
        # with the result of the check; the item stays, marked.
        dispute_unanswered="unverified",
        free_reports_per_year=2,
        consent_required=True,
        forbidden={**_COMMON_FORBIDDEN, **_CN_EXTRA},
        phone_country_code="86",
        phone_digits=11,
        phone_prefix="1",
        postcode_pattern=r"^\d{6}$",
        # Regulation art. 18: loan and card applications, guarantees, post-loan management.
        permissible_purposes=("credit_application", "account_review", "guarantee_review"),
        hard_purposes=("credit_application", "guarantee_review"),
    ),
    "us": Profile(
        code="us",
        negative_retention_years=7,
        dispute_days=30,
        # FCRA 611(a)(5)(A): information that cannot be verified in time is deleted.
        dispute_unanswered="delete",
        free_reports_per_year=1,
        consent_required=True,
        forbidden={**_COMMON_FORBIDDEN, **_US_EXTRA},
        phone_country_code="1",
        phone_digits=10,
        phone_prefix="",
        postcode_pattern=r"^\d{5}(\d{4})?$",
        # FCRA section 604(a)(3): credit, account review, employment (with written consent),
        # insurance underwriting, a legitimate business need (tenancy), collection.
        permissible_purposes=(
            "credit_application",
            "account_review",
            "employment_screening",
            "insurance_underwriting",
            "tenant_screening",
            "collection",
        ),
        hard_purposes=("credit_application",),
    ),
}


# Every purpose any profile knows, in a stable order (the service's request schema).
ALL_PURPOSES: tuple[str, ...] = tuple(
    sorted({p for profile in PROFILES.values() for p in profile.permissible_purposes})
)


def get_profile(code: str) -> Profile:
    """The profile for a jurisdiction code."""
    try:
        return PROFILES[code]
    except KeyError:
        raise ConfigError(
            f"unknown jurisdiction {code!r}: choose one of {', '.join(sorted(PROFILES))}"
        ) from None


__all__ = ["ALL_PURPOSES", "PROFILES", "Profile", "fold", "forbidden_match", "get_profile"]
