"""Stable consumer ids: map this run's clusters onto the ids records already carry.

Every existing id that is still right is kept. A cluster takes the id of the consumer whose
records it mostly holds (the one holding the cluster's valid national id first); ids that
lose all their records to another cluster are *merged* into it; an id whose records fall
into several clusters is *split* — it stays with the cluster holding most of them (or its
national id) and the other parts get new ids. New people get new ids. Nothing is renumbered.
"""

from __future__ import annotations

import secrets
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field


def new_consumer_id() -> str:
    """A pseudonymous consumer id in the credit file's format (``C`` + 16 hex digits)."""
    return "C" + secrets.token_hex(8)


@dataclass
class Merge:
    primary: str
    merged: list[str]
    records: dict[str, list[int]]  # consumer id before -> its record ids in the cluster


@dataclass
class Split:
    consumer: str
    parts: dict[str, list[int]]  # consumer id after -> record ids that were ``consumer``'s


@dataclass
class Plan:
    """The new consumer id per record and the events that lead there."""

    consumer: list[str]  # per record, aligned with the input
    created: dict[str, str | None] = field(default_factory=dict)  # new id -> valid id HMAC
    merges: list[Merge] = field(default_factory=list)
    splits: list[Split] = field(default_factory=list)
    changed: list[int] = field(default_factory=list)  # record positions whose id changed


def reconcile(
    record_ids: Sequence[int],
    old: Sequence[str | None],
    cluster: Sequence[int],
    valid_hmac: Sequence[str | None],
    consumer_hmac: dict[str, str | None],
    *,
    make_id: Callable[[], str] = new_consumer_id,
) -> Plan:
    """Decide the consumer id of every record (see the module docstring)."""
    members: dict[int, list[int]] = defaultdict(list)
    for i, c in enumerate(cluster):
        members[int(c)].append(i)
    cluster_hmac: dict[int, str | None] = {}
    hmac_cluster: dict[str, int] = {}
    for c, rows in members.items():
        hs = {h for i in rows if (h := valid_hmac[i])}
        cluster_hmac[c] = min(hs) if hs else None
        for h in hs:
            hmac_cluster[h] = c
    counts: dict[str, Counter[int]] = defaultdict(Counter)
    for i, o in enumerate(old):
        if o:
            counts[o][int(cluster[i])] += 1
    home: dict[str, int] = {}
    for o, per in counts.items():
        h = consumer_hmac.get(o)
        if h and h in hmac_cluster:
            home[o] = hmac_cluster[h]
        else:
            home[o] = min(per, key=lambda c: (-per[c], c))
    owners: dict[int, list[str]] = defaultdict(list)
    for o, c in home.items():
        owners[c].append(o)
    plan = Plan(consumer=[""] * len(old))
    assigned: dict[int, str] = {}
    for c in sorted(members):
        candidates = owners.get(c, [])
        if candidates:
            ch = cluster_hmac[c]
            candidates.sort(
                key=lambda o: (consumer_hmac.get(o) != ch or ch is None, -counts[o][c], o)
            )
            primary = candidates[0]
            if len(candidates) > 1:
                recs: dict[str, list[int]] = defaultdict(list)
                for i in members[c]:
                    if old[i] in candidates:
                        recs[str(old[i])].append(int(record_ids[i]))
                plan.merges.append(Merge(primary, candidates[1:], dict(recs)))
        else:
            primary = make_id()
            plan.created[primary] = cluster_hmac[c]
        assigned[c] = primary
        for i in members[c]:
            plan.consumer[i] = primary
    for o, per in counts.items():
        if len(per) < 2:
            continue
        parts: dict[str, list[int]] = defaultdict(list)
        for i, prev in enumerate(old):
            if prev == o:
                parts[assigned[int(cluster[i])]].append(int(record_ids[i]))
        plan.splits.append(Split(o, dict(parts)))
    plan.changed = [i for i, (a, b) in enumerate(zip(old, plan.consumer, strict=True)) if a != b]
    return plan


__all__ = ["Merge", "Plan", "Split", "new_consumer_id", "reconcile"]
