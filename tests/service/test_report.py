"""The credit report: masked identity, summary, 24/60-month grids, statements, alerts, and a
score that agrees with the file (the batch score when fresh, else recomputed on the spot)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import event

from openbureau.features.asof import AsOf, month_index
from openbureau.ingest.load import NationalIdSealer
from openbureau.scores import registry
from openbureau.scores.batch import score
from tests.features.factory import new_account
from tests.ingest.factories import national_id

from .conftest import Service


def test_report_contents(service: Service) -> None:
    sealer = NationalIdSealer(service.ctx.keys)
    nid = national_id(3)
    service.execute(
        "UPDATE consumers SET national_id_cipher = :s WHERE id = :c",
        s=sealer.seal(nid),
        c=service.consumer_a,
    )
    accounts = service.rows(
        "SELECT id, last_month FROM accounts WHERE consumer_id = :c ORDER BY id",
        c=service.consumer_a,
    )
    account = accounts[0].id
    r = service.call(
        "consumer_a",
        "PUT",
        f"/v1/me/accounts/{account}/statement",
        json={"text": "Paid late once: hospital stay."},
    )
    assert r.status_code == 200
    assert service.call("consumer_a", "PUT", "/v1/me/fraud-alert", json={"days": 30}).json()[
        "fraud_alert"
    ]
    report = service.call("consumer_a", "GET", "/v1/me/report").json()

    identity = report["identity"]
    assert identity["national_id"] == nid[:3] + "*" * 11 + nid[-4:]
    assert identity["name"] == "T*** P***"  # the factory's "test person"
    assert nid not in str(report)

    assert sorted(a["account_id"] for a in report["accounts"]) == [a.id for a in accounts]
    for a in report["accounts"]:
        assert len(a["history_24"]) == 24 and len(a["history_60"]) == 60
        assert a["history_60"][:24] == a["history_24"]
        months = service.rows(
            "SELECT month, status FROM account_months WHERE account_id = :a", a=a["account_id"]
        )
        last = max(m.month for m in months)
        by_month = {m.month: m.status for m in months}
        assert a["history_24"][0] == by_month[last]
        # The grid has exactly the reported months within its 60.
        assert sum(1 for s in a["history_60"] if s is not None) == min(len(months), 60)
    assert report["statements"] == [
        {"account_id": account, "text": "Paid late once: hospital stay."}
    ]
    assert report["alerts"]["fraud_alert"] is True and report["alerts"]["frozen"] is False
    assert report["summary"]["accounts"] == len(accounts)
    assert report["score"] == {
        "value": None,
        "pd_bad": None,
        "model": None,
        "as_of": None,
        "source": None,
        "reasons": [],
        "unavailable": "no score model is approved",
    }
    # The lender's report carries the consumer's fraud alert and statement too.
    body = service.inquire(service.consent()).json()
    assert body["report"]["alerts"]["fraud_alert"] is True
    assert body["report"]["statements"] == report["statements"]


def _approve(service: Service, trained: Any) -> Any:
    model, info = trained
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
    return registry.approve(service.ctx, registered.id)


def test_score_is_the_batch_score_while_fresh_and_recomputed_after_a_change(
    service: Service, trained_model: Any
) -> None:
    info = _approve(service, trained_model)
    as_of = AsOf.end_of_month(month_index(service.built.month(service.built.months - 1)))
    run = score(service.ctx, as_of)
    batch = dict(
        zip(
            run.table.column("consumer_id").to_pylist(),
            run.table.column("score").to_pylist(),
            strict=True,
        )
    )

    report = service.call("consumer_a", "GET", "/v1/me/report").json()
    got = report["score"]
    assert got["source"] == "batch"
    assert got["value"] == round(batch[service.consumer_a], 2)
    assert got["model"] == {"id": info.id, "kind": "scorecard", "version": f"scorecard-{info.id}"}
    assert 1 <= len(got["reasons"]) <= 4
    assert {"code", "text", "feature", "points_lost"} <= set(got["reasons"][0])

    # A later batch from the furnisher changes the file: the score is recomputed on the spot,
    # with the online feature path, as of the report's date.
    # (Batch scores are stamped with the wall clock: the change comes after that.)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)
    service.execute(
        "UPDATE account_months SET status = 'dpd90', days_past_due = 95 WHERE account_id IN "
        "(SELECT id FROM accounts WHERE consumer_id = :c)",
        c=service.consumer_a,
    )
    service.execute(
        "UPDATE accounts SET updated_at = :t WHERE consumer_id = :c", t=later, c=service.consumer_a
    )
    service.clock.advance(days=2)
    rescored = service.call("consumer_a", "GET", "/v1/me/report").json()["score"]
    assert rescored["source"] == "online"
    assert rescored["as_of"] == service.clock().date().isoformat()
    expected = service.client.app.state.bureau.reports.scorer.rescore(  # type: ignore[attr-defined]
        service.consumer_a, AsOf(service.clock().date())
    )
    assert rescored["value"] == expected["value"]
    assert rescored["value"] < got["value"], "90 days past due everywhere must cost points"
    # Consumer B's file did not change: still the batch score.
    assert service.call("consumer_b", "GET", "/v1/me/report").json()["score"]["source"] == "batch"


def test_merged_files_are_followed(service: Service) -> None:
    a, b = service.consumer_a, service.consumer_b
    consent = service.consent()  # consumer A's consent, before A is merged into B
    accounts = {
        r.id
        for r in service.rows("SELECT id FROM accounts WHERE consumer_id IN (:a, :b)", a=a, b=b)
    }
    with service.ctx.engine.begin() as conn:
        from sqlalchemy import text

        event = conn.execute(
            text(
                "INSERT INTO identity_events (kind, before, after, evidence, accounts_moved, created_at) "
                "VALUES ('merge', '{}', '{}', '{}', 0, :t) RETURNING id"
            ),
            {"t": service.clock()},
        ).scalar_one()
        conn.execute(
            text(
                "INSERT INTO consumer_redirects (from_id, to_id, event_id, created_at) VALUES (:a, :b, :e, :t)"
            ),
            {"a": a, "b": b, "e": event, "t": service.clock()},
        )
    # A's credential now reaches the surviving file, which holds both people's accounts.
    report = service.call("consumer_a", "GET", "/v1/me/report").json()
    assert report["consumer_id"] == b
    assert {x["account_id"] for x in report["accounts"]} == accounts
    # A lender naming the old id reaches the same file, with the consent A gave.
    r = service.inquire(consent, consumer=a)
    assert r.status_code == 201, r.text
    assert r.json()["consumer_id"] == b
    assert service.rows("SELECT consumer_id FROM inquiries")[0].consumer_id == b


def test_an_inquiry_report_shows_the_accounts_the_consumer_sees(service: Service) -> None:
    # The inquiry reads the file's accounts with its header (one JSON aggregate, dates as
    # text, re-sorted), the consumer's own report with a query of its own: the same accounts,
    # fields, grids and order (opened, then id), whatever statements and disputes do to them.
    cid = service.consumer_a
    twins = [new_account(service.ctx, service.built, cid, i) for i in (2, 3)]
    opened = service.rows("SELECT opened FROM accounts WHERE id = :a", a=twins[0])[0].opened
    service.execute("UPDATE accounts SET opened = :d WHERE id = :a", d=opened, a=twins[1])
    service.execute(
        "UPDATE accounts SET closed = :d WHERE id = :a", d=dt.date(2024, 3, 31), a=twins[0]
    )
    r = service.call(
        "consumer_a", "PUT", f"/v1/me/accounts/{twins[1]}/statement", json={"text": "Settled."}
    )
    assert r.status_code == 200
    disputed = int(service.rows("SELECT min(id) FROM accounts WHERE consumer_id = :c", c=cid)[0][0])
    months = [
        f"{m.month:%Y-%m}" if isinstance(m.month, dt.date) else str(m.month)[:7]
        for m in service.rows(
            "SELECT month FROM account_months WHERE account_id = :a ORDER BY month DESC",
            a=disputed,
        )
    ]
    for month, outcome in ((months[0], "deleted"), (months[1], None)):
        r = service.call(
            "consumer_a",
            "POST",
            "/v1/me/disputes",
            json={"account_id": disputed, "month": month, "reason": "never_late"},
        )
        assert r.status_code == 201, r.text
        if outcome is not None:
            r = service.call(
                "furnisher_a",
                "POST",
                f"/v1/furnishers/bankcard/disputes/{r.json()['dispute_id']}/resolution",
                json={"outcome": outcome, "note": "Reported in error."},
            )
            assert r.status_code == 200 and r.json()["effect"] == "removed"

    mine = service.call("consumer_a", "GET", "/v1/me/report").json()
    theirs = service.inquire(service.consent()).json()["report"]
    assert theirs["accounts"] == mine["accounts"]
    assert (
        theirs["statements"] == mine["statements"] == [{"account_id": twins[1], "text": "Settled."}]
    )
    assert theirs["summary"] == mine["summary"]
    # What the comparison covers: a tie on the opening date, a closed account, a removed
    # latest month (the account's state from the month before) and a flagged one.
    shown = {a["account_id"]: a for a in theirs["accounts"]}
    order = [(a["opened"], a["account_id"]) for a in theirs["accounts"]]
    assert order == sorted(order) and shown[twins[0]]["opened"] == shown[twins[1]]["opened"]
    assert shown[twins[0]]["closed"] == "2024-03-31"
    assert shown[disputed]["last_reported_month"] == months[1]
    assert [d["state"] for d in shown[disputed]["disputes"]] == ["disputed"]


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_an_inquiry_sends_statements_psycopg_converts_once(service: Service) -> None:
    # psycopg turns a query's %(name)s placeholders into PostgreSQL's $n once per distinct
    # text, but caches only texts up to a limit; a longer one is parsed again on every
    # execution. The inquiry's header statement carries the accounts and inquiries too.
    from psycopg import _queries

    limit = _queries.MAX_CACHED_STATEMENT_LENGTH
    sent: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        sent.append(statement)

    engine = service.client.app.state.bureau.db.engine  # the app's own pool
    event.listen(engine, "before_cursor_execute", record)
    try:
        assert service.inquire(service.consent()).status_code == 201
    finally:
        event.remove(engine, "before_cursor_execute", record)
    header = [s for s in sent if "account_rows" in s]
    assert len(header) == 1, "the accounts are read with the header"
    assert max(len(s.encode()) for s in sent) <= limit, sorted(len(s) for s in sent)
