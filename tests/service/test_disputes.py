"""Disputes: a consumer contests an item, its furnisher answers by the deadline — verified,
corrected (through ingest), deleted — or the deadline passes and the profile decides; the
report marks open disputes, and removed or unverified items leave the score."""

from __future__ import annotations

import datetime as dt
import json
import threading
from typing import Any

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from openbureau.features.asof import AsOf
from openbureau.features.snapshot import extract, point_in_time
from openbureau.rules.profiles import get_profile
from tests.ingest import factories as ingest_factories

from .conftest import START, Service

TEXT = "I paid this on time; the bank's app shows the payment on the 3rd."


def _account_a(svc: Service) -> int:
    return int(
        svc.rows("SELECT min(id) FROM accounts WHERE consumer_id = :c", c=svc.consumer_a)[0][0]
    )


def _months(svc: Service, account: int) -> list[str]:
    rows = svc.rows(
        "SELECT month FROM account_months WHERE account_id = :a ORDER BY month DESC", a=account
    )
    return [str(r.month)[:7] for r in rows]


def _open(svc: Service, who: str = "consumer_a", **body: Any) -> dict[str, Any]:
    r = svc.call(who, "POST", "/v1/me/disputes", json=body)
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    return out


def _resolve(svc: Service, dispute: int, furnisher: str = "bankcard", **body: Any) -> Any:
    who = "furnisher_a" if furnisher == "bankcard" else "furnisher_b"
    return svc.call(
        who, "POST", f"/v1/furnishers/{furnisher}/disputes/{dispute}/resolution", json=body
    )


def _report_account(svc: Service, account: int, who: str = "consumer_a") -> dict[str, Any] | None:
    report = svc.call(who, "GET", "/v1/me/report").json()
    found = [a for a in report["accounts"] if a["account_id"] == account]
    return found[0] if found else None


def _audit(svc: Service, action: str) -> list[Any]:
    return svc.rows(
        "SELECT actor, role, object_id, consumer_id, detail FROM audit_log WHERE action = :a "
        "ORDER BY id",
        a=action,
    )


def _snapshot_months(svc: Service, consumer: str) -> set[tuple[int, str]]:
    when = AsOf(svc.clock().date())
    snap = point_in_time(extract(svc.ctx, when, consumer_id=consumer), when, consumer_id=consumer)
    return {
        (int(a), str(m)[:7])
        for a, m in zip(
            snap.account_months.column("account_id").to_pylist(),
            snap.account_months.column("month").to_pylist(),
            strict=True,
        )
    }


def test_open_verify_and_the_report_flag(service: Service) -> None:
    account = _account_a(service)
    month = _months(service, account)[1]
    d = _open(service, account_id=account, month=month, reason="never_late", text=TEXT)
    profile = get_profile(service.ctx.settings.jurisdiction)
    assert d["status"] == "open" and d["effect"] is None and d["month"] == month
    assert d["furnisher_id"] == "bankcard" and d["furnisher_account_id"] == "BA000000"
    assert dt.datetime.fromisoformat(d["due_at"]) == START + dt.timedelta(days=profile.dispute_days)

    # While open, the consumer's report and a lender's both mark the item.
    flagged = _report_account(service, account)
    assert flagged is not None
    assert flagged["disputes"] == [
        {
            "state": "disputed",
            "label": "disputed by consumer",
            "month": month,
            "reason": "never_late",
            "since": START.date().isoformat(),
        }
    ]
    report = service.call("consumer_a", "GET", "/v1/me/report").json()
    assert report["summary"]["disputed_accounts"] == 1
    lender = service.inquire(service.consent()).json()["report"]
    assert [a["disputes"] for a in lender["accounts"] if a["account_id"] == account] == [
        flagged["disputes"]
    ]
    assert TEXT not in json.dumps(lender), "the consumer's words go to the furnisher only"

    # The furnisher's queue has it, with the consumer's words; the other furnisher's has not.
    queue = service.call("furnisher_a", "GET", "/v1/furnishers/bankcard/disputes?status=open")
    assert queue.status_code == 200
    assert [(x["dispute_id"], x["text"]) for x in queue.json()["items"]] == [
        (d["dispute_id"], TEXT)
    ]
    assert "consumer_id" not in queue.json()["items"][0]
    other = service.call("furnisher_b", "GET", "/v1/furnishers/payplat/disputes").json()
    assert other["items"] == []

    service.clock.advance(days=3)
    r = _resolve(service, d["dispute_id"], outcome="verified", note="Late per our ledger.")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "verified" and r.json()["effect"] == "none"
    assert r.json()["resolution_note"] == "Late per our ledger."
    mine = service.call("consumer_a", "GET", f"/v1/me/disputes/{d['dispute_id']}").json()
    assert mine["status"] == "verified" and mine["resolved_at"] is not None
    after = _report_account(service, account)
    assert after is not None and after["disputes"] == []
    assert after["history_60"] == flagged["history_60"], "verified: reported as it was"

    # Answered once: a second answer conflicts.
    again = _resolve(service, d["dispute_id"], outcome="deleted")
    assert again.status_code == 409 and again.headers["content-type"] == "application/problem+json"

    # Every step is on the audit log, on the consumer's chain, without the consumer's words.
    opened = _audit(service, "dispute.open")
    resolved = _audit(service, "dispute.resolve")
    assert [(r.object_id, r.consumer_id) for r in opened] == [
        (str(d["dispute_id"]), service.consumer_a)
    ]
    assert [(r.object_id, r.consumer_id, r.role) for r in resolved] == [
        (str(d["dispute_id"]), service.consumer_a, "furnisher")
    ]
    assert json.loads(resolved[0].detail) == {"outcome": "verified", "account_id": account}
    everything = " ".join(str(v) for row in service.rows("SELECT * FROM audit_log") for v in row)
    assert TEXT not in everything and "ledger" not in everything


