"""Fixtures of the service tests: a small credit file, one key per role, the app over HTTP.

The credit file comes from the feature tests' factory (a few consumers, real tables); the
app runs in-process behind FastAPI's TestClient (real HTTP semantics through httpx), on the
parametrised database (SQLite and PostgreSQL), with a clock the tests move.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from openbureau.config import Settings
from openbureau.context import Context
from openbureau.service.app import create_app
from openbureau.service.auth import IssuedKey, create_client, issue_consumer_credential
from openbureau.service.db import ServiceDB
from tests.features import factory

START = dt.datetime(2024, 4, 15, 12, 0, tzinfo=dt.UTC)
LENDER_A = "acme-microloans"
LENDER_B = "zeta-credit"


class Clock:
    """A clock the tests move by hand."""

    def __init__(self, now: dt.datetime = START) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@dataclass
class Service:
    ctx: Context
    client: TestClient
    clock: Clock
    built: factory.Built
    keys: dict[str, IssuedKey]
    db: ServiceDB
    owned: dict[str, Any] = field(default_factory=dict)

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[who].key}"}

    def call(self, who: str | None, method: str, url: str, **kw: Any) -> Any:
        headers = dict(kw.pop("headers", {}) or {})
        if who is not None:
            headers.update(self.auth(who))
        return self.client.request(method, url, headers=headers, **kw)

    @property
    def consumer_a(self) -> str:
        return self.built.consumers[0]

    @property
    def consumer_b(self) -> str:
        return self.built.consumers[1]

    def count(self, table: str, where: str = "", **params: Any) -> int:
        with self.ctx.engine.connect() as conn:
            sql = f"SELECT count(*) FROM {table} {where}"
            return int(conn.execute(text(sql), params).scalar_one())

    def rows(self, sql: str, **params: Any) -> list[Any]:
        with self.ctx.engine.connect() as conn:
            return list(conn.execute(text(sql), params).all())

    def execute(self, sql: str, **params: Any) -> None:
        with self.ctx.engine.begin() as conn:
            conn.execute(text(sql), params)

    def consent(
        self,
        who: str = "consumer_a",
        lender: str = LENDER_A,
        purpose: str = "credit_application",
        days: int = 30,
    ) -> str:
        r = self.call(
            who,
            "POST",
            "/v1/me/consents",
            json={"lender": lender, "purpose": purpose, "days": days},
        )
        assert r.status_code == 201, r.text
        return str(r.json()["consent_id"])

    def inquire(
        self,
        consent_id: str,
        who: str = "lender_a",
        consumer: str | None = None,
        purpose: str = "credit_application",
    ) -> Any:
        return self.call(
            who,
            "POST",
            "/v1/inquiries",
            json={
                "consumer_id": consumer or self.consumer_a,
                "purpose": purpose,
                "consent_id": consent_id,
            },
        )


def make_keys(db: ServiceDB, ctx: Context, built: factory.Built) -> dict[str, IssuedKey]:
    k = ctx.keys
    return {
        "furnisher_a": create_client(
            db, k, role="furnisher", name="Bank card", furnisher_id="bankcard", now=START
        ),
        "furnisher_b": create_client(
            db, k, role="furnisher", name="Pay platform", furnisher_id="payplat", now=START
        ),
        "lender_a": create_client(db, k, role="lender", name="Acme", lender=LENDER_A, now=START),
        "lender_b": create_client(db, k, role="lender", name="Zeta", lender=LENDER_B, now=START),
        "regulator": create_client(db, k, role="regulator", name="Regulator", now=START),
        "operator": create_client(db, k, role="operator", name="Operator", now=START),
        "consumer_a": issue_consumer_credential(db, k, built.consumers[0], now=START),
        "consumer_b": issue_consumer_credential(db, k, built.consumers[1], now=START),
    }


def start_service(ctx: Context, built: factory.Built) -> Iterator[Service]:
    db = ServiceDB(ctx.settings)
    keys = make_keys(db, ctx, built)
    clock = Clock()
    app = create_app(ctx, clock=clock)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Service(ctx=ctx, client=client, clock=clock, built=built, keys=keys, db=db)
    app.state.bureau.db.dispose()
    db.dispose()


@pytest.fixture
def service(context: Context) -> Iterator[Service]:
    """The service over a credit file of four consumers, 14 reporting months."""
    built = factory.build(context, consumers=4, months=14)
    yield from start_service(context, built)


def context_with(settings: Settings, **changes: Any) -> Context:
    """Another context on the same home and database with some settings changed."""
    data = settings.model_dump()
    data.update(changes)
    return Context(Settings(**data))


@pytest.fixture(scope="session")
def trained_model(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A scorecard trained once per session on a factory credit file (SQLite)."""
    from openbureau.features.asof import AsOf, month_index
    from openbureau.scores import registry
    from openbureau.scores.train import train

    tmp: Path = tmp_path_factory.mktemp("model")
    ctx = Context(Settings(home=tmp / "home", database_url=f"sqlite:///{tmp / 'ob.db'}"))
    ctx.init()
    try:
        built = factory.build(ctx, consumers=300, months=26, seed=7)
        info = train(ctx, AsOf.end_of_month(month_index(built.month(11))), "scorecard")
        return registry.load(ctx, info), info
    finally:
        ctx.close()
