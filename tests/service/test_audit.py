"""The audit chain: written with every action, and tamper-evident — an edited, deleted or
reordered entry (changed directly in the database) is caught at the first broken link."""

from __future__ import annotations

import threading

from openbureau.service import audit

from .conftest import LENDER_A, Service


def _verify(svc: Service) -> dict[str, object]:
    r = svc.call("regulator", "GET", "/v1/audit/verify")
    assert r.status_code == 200, r.text
    body: dict[str, object] = r.json()
    return body


def _check(svc: Service) -> audit.Verification:
    with svc.db.read() as conn:
        return audit.verify(conn)


def _activity(svc: Service) -> None:
    consent = svc.consent()
    assert svc.inquire(consent).status_code == 201
    assert svc.call("consumer_a", "GET", "/v1/me/report").status_code == 200
    assert svc.call("consumer_a", "PUT", "/v1/me/freeze").status_code == 200
    assert svc.call("consumer_a", "DELETE", "/v1/me/freeze").status_code == 200


def test_every_action_is_audited_and_the_chain_verifies(service: Service) -> None:
    before = service.count("audit_log")
    _activity(service)
    actions = [r.action for r in service.rows("SELECT action FROM audit_log ORDER BY seq")][before:]
    assert actions == [
        "consent.grant",
        "inquiry.create",
        "report.view",
        "freeze.set",
        "freeze.lift",
    ]
    body = _verify(service)
    assert body["ok"] is True and body["broken_at"] is None
    # The verification itself is an access: it is recorded after it ran.
    last = service.rows("SELECT action, actor FROM audit_log ORDER BY seq DESC")[0]
    assert last.action == "audit.verify" and last.actor == service.keys["regulator"].client_id
    # No personal data: details hold ids, purposes and outcomes only.
    details = " ".join(r.detail for r in service.rows("SELECT detail FROM audit_log"))
    assert "test person" not in details


def test_edit_is_caught(service: Service) -> None:
    _activity(service)
    assert _check(service).ok
    original = service.rows("SELECT detail FROM audit_log WHERE seq = 3")[0].detail
    service.execute("UPDATE audit_log SET detail = :d WHERE seq = 3", d='{"purpose":"nothing"}')
    result = _check(service)
    assert (result.ok, result.broken_at) == (False, 3)
    assert "altered" in str(result.problem)
    assert _verify(service)["broken_at"] == 3
    service.execute("UPDATE audit_log SET detail = :d WHERE seq = 3", d=original)
    service.execute("DELETE FROM audit_log WHERE action = 'audit.verify'")
    service.execute(
        "UPDATE audit_head SET seq = (SELECT max(seq) FROM audit_log), hash = (SELECT hash FROM audit_log WHERE seq = (SELECT max(seq) FROM audit_log))"
    )
    assert _check(service).ok


def test_edit_of_actor_or_time_is_caught(service: Service) -> None:
    _activity(service)
    service.execute("UPDATE audit_log SET actor = 'someone-else' WHERE seq = 5")
    assert _check(service).broken_at == 5


def test_delete_is_caught(service: Service) -> None:
    _activity(service)
    service.execute("DELETE FROM audit_log WHERE seq = 4")
    result = _check(service)
    assert (result.ok, result.broken_at) == (False, 4)
    assert "missing" in str(result.problem)


def test_delete_of_the_last_entries_is_caught(service: Service) -> None:
    _activity(service)
    last = service.count("audit_log")
    service.execute("DELETE FROM audit_log WHERE seq >= :s", s=last - 1)
    result = _check(service)
    assert (result.ok, result.broken_at) == (False, last - 1)
    assert "head" in str(result.problem)


def test_reorder_is_caught(service: Service) -> None:
    _activity(service)
    # Swap entries 3 and 4 (sequence numbers exchanged, contents kept).
    service.execute("UPDATE audit_log SET seq = -1 WHERE seq = 3")
    service.execute("UPDATE audit_log SET seq = 3 WHERE seq = 4")
    service.execute("UPDATE audit_log SET seq = 4 WHERE seq = -1")
    result = _check(service)
    assert (result.ok, result.broken_at) == (False, 3)


def test_rewritten_hashes_are_caught(service: Service) -> None:
    # An edit that recomputes its own hash still breaks the next entry's link.
    _activity(service)
    row = service.rows("SELECT * FROM audit_log WHERE seq = 2")[0]._mapping
    forged = dict(row, detail='{"days":9999}')
    new_hash = audit.entry_hash(forged, row["prev_hash"])
    service.execute(
        "UPDATE audit_log SET detail = :d, hash = :h WHERE seq = 2", d=forged["detail"], h=new_hash
    )
    assert _check(service).broken_at == 3


def test_concurrent_inquiries_keep_one_chain(service: Service) -> None:
    consent = service.consent()
    before = service.count("audit_log")
    errors: list[str] = []

    def work() -> None:
        for _ in range(5):
            r = service.call(
                "lender_a",
                "POST",
                "/v1/inquiries",
                json={
                    "consumer_id": service.consumer_a,
                    "purpose": "credit_application",
                    "consent_id": consent,
                },
            )
            if r.status_code != 201:
                errors.append(r.text)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert service.count("inquiries", "WHERE lender = :l", l=LENDER_A) == 30
    assert service.count("audit_log") == before + 30
    result = _check(service)
    assert result.ok and result.entries == result.head_seq


def test_non_ascii_details_hash_the_same_on_every_database(service: Service) -> None:
    from openbureau.service.auth import create_client

    create_client(
        service.db,
        service.ctx.keys,
        role="lender",
        name="招商",
        lender="招商微贷",
        now=service.clock(),
    )
    service.consent(lender="招商微贷")
    assert "招商微贷" in service.rows("SELECT detail FROM audit_log ORDER BY seq DESC")[0].detail
    assert _check(service).ok