def test_refusals(service: Service) -> None:
    account = _account_a(service)
    other = service.rows(
        "SELECT min(id) FROM accounts WHERE consumer_id = :c", c=service.consumer_b
    )[0][0]

    def post(**body: Any) -> Any:
        return service.call("consumer_a", "POST", "/v1/me/disputes", json=body)

    assert post(account_id=other, reason="not_mine").status_code == 404
    assert post(account_id=10**9, reason="not_mine").status_code == 404
    # A month the account has no report for; a month written wrong; 'other' needs words.
    assert post(account_id=account, month="2030-01", reason="never_late").status_code == 422
    assert post(account_id=account, month="2024-13", reason="never_late").status_code == 422
    assert post(account_id=account, reason="other").status_code == 422
    assert post(account_id=account, reason="made_up").status_code == 422
    assert post(account_id=account, reason="not_mine", text="x" * 401).status_code == 422
    # One open dispute per item: the whole account, and each month, separately.
    first = _open(service, account_id=account, reason="not_mine")
    again = post(account_id=account, reason="duplicate")
    assert again.status_code == 409 and str(first["dispute_id"]) in again.json()["detail"]
    month = _months(service, account)[0]
    _open(service, account_id=account, month=month, reason="wrong_balance")
    assert post(account_id=account, month=month, reason="never_late").status_code == 409
    assert service.count("disputes") == 2

    # The furnisher's answer: a known outcome, a note within bounds, a batch only when
    # corrected, and only on its own disputes.
    url = f"/v1/furnishers/bankcard/disputes/{first['dispute_id']}/resolution"
    for body in (
        {"outcome": "ignored"},
        {"outcome": "verified", "note": "n" * 401},
        {"outcome": "verified", "correction_batch_id": "b1"},
        {"outcome": "corrected"},
    ):
        r = service.call("furnisher_a", "POST", url, json=body)
        assert r.status_code == 422, (body, r.text)
    r = _resolve(service, 999_999, outcome="verified")
    assert r.status_code == 404
    assert service.count("disputes", "WHERE status = 'open'") == 2


