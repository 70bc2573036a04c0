"""Abuse limits and errors: 429 with Retry-After, 413 for large bodies and uploads, bounded
pages, RFC 9457 problems for every error (never a trace or a value sent), scraping alerts."""

from __future__ import annotations

import contextlib
import datetime as dt
import multiprocessing
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert

from openbureau.context import Context
from openbureau.errors import RateLimitedError
from openbureau.service import limits
from openbureau.store.models import Inquiry
from tests.features import factory
from tests.ingest import factories as ingest_factories

from .conftest import LENDER_A, Service, context_with, start_service

PROBLEM_KEYS = {"type", "title", "status", "detail"}


def _is_problem(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = r.json()
    assert set(body) >= PROBLEM_KEYS and body["status"] == status
    assert body["type"].startswith("https://") and body["title"] and body["detail"]
    assert "Traceback" not in r.text and 'File "' not in r.text
    return body


@pytest.fixture
def limited(context: Context) -> Iterator[Service]:
    """The service with small limits: 2 requests at once, then 1 a second; 2 KB bodies,
    4 KB uploads."""
    built = factory.build(context, consumers=2, months=6)
    ctx = context_with(
        context.settings,
        service_rate_per_s=1.0,
        service_rate_burst=2,
        service_refusal_delay_s=0.3,
        service_max_body_bytes=2048,
        max_upload_bytes=4096,
    )
    try:
        yield from start_service(ctx, built)
    finally:
        ctx.close()


def test_rate_limit_is_429_with_retry_after(limited: Service) -> None:
    codes = [limited.call("consumer_a", "GET", "/v1/me/controls").status_code for _ in range(3)]
    assert codes[:2] == [200, 200]
    assert codes[2] == 429
    r = limited.call("consumer_a", "GET", "/v1/me/controls")
    body = _is_problem(r, 429)
    assert int(r.headers["retry-after"]) >= 1
    assert "rate limit" in body["detail"]
    # The limit is per client: another client is not held back.
    assert limited.call("consumer_b", "GET", "/v1/me/controls").status_code == 200


def test_a_limited_client_is_refused_before_routing_and_held(limited: Service) -> None:
    for _ in range(2):
        assert limited.call("consumer_a", "GET", "/v1/me/controls").status_code == 200
    # Refused by the middleware: before the route (a body far over the limit is not read,
    # an unknown path is not looked up), and only after the tarpit delay.
    started = time.monotonic()
    r = limited.call("consumer_a", "POST", "/v1/me/consents", content=b"x" * 100_000)
    held = time.monotonic() - started
    _is_problem(r, 429)
    assert held >= 0.3
    assert _is_problem(limited.call("consumer_a", "GET", "/v1/nowhere"), 429)
    # Nothing was recorded for the refusals.
    audited = limited.count("audit_log")
    assert limited.call("consumer_a", "GET", "/v1/me/report").status_code == 429
    assert limited.count("audit_log") == audited
    # Another client is not limited.
    assert limited.call("consumer_b", "GET", "/v1/me/controls").status_code == 200


@pytest.mark.parametrize("shared", [False, True], ids=["process", "shared"])
def test_rate_limiter_refills(shared: bool, tmp_path: Path) -> None:
    limiter = (
        limits.SharedRateLimiter(tmp_path / "rate", rate=1000.0, burst=1)
        if shared
        else limits.RateLimiter(rate=1000.0, burst=1)
    )
    limiter.check("a")
    with pytest.raises(RateLimitedError):
        limiter.check("a")
    time.sleep(0.01)
    limiter.check("a")  # refilled after 10 ms at 1000/s


def _take_all(path: Path, client: str, tries: int) -> int:
    """Tokens ``client`` gets from the table at ``path`` in ``tries`` attempts."""
    limiter = limits.SharedRateLimiter(path, rate=1e-6, burst=25)
    taken = 0
    for _ in range(tries):
        try:
            limiter.check(client)
            taken += 1
        except RateLimitedError:
            pass
    return taken


def test_processes_share_one_budget_per_client(tmp_path: Path) -> None:
    # Four processes (server workers) drawing on the same clients' buckets at once: each
    # client gets its burst once in all, not once per process.
    path = tmp_path / "run" / "rate-limits"
    spawn = multiprocessing.get_context("spawn")
    with spawn.Pool(4) as pool:
        taken = pool.starmap(_take_all, [(path, c, 40) for c in ("a", "b") for _ in range(4)])
    assert sum(taken[:4]) == 25 and sum(taken[4:]) == 25, taken


def test_every_client_keeps_a_bucket_of_its_own(tmp_path: Path) -> None:
    # 4,000 clients active at once (each within its refill time) in the 16,384 slots.
    limiter = limits.SharedRateLimiter(tmp_path / "rate", rate=1e-6, burst=1)
    clients = [f"client-{i}" for i in range(4000)]
    for client in clients:
        limiter.check(client)
    refused = 0
    for client in clients:
        with contextlib.suppress(RateLimitedError):
            limiter.check(client)
            continue
        refused += 1
    assert refused == len(clients)


def test_a_full_table_gives_way_to_the_bucket_used_longest_ago(tmp_path: Path) -> None:
    limiter = limits.SharedRateLimiter(tmp_path / "rate", rate=1e-6, burst=1, slots=4)
    for client in "abcd":
        limiter.check(client)
    limiter.check("e")  # no slot left: takes a's, the oldest
    limiter.check("a")  # so a starts again with a full bucket (in b's slot)
    for client in "cdea":  # the others kept theirs
        with pytest.raises(RateLimitedError):
            limiter.check(client)


def test_a_refilled_bucket_gives_its_slot_to_a_new_client(tmp_path: Path) -> None:
    limiter = limits.SharedRateLimiter(tmp_path / "rate", rate=100.0, burst=1, slots=2)
    limiter.check("a")
    limiter.check("b")
    time.sleep(0.02)  # both full again: their slots are free
    limiter.check("c")
    with pytest.raises(RateLimitedError):
        limiter.check("c")


def test_a_table_of_another_layout_is_started_again(tmp_path: Path) -> None:
    path = tmp_path / "rate"
    path.write_bytes(b"not a rate table")
    limiter = limits.SharedRateLimiter(path, rate=1e-6, burst=1)
    limiter.check("a")
    with pytest.raises(RateLimitedError):
        limiter.check("a")
    assert path.read_bytes().startswith(b"OBRATE01")


def test_body_limit_is_413(limited: Service) -> None:
    big = {"text": "x" * 3000}
    account = limited.rows(
        "SELECT min(id) FROM accounts WHERE consumer_id = :c", c=limited.consumer_a
    )[0][0]
    r = limited.call("consumer_a", "PUT", f"/v1/me/accounts/{account}/statement", json=big)
    _is_problem(r, 413)

    # A streamed body without a length is cut off when it passes the limit.
    def chunks() -> Iterator[bytes]:
        for _ in range(10):
            yield b" " * 512

    r = limited.call(
        "consumer_a",
        "PUT",
        f"/v1/me/accounts/{account}/statement",
        content=chunks(),
        headers={"Content-Type": "application/json"},
    )
    _is_problem(r, 413)
    assert limited.count("consumer_statements") == 0


def test_upload_limit_is_413_and_nothing_is_stored(limited: Service, tmp_path: Any) -> None:
    path = ingest_factories.write_csv(
        tmp_path / "2024-03.accounts.csv", ingest_factories.accounts(40)
    )
    assert path.stat().st_size > 4096
    before = limited.count("batches")
    r = limited.call(
        "furnisher_a",
        "POST",
        "/v1/furnishers/bankcard/batches?file_name=2024-03.accounts.csv",
        content=path.read_bytes(),
    )
    _is_problem(r, 413)
    assert limited.count("batches") == before


def test_upload_returns_the_receipt_and_it_can_be_fetched(service: Service, tmp_path: Any) -> None:
    path = ingest_factories.write_csv(
        tmp_path / "2024-03.accounts.csv", ingest_factories.accounts(5)
    )
    url = "/v1/furnishers/bankcard/batches?file_name=2024-03.accounts.csv&batch_ref=march"
    r = service.call("furnisher_a", "POST", url, content=path.read_bytes())
    assert r.status_code == 201, r.text
    receipt = r.json()
    assert (receipt["status"], receipt["accepted"], receipt["rejected"]) == ("accepted", 5, 0)
    again = service.call("furnisher_a", "POST", url, content=path.read_bytes())
    assert again.status_code == 200 and again.json()["batch_id"] == receipt["batch_id"]
    got = service.call(
        "furnisher_a", "GET", f"/v1/furnishers/bankcard/batches/{receipt['batch_id']}"
    )
    assert got.status_code == 200 and got.json()["accepted"] == 5
    listed = service.call("furnisher_a", "GET", "/v1/furnishers/bankcard/batches?limit=100").json()
    assert receipt["batch_id"] in [b["batch_id"] for b in listed["items"]]


def test_bad_upload_is_422_with_reason(service: Service) -> None:
    r = service.call(
        "furnisher_a",
        "POST",
        "/v1/furnishers/bankcard/batches?file_name=2024-03.accounts.csv",
        content=b"religion,account_id\nx,1\n",
    )
    body = _is_problem(r, 422)
    assert "religion" in body["detail"] or "column" in body["detail"]
    last = service.rows("SELECT action, detail FROM audit_log ORDER BY id DESC")[0]
    assert last.action == "batch.refused" and "ForbiddenFieldError" in last.detail
    r = service.call(
        "furnisher_a",
        "POST",
        "/v1/furnishers/bankcard/batches?file_name=../../etc/passwd",
        content=b"x",
    )
    _is_problem(r, 422)


def test_page_size_is_bounded(service: Service) -> None:
    body = _is_problem(service.call("lender_a", "GET", "/v1/inquiries?limit=101"), 422)
    assert body["errors"][0]["field"] == "query.limit"
    assert service.call("lender_a", "GET", "/v1/inquiries?limit=100").status_code == 200


def test_problem_shapes(service: Service) -> None:
    _is_problem(service.client.get("/v1/me/report"), 401)
    _is_problem(service.call("lender_a", "GET", "/v1/me/report"), 403)
    _is_problem(service.call("lender_a", "GET", "/v1/inquiries/999999"), 404)
    _is_problem(service.client.get("/v1/no-such-route"), 404)
    _is_problem(service.call("lender_a", "PATCH", "/v1/inquiries"), 405)
    body = _is_problem(
        service.call(
            "lender_a",
            "POST",
            "/v1/inquiries",
            content=b"{not json",
            headers={"Content-Type": "application/json"},
        ),
        422,
    )
    assert "not json" not in body["detail"]
    body = _is_problem(
        service.call(
            "consumer_a", "POST", "/v1/me/consents", json={"lender": "acme", "purpose": "spying"}
        ),
        422,
    )
    assert "spying" not in body["detail"], "values sent are never echoed back"


def test_unexpected_errors_are_500_without_details(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    from openbureau.service import app as app_module

    def boom(*_: Any, **__: Any) -> Any:
        raise RuntimeError("secret national id 110101198503120016 in a message")

    monkeypatch.setattr(app_module, "build_report", boom)
    body = _is_problem(service.call("consumer_a", "GET", "/v1/me/report"), 500)
    assert "110101198503120016" not in str(body) and "RuntimeError" not in str(body)
    # The failed request wrote nothing (no audit entry without its action).
    assert "report.view" not in {r.action for r in service.rows("SELECT action FROM audit_log")}


def _inquiries(svc: Service, lender: str, times: list[dt.datetime], consumer: str) -> None:
    with svc.ctx.engine.begin() as conn:
        conn.execute(
            insert(Inquiry),
            [
                {
                    "consumer_id": consumer,
                    "lender": lender,
                    "purpose": "credit_application",
                    "created_at": t,
                    "kind": "hard",
                }
                for t in times
            ],
        )


def test_scraping_volume_alert(service: Service) -> None:
    now = service.clock()
    # A lender that usually makes a couple of inquiries a day suddenly makes 150 in an hour.
    history = [now - dt.timedelta(days=d, hours=3) for d in range(1, 29)]
    burst = [now - dt.timedelta(seconds=10 * i + 5) for i in range(150)]
    _inquiries(service, LENDER_A, history + burst, service.consumer_b)
    assert service.inquire(service.consent()).status_code == 201  # the scan runs after it
    alerts = service.call("operator", "GET", "/v1/alerts").json()["items"]
    assert [(a["lender"], a["kind"]) for a in alerts] == [(LENDER_A, "volume")]
    assert alerts[0]["detail"]["inquiries_last_hour"] >= 150
    assert service.call("regulator", "GET", "/v1/alerts").status_code == 200
    assert "alert.raise" in {r.action for r in service.rows("SELECT action FROM audit_log")}


def test_no_alert_for_a_lender_at_its_usual_volume(service: Service) -> None:
    now = service.clock()
    # 200 an hour is this lender's normal.
    history = [
        now - dt.timedelta(hours=h, seconds=s) for h in range(2, 200) for s in range(0, 3600, 18)
    ]
    recent = [now - dt.timedelta(seconds=18 * i + 1) for i in range(200)]
    _inquiries(service, LENDER_A, history + recent, service.consumer_b)
    with service.db.write() as conn:
        assert limits.scan_lender(conn, service.ctx.settings, LENDER_A, now) == []


def test_scraping_no_opening_alert(service: Service) -> None:
    now = service.clock()
    # 40 inquiries 35-55 days ago, none followed by a new account: 100% without an opening.
    mature = [now - dt.timedelta(days=35 + i % 20, hours=i) for i in range(40)]
    _inquiries(service, LENDER_A, mature, service.consumer_b)
    with service.db.write() as conn:
        raised = limits.scan_lender(conn, service.ctx.settings, LENDER_A, now)
    assert [a["kind"] for a in raised] == ["no_opening"]
    assert raised[0]["share_without_opening"] == 1.0
    with service.db.write() as conn:  # one alert per lender and kind a day
        assert limits.scan_lender(conn, service.ctx.settings, LENDER_A, now) == []
