"""Merges and splits are explicit events; accounts move with them; reviews are respected."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pytest
from sqlalchemy import text

from openbureau.context import Context
from openbureau.errors import ReviewError
from openbureau.identity.link import link
from openbureau.identity.model import TrainedModel
from openbureau.identity.review import decide, list_reviews, show_review
from tests.identity.conftest import (
    Loader,
    account_consumer,
    consumer_of,
    person,
    seed_model,
    valid_nid,
)

# Same name and birth date, nothing else in common that corroborates: a possible look-alike,
# strong enough to be reviewed, never linked automatically.
A = {
    "name": "ouyang xiuying",
    "birth_date": dt.date(1979, 11, 23),
    "phone": "13911112222",
    "address": "No. 8 Heping Road, Nankai District, Tianjin",
    "postcode": "300100",
}
B = {
    "name": "xiuying ouyang",
    "birth_date": dt.date(1979, 11, 23),
    "phone": None,
    "address": "77 Gongye Ln, Futian, Shenzhen",
    "postcode": None,
    "furnisher_id": "micro",
}


def _events(ctx: Context, kind: str) -> list[tuple[dict[str, list[int]], dict[str, list[int]]]]:
    with ctx.sessions() as s:
        from openbureau.store.models import IdentityEvent

        return [(e.before, e.after) for e in s.query(IdentityEvent).filter_by(kind=kind)]


@pytest.fixture
def pair(
    context: Context, load: Loader, trained: TrainedModel, population: tuple[Path, pa.Table]
) -> tuple[int, int, str, str]:
    seed_model(context, trained)
    load(population[1])
    a, b = person(**A), person(**B)
    ids = load([a, b])
    link(context)
    return ids[a["account_id"]], ids[b["account_id"]], a["account_id"], b["account_id"]


def _review_of(ctx: Context, ra: int, rb: int) -> int:
    items = [i for i in list_reviews(ctx, limit=1000) if {i["record_a"], i["record_b"]} == {ra, rb}]
    assert len(items) == 1, "the look-alike pair should be waiting for review"
    return int(items[0]["id"])


def test_lookalike_waits_for_review_with_evidence(
    context: Context, pair: tuple[int, int, str, str]
) -> None:
    ra, rb, _, _ = pair
    assert consumer_of(context, ra) != consumer_of(context, rb)
    item = show_review(context, _review_of(context, ra, rb))
    by_name = {e["comparison"]: e for e in item["evidence"]}
    assert by_name["name"]["agrees"] and by_name["birth_date"]["agrees"]
    assert not by_name["address"]["agrees"] and by_name["address"]["match_weight"] < 0
    assert by_name["phone"]["level"] == "missing"
    assert item["records"][0]["phone"].startswith("*******")


def test_accept_merges_with_event_redirect_and_accounts(
    context: Context, pair: tuple[int, int, str, str]
) -> None:
    ra, rb, acc_a, acc_b = pair
    ca, cb = consumer_of(context, ra), consumer_of(context, rb)
    decide(context, _review_of(context, ra, rb), accept=True, by="tester", note="same person")
    summary = link(context)
    assert summary.merges == 1
    survivor = consumer_of(context, ra)
    assert consumer_of(context, rb) == survivor
    assert account_consumer(context, acc_a) == account_consumer(context, acc_b) == survivor
    gone = cb if survivor == ca else ca
    with context.engine.connect() as conn:
        assert (
            conn.execute(
                text("SELECT to_id FROM consumer_redirects WHERE from_id = :g"), {"g": gone}
            ).scalar_one()
            == survivor
        )
        assert (
            conn.execute(
                text("SELECT status FROM consumers WHERE id = :g"), {"g": gone}
            ).scalar_one()
            == "merged"
        )
    ((before, after),) = _events(context, "merge")
    assert set(before) == {ca, cb} and set(after) == {survivor}
    # Decided once, applied on every later run.
    assert link(context).merges == 0
    assert consumer_of(context, rb) == survivor


def test_reject_is_respected_by_later_runs(
    context: Context, pair: tuple[int, int, str, str]
) -> None:
    ra, rb, _, _ = pair
    review = _review_of(context, ra, rb)
    decide(context, review, accept=False, by="tester")
    link(context)
    link(context)
    assert consumer_of(context, ra) != consumer_of(context, rb)
    assert not [
        i for i in list_reviews(context, limit=1000) if {i["record_a"], i["record_b"]} == {ra, rb}
    ]
    assert list_reviews(context, status="rejected")[0]["id"] == review
    with pytest.raises(ReviewError, match="already rejected"):
        decide(context, review, accept=True, by="tester")


def test_split_when_a_record_no_longer_matches(
    context: Context, load: Loader, trained: TrainedModel, population: tuple[Path, pa.Table]
) -> None:
    seed_model(context, trained)
    load(population[1])
    nid = valid_nid(7, "19790101")
    same = {
        "name": "situ mingyu",
        "birth_date": dt.date(1979, 1, 1),
        "phone": "13712345678",
        "address": "No. 5 Xinhua Street, Gulou District, Fuzhou",
        "postcode": "350001",
    }
    a = person(national_id=nid, **same)
    b = person(furnisher_id="micro", **same)  # no id: linked probabilistically
    ids = load([a, b])
    link(context)
    owner = consumer_of(context, ids[a["account_id"]])
    assert consumer_of(context, ids[b["account_id"]]) == owner
    # The furnisher corrects record b: it was another customer's identity all along.
    with context.engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE identity_records SET name = 'li na', name_key = 'li na', birth_date = "
                ":d, phone = '15800001111', address = '3 Wuyi Ave, Xihu, Hangzhou', postcode = "
                "'310000' WHERE id = :i"
            ),
            {"d": dt.date(1992, 6, 30), "i": ids[b["account_id"]]},
        )
    summary = link(context)
    assert summary.splits == 1
    assert consumer_of(context, ids[a["account_id"]]) == owner  # the id stays where it is right
    moved = consumer_of(context, ids[b["account_id"]])
    assert moved != owner
    assert account_consumer(context, b["account_id"]) == moved
    ((before, after),) = _events(context, "split")
    assert set(before) == {owner} and set(after) == {owner, moved}
    assert after[moved] == [ids[b["account_id"]]]