def test_deleting_a_month_and_an_account(service: Service) -> None:
    account = _account_a(service)
    months = _months(service, account)
    latest, before = months[0], months[1]
    # The latest month was reported 90 days late; the consumer disputes it.
    service.execute(
        "UPDATE account_months SET status = 'dpd90', days_past_due = 95, balance_minor = 777 "
        "WHERE account_id = :a AND month = :m",
        a=account,
        m=dt.date.fromisoformat(f"{latest}-01"),
    )
    shown = _report_account(service, account)
    assert shown is not None and shown["history_24"][0] == "dpd90"
    assert (account, latest) in _snapshot_months(service, service.consumer_a)

    d = _open(service, account_id=account, month=latest, reason="never_late")
    r = _resolve(service, d["dispute_id"], outcome="deleted", note="Reported in error.")
    assert r.status_code == 200 and r.json()["effect"] == "removed"

    # Off the report: the account's current state is its latest remaining month.
    shown = _report_account(service, account)
    assert shown is not None
    assert shown["last_reported_month"] == before
    kept = service.rows(
        "SELECT status, days_past_due, balance_minor FROM account_months WHERE account_id = :a "
        "AND month = :m",
        a=account,
        m=dt.date.fromisoformat(f"{before}-01"),
    )[0]
    assert shown["history_24"][0] == kept.status
    assert (shown["days_past_due"], shown["balance_minor"]) == (
        kept.days_past_due,
        kept.balance_minor,
    )
    assert "dpd90" not in shown["history_60"] and shown["disputes"] == []
    # ... and out of the score: the snapshot (batch and online) no longer has that month.
    snap = _snapshot_months(service, service.consumer_a)
    assert (account, latest) not in snap and (account, before) in snap
    # A removed item cannot be disputed again; a furnisher re-reporting it does not bring
    # it back (the dispute's effect stays).
    again = service.call(
        "consumer_a",
        "POST",
        "/v1/me/disputes",
        json={"account_id": account, "month": latest, "reason": "never_late"},
    )
    assert again.status_code == 409

    # A whole account (consumer B's pay-later account, the pay platform's to answer).
    payplat = int(
        service.rows(
            "SELECT id FROM accounts WHERE consumer_id = :c AND furnisher_id = 'payplat'",
            c=service.consumer_b,
        )[0][0]
    )
    before_b = service.call("consumer_b", "GET", "/v1/me/report").json()
    d = _open(service, "consumer_b", account_id=payplat, reason="identity_theft")
    r = _resolve(service, d["dispute_id"], furnisher="payplat", outcome="deleted")
    assert r.status_code == 200, r.text
    after_b = service.call("consumer_b", "GET", "/v1/me/report").json()
    assert payplat not in {a["account_id"] for a in after_b["accounts"]}
    assert after_b["summary"]["accounts"] == before_b["summary"]["accounts"] - 1
    assert not {a for a, _ in _snapshot_months(service, service.consumer_b)} & {payplat}
    lender = service.inquire(service.consent("consumer_b"), consumer=service.consumer_b)
    assert payplat not in {a["account_id"] for a in lender.json()["report"]["accounts"]}


def test_a_correction_comes_through_ingest(service: Service, tmp_path: Any) -> None:
    def upload(name: str, records: list[dict[str, Any]]) -> dict[str, Any]:
        path = ingest_factories.write_csv(tmp_path / name, records)
        r = service.call(
            "furnisher_a",
            "POST",
            "/v1/furnishers/bankcard/batches?file_name=2024-03.accounts.csv",
            content=path.read_bytes(),
        )
        assert r.status_code == 201, r.text
        out: dict[str, Any] = r.json()
        return out

    first = upload("a.csv", [ingest_factories.account(7, month="2024-03", balance="900.00")])
    consumer, account = service.rows(
        "SELECT consumer_id, id FROM accounts WHERE furnisher_account_id = 'ACC0000007'"
    )[0]
    from openbureau.service.auth import issue_consumer_credential

    service.clock.advance(hours=1)
    service.keys["consumer_n"] = issue_consumer_credential(
        service.db, service.ctx.keys, consumer, now=service.clock()
    )
    d = _open(service, "consumer_n", account_id=account, month="2024-03", reason="wrong_balance")
    # A batch from before the dispute, or one that did not touch the item, is no correction.
    r = _resolve(
        service, d["dispute_id"], outcome="corrected", correction_batch_id=first["batch_id"]
    )
    assert r.status_code == 422 and "before the dispute" in r.json()["detail"]
    service.clock.advance(days=2)
    unrelated = upload("b.csv", [ingest_factories.account(8, month="2024-03")])
    r = _resolve(
        service, d["dispute_id"], outcome="corrected", correction_batch_id=unrelated["batch_id"]
    )
    assert r.status_code == 422 and "did not correct" in r.json()["detail"]
    other = service.rows("SELECT min(id) FROM batches WHERE furnisher_id = 'payplat'")[0][0]
    r = _resolve(service, d["dispute_id"], outcome="corrected", correction_batch_id=other)
    assert r.status_code == 422

    fixed = upload("c.csv", [ingest_factories.account(7, month="2024-03", balance="90.00")])
    assert fixed["corrected"] == 1
    r = _resolve(
        service,
        d["dispute_id"],
        outcome="corrected",
        correction_batch_id=fixed["batch_id"],
        note="Balance fixed.",
    )
    assert r.status_code == 200, r.text
    assert (
        r.json()["status"] == "corrected" and r.json()["correction_batch_id"] == fixed["batch_id"]
    )
    shown = _report_account(service, account, "consumer_n")
    assert shown is not None and shown["balance_minor"] == 9000 and shown["disputes"] == []
    resolved = _audit(service, "dispute.resolve")
    assert json.loads(resolved[-1].detail)["batch_id"] == fixed["batch_id"]


