"""Fields that may never be collected: the batch is refused and their values go nowhere."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from openbureau.context import Context
from openbureau.errors import ForbiddenFieldError
from openbureau.rules.profiles import PROFILES, forbidden_match, get_profile

from . import factories as fac
from .helpers import nothing_written, run

SECRET = "SECRETVALUE-Buddhist-O-positive"


@pytest.mark.parametrize(
    "column",
    [
        "religion",
        "Religion",
        "RELIGIOUS_AFFILIATION",
        "ethnicity",
        "Blood Type",
        "bloodType",
        "blood_group",
        "cust_genetic_test",
        "Fingerprint",
        "medical_history",
        "Disease",
        "faith",
    ],
)
@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_forbidden_column_refuses_the_batch(
    ctx: Context, tmp_path: Path, column: str, fmt: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    recs = [dict(fac.account(i), **{column: SECRET}) for i in range(5)]
    writer = {"csv": fac.write_csv, "jsonl": fac.write_jsonl, "parquet": fac.write_parquet}[fmt]
    path = writer(tmp_path / f"2024-03.accounts.{fmt}", recs)
    with pytest.raises(ForbiddenFieldError, match="may never be collected") as e:
        run(ctx, path)
    assert column in str(e.value) and SECRET not in str(e.value)
    assert SECRET not in caplog.text
    nothing_written(ctx)
    receipts = ctx.settings.home / "receipts"
    assert not receipts.exists() or not any(receipts.rglob("*"))


def test_forbidden_key_in_one_jsonl_record_only(ctx: Context, tmp_path: Path) -> None:
    recs = fac.accounts(50)
    recs[37]["bloodType"] = SECRET
    path = fac.write_jsonl(tmp_path / "2024-03.accounts.jsonl", recs)
    with pytest.raises(ForbiddenFieldError, match="bloodType"):
        run(ctx, path)
    nothing_written(ctx)


def test_forbidden_field_in_payments(ctx: Context, tmp_path: Path) -> None:
    recs = [dict(fac.payment(i), health_status=SECRET) for i in range(5)]
    with pytest.raises(ForbiddenFieldError):
        run(ctx, fac.write_parquet(tmp_path / "2024-03.payments.parquet", recs), "pay")
    nothing_written(ctx)


def test_ordinary_columns_are_not_forbidden() -> None:
    profile = get_profile("cn")
    ordinary = [*fac.ACCOUNT_COLUMNS, *fac.PAYMENT_COLUMNS, "branch", "racecourse_id", "notes"]
    assert forbidden_match(profile, ordinary) == []


def test_profiles() -> None:
    cn, us = PROFILES["cn"], PROFILES["us"]
    assert (cn.negative_retention_years, us.negative_retention_years) == (5, 7)
    assert (cn.dispute_days, us.dispute_days) == (20, 30)
    assert cn.free_reports_per_year >= 1 and us.free_reports_per_year >= 1
    for p in (cn, us):
        for concept in (
            "religion",
            "ethnicity",
            "genetic data",
            "biometrics",
            "blood type",
            "health and medical data",
        ):
            assert concept in p.forbidden
    json.dumps({k: list(v) for k, v in cn.forbidden.items()})
