"""The role × route × method matrix, generated from the app's own routes.

Every route the app serves must appear in EXPECTED (a new route without an entry fails);
each cell is called with a valid request: the admitted roles succeed, every other role gets
403, no key gets 401.
"""

from __future__ import annotations

from typing import Any

import pytest

from openbureau.service import policy
from openbureau.service.auth import ROLES
from tests.ingest import factories as ingest_factories

from .conftest import LENDER_A, Service

PUBLIC = None
EXPECTED: dict[tuple[str, str], frozenset[str] | None] = {
    ("GET", "/openapi.json"): PUBLIC,
    ("GET", "/v1/health"): PUBLIC,
    ("GET", "/v1/me/report"): frozenset({"consumer"}),
    ("GET", "/v1/me/inquiries"): frozenset({"consumer"}),
    ("POST", "/v1/me/consents"): frozenset({"consumer"}),
    ("GET", "/v1/me/consents"): frozenset({"consumer"}),
    ("DELETE", "/v1/me/consents/{consent_id}"): frozenset({"consumer"}),
    ("GET", "/v1/me/controls"): frozenset({"consumer"}),
    ("PUT", "/v1/me/freeze"): frozenset({"consumer"}),
    ("DELETE", "/v1/me/freeze"): frozenset({"consumer"}),
    ("PUT", "/v1/me/fraud-alert"): frozenset({"consumer"}),
    ("DELETE", "/v1/me/fraud-alert"): frozenset({"consumer"}),
    ("PUT", "/v1/me/accounts/{account_id}/statement"): frozenset({"consumer"}),
    ("DELETE", "/v1/me/accounts/{account_id}/statement"): frozenset({"consumer"}),
    ("POST", "/v1/me/disputes"): frozenset({"consumer"}),
    ("GET", "/v1/me/disputes"): frozenset({"consumer"}),
    ("GET", "/v1/me/disputes/{dispute_id}"): frozenset({"consumer"}),
    ("POST", "/v1/inquiries"): frozenset({"lender"}),
    ("GET", "/v1/inquiries"): frozenset({"lender"}),
    ("GET", "/v1/inquiries/{inquiry_id}"): frozenset({"lender"}),
    ("POST", "/v1/furnishers/{furnisher_id}/batches"): frozenset({"furnisher"}),
    ("GET", "/v1/furnishers/{furnisher_id}/batches"): frozenset({"furnisher"}),
    ("GET", "/v1/furnishers/{furnisher_id}/batches/{batch_id}"): frozenset({"furnisher"}),
    ("GET", "/v1/furnishers/{furnisher_id}/disputes"): frozenset({"furnisher"}),
    ("GET", "/v1/furnishers/{furnisher_id}/disputes/{dispute_id}"): frozenset({"furnisher"}),
    ("POST", "/v1/furnishers/{furnisher_id}/disputes/{dispute_id}/resolution"): frozenset(
        {"furnisher"}
    ),
    ("GET", "/v1/audit/verify"): frozenset({"regulator"}),
    ("GET", "/v1/alerts"): frozenset({"regulator", "operator"}),
    ("GET", "/v1/disputes/summary"): frozenset({"regulator", "operator"}),
    ("GET", "/v1/consumers"): frozenset({"operator"}),
}

# The key of each role that the matrix calls with (the "_a" side owns the objects).
CALLER = {
    "furnisher": "furnisher_a",
    "lender": "lender_a",
    "consumer": "consumer_a",
    "regulator": "regulator",
    "operator": "operator",
}


def test_every_route_is_in_the_matrix(service: Service) -> None:
    actual = policy.route_roles(service.client.app)  # type: ignore[arg-type]
    missing = sorted(set(actual) - set(EXPECTED))
    assert not missing, f"routes without an expected row in the matrix: {missing}"
    stale = sorted(set(EXPECTED) - set(actual))
    assert not stale, f"matrix rows for routes the app no longer has: {stale}"
    assert actual == EXPECTED


def _setup(svc: Service, tmp_path: Any) -> dict[str, Any]:
    consent_for_revoke = svc.consent()
    consent_for_inquiry = svc.consent()
    r = svc.inquire(consent_for_inquiry)
    assert r.status_code == 201, r.text
    account = svc.rows("SELECT min(id) FROM accounts WHERE consumer_id = :c", c=svc.consumer_a)[0][
        0
    ]
    batch = svc.rows("SELECT min(id) FROM batches WHERE furnisher_id = 'bankcard'")[0][0]
    # A dispute of the consumer's on the whole account (the account is the bank card's).
    d = svc.call(
        "consumer_a", "POST", "/v1/me/disputes", json={"account_id": account, "reason": "not_mine"}
    )
    assert d.status_code == 201, d.text
    month = svc.rows("SELECT max(month) FROM account_months WHERE account_id = :a", a=account)[0][0]
    upload = ingest_factories.write_csv(
        tmp_path / "2024-03.accounts.csv", ingest_factories.accounts(3)
    )
    return {
        "consent_revoke": consent_for_revoke,
        "consent_inquiry": consent_for_inquiry,
        "inquiry": r.json()["inquiry_id"],
        "account": account,
        "batch": batch,
        "upload": upload.read_bytes(),
        "dispute": d.json()["dispute_id"],
        "month": str(month)[:7],
    }