@pytest.mark.parametrize("jurisdiction", ["cn", "us"])
def test_the_deadline_passes(service: Service, jurisdiction: str) -> None:
    profile = get_profile(jurisdiction)
    service.client.app.state.bureau.profile = profile  # type: ignore[attr-defined]
    account = _account_a(service)
    months = _months(service, account)
    answered = _open(service, account_id=account, month=months[2], reason="never_late")
    late = _open(service, account_id=account, reason="not_mine", text=TEXT)
    due = dt.datetime.fromisoformat(late["due_at"])
    assert due == START + dt.timedelta(days=profile.dispute_days)

    # A minute before the deadline the furnisher may still answer.
    service.clock.now = due - dt.timedelta(minutes=1)
    assert _resolve(service, answered["dispute_id"], outcome="verified").status_code == 200
    queue = service.call("furnisher_a", "GET", "/v1/furnishers/bankcard/disputes?status=open")
    assert [x["dispute_id"] for x in queue.json()["items"]] == [late["dispute_id"]]

    # At the deadline it expires: the first request to meet it settles it, in its own
    # audited transaction, before answering.
    service.clock.now = due
    queue = service.call("furnisher_a", "GET", "/v1/furnishers/bankcard/disputes?status=open")
    assert queue.status_code == 200 and queue.json()["items"] == []
    effect = "removed" if profile.dispute_unanswered == "delete" else "unverified"
    (row,) = service.rows("SELECT status, effect FROM disputes WHERE id = :i", i=late["dispute_id"])
    assert (row.status, row.effect) == ("expired", effect)
    expiries = _audit(service, "dispute.expire")
    assert [(e.actor, e.role, e.object_id, e.consumer_id) for e in expiries] == [
        ("dispute-clock", "system", str(late["dispute_id"]), service.consumer_a)
    ]
    assert json.loads(expiries[0].detail)["effect"] == effect
    r = _resolve(service, late["dispute_id"], outcome="verified")
    assert r.status_code == 409 and "expired" in r.json()["detail"]

    mine = service.call("consumer_a", "GET", "/v1/me/disputes?status=expired").json()["items"]
    assert [(x["dispute_id"], x["effect"]) for x in mine] == [(late["dispute_id"], effect)]
    shown = _report_account(service, account)
    if profile.dispute_unanswered == "delete":  # us: unverifiable information is deleted
        assert shown is None
    else:  # cn: kept, marked as disputed and not verified
        assert shown is not None
        assert [f["state"] for f in shown["disputes"]] == ["unverified"]
    # Either way the item no longer counts in the score.
    assert not {a for a, _ in _snapshot_months(service, service.consumer_a)} & {account}
    assert service.call("regulator", "GET", "/v1/audit/verify").json()["ok"] is True


