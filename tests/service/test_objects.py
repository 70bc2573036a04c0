"""Object-level checks: every route that takes an id refuses another owner's object (404),
for every role that may call it. The table of id-taking routes is checked against the app."""

from __future__ import annotations

from typing import Any

from openbureau.service import policy
from tests.ingest import factories as ingest_factories

from .conftest import LENDER_B, Service

# (method, path) -> how to call it, as the "_a" principal, on an object owned by "_b".
ID_ROUTES = {
    ("DELETE", "/v1/me/consents/{consent_id}"),
    ("PUT", "/v1/me/accounts/{account_id}/statement"),
    ("DELETE", "/v1/me/accounts/{account_id}/statement"),
    ("GET", "/v1/inquiries/{inquiry_id}"),
    ("POST", "/v1/furnishers/{furnisher_id}/batches"),
    ("GET", "/v1/furnishers/{furnisher_id}/batches"),
    ("GET", "/v1/furnishers/{furnisher_id}/batches/{batch_id}"),
    ("GET", "/v1/me/disputes/{dispute_id}"),
    ("GET", "/v1/furnishers/{furnisher_id}/disputes"),
    ("GET", "/v1/furnishers/{furnisher_id}/disputes/{dispute_id}"),
    ("POST", "/v1/furnishers/{furnisher_id}/disputes/{dispute_id}/resolution"),
}


def test_every_id_route_is_covered(service: Service) -> None:
    with_ids = {
        key
        for key in policy.route_roles(service.client.app)
        if "{" in key[1]  # type: ignore[arg-type]
    }
    assert with_ids == ID_ROUTES


def _others(svc: Service) -> dict[str, Any]:
    consent_b = svc.consent(who="consumer_b")
    account_b = svc.rows("SELECT min(id) FROM accounts WHERE consumer_id = :c", c=svc.consumer_b)[
        0
    ][0]
    inquiry_b = svc.inquire(svc.consent(who="consumer_a", lender=LENDER_B), who="lender_b")
    assert inquiry_b.status_code == 201
    batch_b = svc.rows("SELECT min(id) FROM batches WHERE furnisher_id = 'payplat'")[0][0]
    # Consumer B disputes their pay-later account: B's dispute, the pay platform's to answer.
    payplat_b = svc.rows(
        "SELECT id FROM accounts WHERE consumer_id = :c AND furnisher_id = 'payplat'",
        c=svc.consumer_b,
    )[0][0]
    dispute_b = svc.call(
        "consumer_b",
        "POST",
        "/v1/me/disputes",
        json={"account_id": payplat_b, "reason": "duplicate"},
    )
    assert dispute_b.status_code == 201, dispute_b.text
    return {
        "consent": consent_b,
        "account": account_b,
        "inquiry": inquiry_b.json()["inquiry_id"],
        "batch": batch_b,
        "dispute": dispute_b.json()["dispute_id"],
    }