def _request(svc: Service, method: str, path: str, objs: dict[str, Any]) -> dict[str, Any]:
    """A valid request for the cell (objects owned by the '_a' principals)."""
    url = (
        path.replace("{consent_id}", objs["consent_revoke"])
        .replace("{account_id}", str(objs["account"]))
        .replace("{inquiry_id}", str(objs["inquiry"]))
        .replace("{furnisher_id}", "bankcard")
        .replace("{batch_id}", objs["batch"])
        .replace("{dispute_id}", str(objs["dispute"]))
    )
    kw: dict[str, Any] = {}
    if (method, path) == ("POST", "/v1/me/consents"):
        kw["json"] = {"lender": LENDER_A, "purpose": "account_review", "days": 10}
    elif (method, path) == ("PUT", "/v1/me/fraud-alert"):
        kw["json"] = {"days": 90}
    elif (method, path) == ("PUT", "/v1/me/accounts/{account_id}/statement"):
        kw["json"] = {"text": "I disputed this late payment with the bank."}
    elif (method, path) == ("POST", "/v1/inquiries"):
        svc.execute("UPDATE consumer_controls SET frozen = :f", f=False)
        kw["json"] = {
            "consumer_id": svc.consumer_a,
            "purpose": "credit_application",
            "consent_id": objs["consent_inquiry"],
        }
    elif (method, path) == ("POST", "/v1/me/disputes"):
        # One month of the account (the whole account is disputed already).
        kw["json"] = {"account_id": objs["account"], "month": objs["month"], "reason": "never_late"}
    elif (method, path) == (
        "POST",
        "/v1/furnishers/{furnisher_id}/disputes/{dispute_id}/resolution",
    ):
        kw["json"] = {"outcome": "verified", "note": "Checked against our ledger."}
    elif (method, path) == ("POST", "/v1/furnishers/{furnisher_id}/batches"):
        url += "?file_name=2024-03.accounts.csv"
        kw["content"] = objs["upload"]
        kw["headers"] = {"Content-Type": "application/octet-stream"}
    return {"method": method, "url": url, **kw}


def test_only_admitted_roles_succeed(service: Service, tmp_path: Any) -> None:
    objs = _setup(service, tmp_path)
    outcomes: dict[tuple[str, str, str], int] = {}
    for (method, path), roles in sorted(EXPECTED.items()):
        for role in (*ROLES, "anonymous"):
            req = _request(service, method, path, objs)
            who = CALLER.get(role)
            audited = service.count("audit_log")
            r = service.call(who, req.pop("method"), req.pop("url"), **req)
            outcomes[(method, path, role)] = r.status_code
            if roles is None:
                assert r.status_code == 200, (method, path, role, r.text)
            elif who is None:
                assert r.status_code == 401, (method, path, role, r.text)
                assert r.headers["content-type"] == "application/problem+json"
            elif role in roles:
                assert 200 <= r.status_code < 300, (method, path, role, r.text)
                # Every access is on the audit log, in the same transaction as the action.
                assert service.count("audit_log") > audited, (method, path, "not audited")
            else:
                assert r.status_code == 403, (method, path, role, r.text)
                assert r.json()["title"] == "Forbidden"
    assert len(outcomes) == len(EXPECTED) * (len(ROLES) + 1)


@pytest.mark.parametrize("token", ["", "Bearer", "Bearer nonsense", "Basic abc", "Bearer ob_x_y"])
def test_bad_credentials_are_401(service: Service, token: str) -> None:
    r = service.client.get("/v1/me/report", headers={"Authorization": token})
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith("Bearer")


def test_revoked_and_forged_keys_are_refused(service: Service) -> None:
    key = service.keys["consumer_a"].key
    forged = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")
    assert (
        service.client.get(
            "/v1/me/report", headers={"Authorization": f"Bearer {forged}"}
        ).status_code
        == 401
    )
    # A new credential revokes the old one (once the short auth cache has forgotten it).
    from openbureau.service.auth import issue_consumer_credential

    issue_consumer_credential(service.db, service.ctx.keys, service.consumer_a, now=service.clock())
    service.client.app.state.bureau.auth.forget()  # type: ignore[attr-defined]
    r = service.call("consumer_a", "GET", "/v1/me/report")
    assert r.status_code == 401
    assert "revoked" in r.json()["detail"]


def test_keys_are_stored_only_as_hashes(service: Service) -> None:
    stored = " ".join(str(v) for row in service.rows("SELECT * FROM api_clients") for v in row)
    for issued in service.keys.values():
        secret = issued.key.split("_", 2)[2]
        assert secret not in stored


def test_a_route_without_roles_is_refused_at_build_time() -> None:
    from fastapi import FastAPI

    from openbureau.errors import ConfigError

    app = FastAPI()

    @app.get("/v1/forgotten")
    def forgotten() -> dict[str, str]:
        return {}

    with pytest.raises(ConfigError, match="declares no roles"):
        policy.check(app)
