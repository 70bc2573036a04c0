"""Consent and permissible purpose, driven by the controllable clock: every refusal leaves no
inquiry; every success leaves exactly one inquiry and one audit entry."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from openbureau.features.asof import AsOf
from openbureau.features.compute import features_for_consumer
from openbureau.ingest.load import NationalIdSealer
from tests.ingest.factories import national_id

from .conftest import LENDER_B, Service


def _counts(svc: Service) -> tuple[int, int]:
    return svc.count("inquiries"), svc.count("audit_log")


def _refused(svc: Service, call: Callable[[], Any], reason: str) -> None:
    before = _counts(svc)
    response = call()
    assert response.status_code == 403, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["reason"] == reason
    assert body["type"].endswith("/inquiry-refused")
    inquiries, audits = _counts(svc)
    assert inquiries == before[0], "a refused inquiry must not be recorded as an inquiry"
    assert audits == before[1] + 1, "a refusal is audited once"
    last = svc.rows("SELECT action, detail FROM audit_log ORDER BY id DESC LIMIT 1")[0]
    assert last.action == "inquiry.refused" and reason in last.detail


def _succeeds(svc: Service, call: Callable[[], Any]) -> dict[str, Any]:
    before = _counts(svc)
    response = call()
    assert response.status_code == 201, response.text
    assert _counts(svc) == (before[0] + 1, before[1] + 1)
    body: dict[str, Any] = response.json()
    last = svc.rows("SELECT action, object_id, consumer_id FROM audit_log ORDER BY id DESC")[0]
    assert last.action == "inquiry.create"
    assert last.object_id == str(body["inquiry_id"])
    assert last.consumer_id == svc.consumer_a
    return body


def test_live_consent_succeeds_once_per_inquiry(service: Service) -> None:
    consent = service.consent()
    body = _succeeds(service, lambda: service.inquire(consent))
    assert body["kind"] == "hard" and body["report"]["consumer_id"] == service.consumer_a
    _succeeds(service, lambda: service.inquire(consent))  # reusable until it expires


def test_missing_consent(service: Service) -> None:
    _refused(service, lambda: service.inquire("no-such-consent"), "consent_missing")


def test_expired_consent(service: Service) -> None:
    consent = service.consent(days=3)
    service.clock.advance(days=2, hours=23)
    _succeeds(service, lambda: service.inquire(consent))
    service.clock.advance(hours=1)
    _refused(service, lambda: service.inquire(consent), "consent_expired")
    states = {
        c["consent_id"]: c["state"]
        for c in service.call("consumer_a", "GET", "/v1/me/consents").json()["items"]
    }
    assert states[consent] == "expired"


def test_revoked_consent(service: Service) -> None:
    consent = service.consent()
    r = service.call("consumer_a", "DELETE", f"/v1/me/consents/{consent}")
    assert r.status_code == 200 and r.json()["state"] == "revoked"
    _refused(service, lambda: service.inquire(consent), "consent_revoked")


def test_wrong_lender(service: Service) -> None:
    consent = service.consent()  # granted to lender A
    _refused(service, lambda: service.inquire(consent, who="lender_b"), "consent_mismatch")


def test_wrong_purpose(service: Service) -> None:
    consent = service.consent(purpose="account_review")
    _refused(
        service, lambda: service.inquire(consent, purpose="credit_application"), "consent_mismatch"
    )
    # The purpose it was given for works, and it is a soft inquiry.
    body = _succeeds(service, lambda: service.inquire(consent, purpose="account_review"))
    assert body["kind"] == "soft"


def test_wrong_consumer(service: Service) -> None:
    consent = service.consent()  # consumer A's consent
    _refused(
        service, lambda: service.inquire(consent, consumer=service.consumer_b), "consent_mismatch"
    )


def test_purpose_the_jurisdiction_does_not_allow(service: Service) -> None:
    # cn (the default profile) has no employment screening; the consumer cannot consent to it.
    r = service.call(
        "consumer_a",
        "POST",
        "/v1/me/consents",
        json={"lender": "acme-microloans", "purpose": "employment_screening"},
    )
    assert r.status_code == 422 and "not permissible" in r.json()["detail"]
    consent = service.consent()
    _refused(
        service,
        lambda: service.inquire(consent, purpose="employment_screening"),
        "purpose_not_permitted",
    )


def test_frozen_file(service: Service) -> None:
    consent = service.consent()
    assert service.call("consumer_a", "PUT", "/v1/me/freeze").json()["frozen"] is True
    _refused(service, lambda: service.inquire(consent), "file_frozen")
    assert service.call("consumer_a", "DELETE", "/v1/me/freeze").json()["frozen"] is False
    _succeeds(service, lambda: service.inquire(consent))


def test_unknown_lender_cannot_be_consented_to(service: Service) -> None:
    r = service.call(
        "consumer_a",
        "POST",
        "/v1/me/consents",
        json={"lender": "nobody", "purpose": "account_review"},
    )
    assert r.status_code == 422 and "not a registered lender" in r.json()["detail"]


def test_unknown_consumer_is_404_and_audited(service: Service) -> None:
    consent = service.consent()
    before = _counts(service)
    r = service.inquire(consent, consumer="C99999999")
    assert r.status_code == 404
    assert _counts(service) == (before[0], before[1] + 1)


def test_inquiry_by_national_id(service: Service) -> None:
    sealer = NationalIdSealer(service.ctx.keys)
    nid = national_id(7)
    service.execute(
        "UPDATE consumers SET national_id_hmac = :h WHERE id = :c",
        h=sealer.hmac_hex(nid),
        c=service.consumer_a,
    )
    consent = service.consent()
    body = {
        "identity": {"national_id": nid},
        "purpose": "credit_application",
        "consent_id": consent,
    }
    r = service.call("lender_a", "POST", "/v1/inquiries", json=body)
    assert r.status_code == 201, r.text
    assert r.json()["consumer_id"] == service.consumer_a
    # Both ways of naming the consumer at once is a bad request, not a guess.
    r = service.call(
        "lender_a", "POST", "/v1/inquiries", json={**body, "consumer_id": service.consumer_a}
    )
    assert r.status_code == 422
    # An invalid id is refused with the reason, and never echoed back.
    r = service.call(
        "lender_a",
        "POST",
        "/v1/inquiries",
        json={**body, "identity": {"national_id": "110101198503120000"}},
    )
    assert r.status_code == 422 and "110101198503120000" not in r.text


@pytest.mark.parametrize(
    "purpose,kind", [("credit_application", "hard"), ("account_review", "soft")]
)
def test_inquiries_show_on_the_report_and_hard_ones_count_in_features(
    service: Service, purpose: str, kind: str
) -> None:
    consent = service.consent(purpose=purpose)
    assert service.inquire(consent, purpose=purpose).status_code == 201
    report = service.call("consumer_a", "GET", "/v1/me/report").json()
    assert [(i["lender"], i["purpose"], i["kind"]) for i in report["inquiries"]] == [
        ("acme-microloans", purpose, kind)
    ]
    mine = service.call("consumer_a", "GET", "/v1/me/inquiries").json()["items"]
    assert len(mine) == 1 and mine[0]["purpose"] == purpose
    feats = features_for_consumer(service.ctx, service.consumer_a, AsOf(service.clock().date()))
    assert feats is not None
    assert feats["nc_hard_inquiries_6m"] == (1.0 if kind == "hard" else 0.0)


def test_an_inquiry_report_lists_the_same_inquiries_as_the_consumer_sees(
    service: Service,
) -> None:
    # The inquiry reads the file's inquiries with its header (one JSON aggregate), the
    # consumer's report with a query of its own: same rows, same order (newest first, ties
    # by id), same two-year window.
    old = service.consent(lender=LENDER_B)
    assert service.inquire(old, who="lender_b").status_code == 201
    service.clock.advance(days=731)  # that one is now too old to show
    consent = service.consent(days=30)
    for purpose in ("credit_application", "credit_application"):  # two at the same instant
        assert service.inquire(consent, purpose=purpose).status_code == 201
    service.clock.advance(hours=1)
    review = service.consent(purpose="account_review")
    assert service.inquire(review, purpose="account_review").status_code == 201
    service.clock.advance(minutes=1)
    again = service.inquire(consent).json()["report"]["inquiries"]
    mine = service.call("consumer_a", "GET", "/v1/me/report").json()["inquiries"]
    # The report of the last inquiry was made before it was recorded: the three before it.
    assert [(i["purpose"], i["kind"]) for i in again] == [
        ("account_review", "soft"),
        ("credit_application", "hard"),
        ("credit_application", "hard"),
    ]
    assert again == mine[1:] and len(mine) == 4
    assert mine[1]["created_at"] > mine[2]["created_at"] == mine[3]["created_at"]


def test_lenders_see_only_their_own_inquiries(service: Service) -> None:
    a = service.inquire(service.consent()).json()["inquiry_id"]
    consent_b = service.consent(lender=LENDER_B)
    b = service.inquire(consent_b, who="lender_b").json()["inquiry_id"]
    ids_a = [
        i["inquiry_id"] for i in service.call("lender_a", "GET", "/v1/inquiries").json()["items"]
    ]
    ids_b = [
        i["inquiry_id"] for i in service.call("lender_b", "GET", "/v1/inquiries").json()["items"]
    ]
    assert ids_a == [a] and ids_b == [b]