def test_a_report_settles_overdue_disputes_first(service: Service) -> None:
    account = _account_a(service)
    d = _open(service, account_id=account, reason="not_mine")
    service.clock.advance(days=400)
    consent = service.consent()
    r = service.inquire(consent)
    assert r.status_code == 201, r.text
    flags = [a["disputes"] for a in r.json()["report"]["accounts"] if a["account_id"] == account]
    assert all(f["state"] != "disputed" for fl in flags for f in fl)
    assert service.rows("SELECT status FROM disputes WHERE id = :i", i=d["dispute_id"])[0][0] == (
        "expired"
    )
    # One inquiry, one inquiry audit entry, one expiry entry.
    assert service.count("inquiries") == 1
    assert len(_audit(service, "inquiry.create")) == 1
    assert len(_audit(service, "dispute.expire")) == 1


def test_oversight_summary(service: Service) -> None:
    account = _account_a(service)
    months = _months(service, account)
    a = _open(service, account_id=account, month=months[0], reason="never_late")
    _open(service, account_id=account, month=months[1], reason="never_late")
    payplat = service.rows(
        "SELECT id FROM accounts WHERE consumer_id = :c AND furnisher_id = 'payplat'",
        c=service.consumer_b,
    )[0][0]
    _open(service, "consumer_b", account_id=payplat, reason="duplicate")
    assert _resolve(service, a["dispute_id"], outcome="verified").status_code == 200
    service.clock.advance(days=get_profile(service.ctx.settings.jurisdiction).dispute_days - 3)
    for who in ("regulator", "operator"):
        r = service.call(who, "GET", "/v1/disputes/summary")
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["by_status"] == {
            "open": 2,
            "verified": 1,
            "corrected": 0,
            "deleted": 0,
            "expired": 0,
        }
        assert body["open_overdue"] == 0 and body["open_due_within_7_days"] == 2
        assert {f["furnisher_id"]: (f["open"], f["verified"]) for f in body["furnishers"]} == {
            "bankcard": (1, 1),
            "payplat": (1, 0),
        }
    page = service.call("operator", "GET", "/v1/disputes/summary?limit=1").json()
    assert [f["furnisher_id"] for f in page["furnishers"]] == ["bankcard"]
    assert page["next_after"] == "bankcard"
    rest = service.call("operator", "GET", "/v1/disputes/summary?limit=1&after=bankcard").json()
    assert [f["furnisher_id"] for f in rest["furnishers"]] == ["payplat"]
    service.clock.advance(days=10)
    late = service.call("regulator", "GET", "/v1/disputes/summary").json()
    assert late["open_overdue"] == 2  # counted, not expired: oversight reads only
    assert late["by_status"]["open"] == 2


def test_pages(service: Service) -> None:
    account = _account_a(service)
    ids = [
        _open(service, account_id=account, month=m, reason="never_late")["dispute_id"]
        for m in _months(service, account)[:5]
    ]
    seen: list[int] = []
    url = "/v1/me/disputes?limit=2"
    while url:
        page = service.call("consumer_a", "GET", url).json()
        seen += [x["dispute_id"] for x in page["items"]]
        url = f"/v1/me/disputes?limit=2&before={page['next_before']}" if page["next_before"] else ""
    assert seen == sorted(ids, reverse=True)
    seen = []
    url = "/v1/furnishers/bankcard/disputes?limit=2"
    while url:
        page = service.call("furnisher_a", "GET", url).json()
        seen += [x["dispute_id"] for x in page["items"]]
        nxt = page["next_after"]
        url = f"/v1/furnishers/bankcard/disputes?limit=2&after={nxt}" if nxt else ""
    assert seen == sorted(ids)
    assert service.call("consumer_a", "GET", "/v1/me/disputes?limit=101").status_code == 422