def test_other_owners_objects_are_not_found(service: Service, tmp_path: Any) -> None:
    o = _others(service)
    upload = ingest_factories.write_csv(
        tmp_path / "2024-03.accounts.csv", ingest_factories.accounts(2)
    )
    calls = {
        ("DELETE", "/v1/me/consents/{consent_id}"): (
            "consumer_a",
            f"/v1/me/consents/{o['consent']}",
            {},
        ),
        ("PUT", "/v1/me/accounts/{account_id}/statement"): (
            "consumer_a",
            f"/v1/me/accounts/{o['account']}/statement",
            {"json": {"text": "not mine"}},
        ),
        ("DELETE", "/v1/me/accounts/{account_id}/statement"): (
            "consumer_a",
            f"/v1/me/accounts/{o['account']}/statement",
            {},
        ),
        ("GET", "/v1/inquiries/{inquiry_id}"): ("lender_a", f"/v1/inquiries/{o['inquiry']}", {}),
        ("POST", "/v1/furnishers/{furnisher_id}/batches"): (
            "furnisher_a",
            "/v1/furnishers/payplat/batches?file_name=2024-03.accounts.csv",
            {"content": upload.read_bytes()},
        ),
        ("GET", "/v1/furnishers/{furnisher_id}/batches"): (
            "furnisher_a",
            "/v1/furnishers/payplat/batches",
            {},
        ),
        ("GET", "/v1/furnishers/{furnisher_id}/batches/{batch_id}"): (
            "furnisher_a",
            f"/v1/furnishers/payplat/batches/{o['batch']}",
            {},
        ),
        ("GET", "/v1/me/disputes/{dispute_id}"): (
            "consumer_a",
            f"/v1/me/disputes/{o['dispute']}",
            {},
        ),
        ("GET", "/v1/furnishers/{furnisher_id}/disputes"): (
            "furnisher_a",
            "/v1/furnishers/payplat/disputes",
            {},
        ),
        ("GET", "/v1/furnishers/{furnisher_id}/disputes/{dispute_id}"): (
            "furnisher_a",
            f"/v1/furnishers/payplat/disputes/{o['dispute']}",
            {},
        ),
        ("POST", "/v1/furnishers/{furnisher_id}/disputes/{dispute_id}/resolution"): (
            "furnisher_a",
            f"/v1/furnishers/payplat/disputes/{o['dispute']}/resolution",
            {"json": {"outcome": "deleted"}},
        ),
    }
    assert set(calls) == ID_ROUTES
    batches_before = service.count("batches")
    statements_before = service.count("consumer_statements")
    for (method, _path), (who, url, kw) in calls.items():
        r = service.call(who, method, url, **kw)
        assert r.status_code == 404, (method, url, r.text)
        assert r.headers["content-type"] == "application/problem+json"
    # Own furnisher id, another furnisher's batch or dispute: still not found.
    r = service.call("furnisher_a", "GET", f"/v1/furnishers/bankcard/batches/{o['batch']}")
    assert r.status_code == 404
    mine = f"/v1/furnishers/bankcard/disputes/{o['dispute']}"
    assert service.call("furnisher_a", "GET", mine).status_code == 404
    r = service.call("furnisher_a", "POST", f"{mine}/resolution", json={"outcome": "deleted"})
    assert r.status_code == 404
    own_queue = service.call("furnisher_a", "GET", "/v1/furnishers/bankcard/disputes").json()
    assert o["dispute"] not in {d["dispute_id"] for d in own_queue["items"]}
    # A dispute names an account in its body: another consumer's account is not found either.
    r = service.call(
        "consumer_a",
        "POST",
        "/v1/me/disputes",
        json={"account_id": o["account"], "reason": "not_mine"},
    )
    assert r.status_code == 404, r.text
    assert [
        d["dispute_id"]
        for d in service.call("consumer_a", "GET", "/v1/me/disputes").json()["items"]
    ] == []
    # Nothing was changed on the other owners' objects.
    assert service.count("batches") == batches_before
    assert service.count("consumer_statements") == statements_before
    assert service.count("consents", "WHERE revoked_at IS NOT NULL") == 0
    assert service.count("disputes", "WHERE status <> 'open'") == 0
    assert service.count("disputes") == 1
    # And every other role is turned away before any object is looked at.
    for (method, path), (_who, url, kw) in calls.items():
        for role in ("furnisher_a", "lender_a", "consumer_a", "regulator", "operator"):
            roles = policy.route_roles(service.client.app)[(method, path)]  # type: ignore[arg-type]
            if roles is not None and role.split("_")[0] not in roles:
                assert service.call(role, method, url, **kw).status_code == 403


def test_a_consumer_sees_only_their_own_file(service: Service) -> None:
    a = service.call("consumer_a", "GET", "/v1/me/report").json()
    b = service.call("consumer_b", "GET", "/v1/me/report").json()
    assert a["consumer_id"] == service.consumer_a and b["consumer_id"] == service.consumer_b
    own_a = {
        r.id
        for r in service.rows(
            "SELECT id FROM accounts WHERE consumer_id = :c", c=service.consumer_a
        )
    }
    assert {x["account_id"] for x in a["accounts"]} == own_a
    service.consent(who="consumer_b")
    assert service.call("consumer_a", "GET", "/v1/me/consents").json()["items"] == []
