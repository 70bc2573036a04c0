"""The audit chains: written with every action, and tamper-evident — an edited, deleted or
reordered entry (changed directly in the database) is caught at the first broken link.

One consumer's entries share one chain; the tests tamper with consumer A's chain, at the
entries that ``_activity`` wrote (``n`` = the n-th of them)."""

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


def _activity(svc: Service) -> tuple[int, int]:
    """Five actions on consumer A's file; returns their chain and the seq before the first."""
    consent = svc.consent()
    assert svc.inquire(consent).status_code == 201
    assert svc.call("consumer_a", "GET", "/v1/me/report").status_code == 200
    assert svc.call("consumer_a", "PUT", "/v1/me/freeze").status_code == 200
    assert svc.call("consumer_a", "DELETE", "/v1/me/freeze").status_code == 200
    first = svc.rows(
        "SELECT chain, seq FROM audit_log WHERE action = 'consent.grant' ORDER BY id DESC"
    )[0]
    mine = svc.rows(
        "SELECT action FROM audit_log WHERE chain = :c AND seq > :s ORDER BY seq",
        c=first.chain,
        s=first.seq - 1,
    )
    assert len(mine) == 5  # all five on consumer A's chain, in order
    return first.chain, first.seq - 1


def test_every_action_is_audited_and_the_chain_verifies(service: Service) -> None:
    before = service.count("audit_log")
    _activity(service)
    actions = [r.action for r in service.rows("SELECT action FROM audit_log ORDER BY id")][before:]
    assert actions == [
        "consent.grant",
        "inquiry.create",
        "report.view",
        "freeze.set",
        "freeze.lift",
    ]
    body = _verify(service)
    assert body["ok"] is True and body["broken_at"] is None and body["chains"] == audit.CHAINS
    # The verification itself is an access: it is recorded after it ran.
    last = service.rows("SELECT action, actor FROM audit_log ORDER BY id DESC")[0]
    assert last.action == "audit.verify" and last.actor == service.keys["regulator"].client_id
    # No personal data: details hold ids, purposes and outcomes only.
    details = " ".join(r.detail for r in service.rows("SELECT detail FROM audit_log"))
    assert "test person" not in details


def test_edit_is_caught(service: Service) -> None:
    chain, base = _activity(service)
    assert _check(service).ok
    where = "WHERE chain = :c AND seq = :s"
    original = service.rows(f"SELECT detail FROM audit_log {where}", c=chain, s=base + 3)[0]
    service.execute(
        f"UPDATE audit_log SET detail = :d {where}", d='{"purpose":"nothing"}', c=chain, s=base + 3
    )
    result = _check(service)
    assert (result.ok, result.chain, result.broken_at) == (False, chain, base + 3)
    assert "altered" in str(result.problem)
    body = _verify(service)
    assert (body["chain"], body["broken_at"]) == (chain, base + 3)
    service.execute(
        f"UPDATE audit_log SET detail = :d {where}", d=original.detail, c=chain, s=base + 3
    )
    assert _check(service).ok


def test_edit_of_actor_or_time_is_caught(service: Service) -> None:
    chain, base = _activity(service)
    service.execute(
        "UPDATE audit_log SET actor = 'someone-else' WHERE chain = :c AND seq = :s",
        c=chain,
        s=base + 5,
    )
    assert _check(service).broken_at == base + 5


def test_delete_is_caught(service: Service) -> None:
    chain, base = _activity(service)
    service.execute("DELETE FROM audit_log WHERE chain = :c AND seq = :s", c=chain, s=base + 4)
    result = _check(service)
    assert (result.ok, result.chain, result.broken_at) == (False, chain, base + 4)
    assert "missing" in str(result.problem)


def test_delete_of_the_last_entries_is_caught(service: Service) -> None:
    chain, base = _activity(service)
    service.execute("DELETE FROM audit_log WHERE chain = :c AND seq >= :s", c=chain, s=base + 4)
    result = _check(service)
    assert (result.ok, result.chain, result.broken_at) == (False, chain, base + 4)
    assert "head" in str(result.problem)


def test_delete_of_a_whole_chain_and_its_head_is_caught(service: Service) -> None:
    chain, _ = _activity(service)
    service.execute("DELETE FROM audit_log WHERE chain = :c", c=chain)
    service.execute("DELETE FROM audit_head WHERE id = :c", c=chain)
    result = _check(service)
    assert (result.ok, result.chain) == (False, chain)
    assert "head of chain" in str(result.problem)


def test_moving_an_entry_to_another_chain_is_caught(service: Service) -> None:
    chain, base = _activity(service)
    other = chain % audit.CHAINS + 1
    top = service.rows("SELECT seq FROM audit_head WHERE id = :c", c=other)[0].seq
    service.execute(
        "UPDATE audit_log SET chain = :o, seq = :t WHERE chain = :c AND seq = :s",
        o=other,
        t=top + 1,
        c=chain,
        s=base + 5,
    )
    result = _check(service)
    assert not result.ok and result.chain in {chain, other}


def test_reorder_is_caught(service: Service) -> None:
    chain, base = _activity(service)
    # Swap entries 3 and 4 (sequence numbers exchanged, contents kept).
    swap = "UPDATE audit_log SET seq = :new WHERE chain = :c AND seq = :old"
    service.execute(swap, c=chain, old=base + 3, new=-1)
    service.execute(swap, c=chain, old=base + 4, new=base + 3)
    service.execute(swap, c=chain, old=-1, new=base + 4)
    result = _check(service)
    assert (result.ok, result.chain, result.broken_at) == (False, chain, base + 3)


def test_rewritten_hashes_are_caught(service: Service) -> None:
    # An edit that recomputes its own hash still breaks the next entry's link.
    chain, base = _activity(service)
    where = "WHERE chain = :c AND seq = :s"
    row = service.rows(f"SELECT * FROM audit_log {where}", c=chain, s=base + 2)[0]._mapping
    forged = dict(row, detail='{"days":9999}')
    new_hash = audit.entry_hash(forged, row["prev_hash"])
    service.execute(
        f"UPDATE audit_log SET detail = :d, hash = :h {where}",
        d=forged["detail"],
        h=new_hash,
        c=chain,
        s=base + 2,
    )
    assert _check(service).broken_at == base + 3


def test_concurrent_inquiries_keep_their_chain_whole(service: Service) -> None:
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
    assert "招商微贷" in service.rows("SELECT detail FROM audit_log ORDER BY id DESC")[0].detail
    assert _check(service).ok