def test_cli_expires_overdue_disputes(service: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    from openbureau.cli.main import app

    settings = service.ctx.settings
    monkeypatch.setenv("OPENBUREAU_HOME", str(settings.home))
    monkeypatch.setenv("OPENBUREAU_DATABASE_URL", settings.resolved_database_url)
    account = _account_a(service)
    # Opened on the test clock (2024): long overdue by the wall clock the CLI runs on.
    d = _open(service, account_id=account, reason="not_mine")
    runner = CliRunner()
    result = runner.invoke(app, ["disputes", "expire", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"expired": 1}
    assert service.rows("SELECT status FROM disputes WHERE id = :i", i=d["dispute_id"])[0][0] == (
        "expired"
    )
    result = runner.invoke(app, ["disputes", "expire"])
    assert result.exit_code == 0 and "0 disputes expired" in result.stdout
    assert service.call("regulator", "GET", "/v1/audit/verify").json()["ok"] is True


def test_merged_files_keep_their_disputes(service: Service) -> None:
    account = _account_a(service)
    d = _open(service, account_id=account, reason="not_mine")
    a, b = service.consumer_a, service.consumer_b
    with service.ctx.engine.begin() as conn:
        event = conn.execute(
            text(
                "INSERT INTO identity_events (kind, before, after, evidence, accounts_moved, "
                "created_at) VALUES ('merge', '{}', '{}', '{}', 0, :t) RETURNING id"
            ),
            {"t": service.clock()},
        ).scalar_one()
        conn.execute(
            text(
                "INSERT INTO consumer_redirects (from_id, to_id, event_id, created_at) "
                "VALUES (:a, :b, :e, :t)"
            ),
            {"a": a, "b": b, "e": event, "t": service.clock()},
        )
    # B's file now holds A's account and A's dispute: B sees both, and A (following the
    # merge) too.
    for who in ("consumer_a", "consumer_b"):
        items = service.call(who, "GET", "/v1/me/disputes").json()["items"]
        assert [x["dispute_id"] for x in items] == [d["dispute_id"]]
    shown = _report_account(service, account, "consumer_b")
    assert shown is not None and [f["state"] for f in shown["disputes"]] == ["disputed"]


def test_a_deleted_item_leaves_the_score(service: Service, trained_model: Any) -> None:
    from openbureau.features.asof import month_index
    from openbureau.features.compute import features_for_consumer
    from openbureau.scores import registry
    from openbureau.scores.batch import score

    model, info = trained_model
    registered = registry.register(
        service.ctx,
        model,
        kind=info.kind,
        train_as_of=info.train_as_of,
        validate_as_of=None,
        feature_set=info.feature_set,
        training=info.training,
        metrics=info.metrics,
        params=info.params,
    )
    registry.approve(service.ctx, registered.id)
    account = _account_a(service)
    latest = _months(service, account)[0]
    service.execute(
        "UPDATE account_months SET status = 'dpd120', days_past_due = 130 "
        "WHERE account_id = :a AND month = :m",
        a=account,
        m=dt.date.fromisoformat(f"{latest}-01"),
    )
    score(
        service.ctx, AsOf.end_of_month(month_index(service.built.month(service.built.months - 1)))
    )
    # Batch scores are stamped with the wall clock: the bureau's clock runs after it here.
    service.clock.now = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    batch = service.call("consumer_a", "GET", "/v1/me/report").json()["score"]
    assert batch["source"] == "batch"
    before = features_for_consumer(service.ctx, service.consumer_a, AsOf(service.clock().date()))

    d = _open(service, account_id=account, month=latest, reason="never_late")
    # An open dispute does not change the score.
    assert service.call("consumer_a", "GET", "/v1/me/report").json()["score"] == batch
    assert _resolve(service, d["dispute_id"], outcome="deleted").status_code == 200

    rescored = service.call("consumer_a", "GET", "/v1/me/report").json()["score"]
    assert rescored["source"] == "online"
    when = AsOf(service.clock().date())
    after = features_for_consumer(service.ctx, service.consumer_a, when)
    assert after != before, "the deleted month no longer feeds the features"
    expected = service.client.app.state.bureau.reports.scorer.rescore(  # type: ignore[attr-defined]
        service.consumer_a, when
    )
    assert rescored["value"] == expected["value"]
    assert rescored["value"] > batch["value"], "a deleted 120-days-late month costs no points"


def test_the_same_item_disputed_at_once_opens_one_dispute(service: Service) -> None:
    account = _account_a(service)
    month = _months(service, account)[0]
    start = threading.Barrier(6)
    codes: list[int] = []

    def work() -> None:
        start.wait()
        r = service.call(
            "consumer_a",
            "POST",
            "/v1/me/disputes",
            json={"account_id": account, "month": month, "reason": "never_late"},
        )
        codes.append(r.status_code)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [201, 409, 409, 409, 409, 409]
    assert service.count("disputes") == 1
    assert len(_audit(service, "dispute.open")) == 1
