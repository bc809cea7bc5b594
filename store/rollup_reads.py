"""Support's report figures read from the rollups (store/rollups.py), and the direct
aggregation they are checked against (``rollups verify``) or rebuilt from (``rollups
rebuild``).

Each read touches only counter documents: the four hosting x status cells, a page of the
``rollup_loads`` index ``(app_count desc, _id)``, one load by key, the months of the window,
one at-risk count. None of them reads an app.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bson import ObjectId

from store import bulk, rollup_index, rollups
from store import reports as report_store
from store.apps import AppRecord, AppStatus, Hosting
from store.db import Database, Document, mongomock_collection
from store.reports import ContactLoad, SummaryRow
from store.risks import MonthCount, add_months, month_start

_ZERO = dict.fromkeys(rollups.LOAD_FIELDS, 0)


def _cell(hosting: Hosting, status: AppStatus) -> str:
    return f"summary:{hosting.value}:{status.value}"


async def _counts(db: Database, name: str, keys: list[Any]) -> dict[Any, int]:
    docs = await db[name].find({"_id": {"$in": keys}}, {"count": 1}).to_list(None)
    return {doc["_id"]: int(doc.get("count", 0)) for doc in docs}


async def summary(db: Database) -> list[SummaryRow]:
    cells = [(hosting, status) for hosting in Hosting for status in AppStatus]
    counts = await _counts(db, rollups.COUNTERS, [_cell(h, s) for h, s in cells])
    return [
        SummaryRow(_id=ObjectId(), hosting=h, status=s, count=counts.get(_cell(h, s), 0))
        for h, s in cells
    ]


async def _turn() -> None:
    """Give the event loop a turn, as every read of the embedded engine does
    (store/interleave.py), so these shortcuts schedule like the reads they replace."""
    await asyncio.sleep(0)


def _load(doc: Document) -> ContactLoad:
    return ContactLoad.model_validate({**_ZERO, **doc})


async def top_contacts(
    db: Database,
    *,
    limit: int,
    descending: bool = True,
    after: tuple[int, ObjectId] | None = None,
) -> tuple[list[ContactLoad], bool]:
    """As store.reports.top_contacts over every app, from the loads index."""
    loads = db[rollups.LOADS]
    mock = mongomock_collection(loads)
    if mock is not None:  # the embedded engine sorts through bson_compare: see _mock_top
        await _turn()
        return _mock_top(mock, limit, descending, after)
    query: Document = {"app_count": {"$gt": 0}}
    if after is not None:
        count, key = after
        beyond = "$lt" if descending else "$gt"
        keyset = {
            "$or": [{"app_count": {beyond: count}}, {"app_count": count, "_id": {"$gt": key}}]
        }
        query = {"$and": [query, keyset]}
    cursor = loads.find(query, dict.fromkeys(rollups.LOAD_FIELDS, 1))
    cursor = cursor.sort([("app_count", -1 if descending else 1), ("_id", 1)]).limit(limit + 1)
    rows = await cursor.to_list(None)
    return [_load(row) for row in rows[:limit]], len(rows) > limit


def _mock_top(
    mock: Any, limit: int, descending: bool, after: tuple[int, ObjectId] | None
) -> tuple[list[ContactLoad], bool]:
    """The same page from the embedded engine's load index (store/rollup_index.py), each
    row then read by key."""
    rows = rollup_index.index_of(mock).page(limit + 1, descending, after)
    loads = []
    for _, key in rows[:limit]:
        doc = mock._store[key]
        loads.append(_load({"_id": key, **{n: doc[n] for n in rollups.LOAD_FIELDS if n in doc}}))
    return loads, len(rows) > limit


async def count_contacts(db: Database) -> int:
    loads = db[rollups.LOADS]
    mock = mongomock_collection(loads)
    if mock is not None:
        await _turn()
        return len(rollup_index.index_of(mock))
    return int(await loads.count_documents({"app_count": {"$gt": 0}}))


async def contact_load(db: Database, person_id: ObjectId) -> ContactLoad:
    loads = db[rollups.LOADS]
    mock = mongomock_collection(loads)
    if mock is not None:  # by key, not a scan
        await _turn()
        try:
            found = mock._store[person_id]
        except KeyError:
            found = {}
        return _load({**{n: found[n] for n in rollups.LOAD_FIELDS if n in found}, "_id": person_id})
    doc = await loads.find_one({"_id": person_id}, dict.fromkeys(rollups.LOAD_FIELDS, 1))
    return _load(doc or {"_id": person_id})


async def expiry_timeline(db: Database, start: datetime, months: int) -> list[MonthCount]:
    since = month_start(start)
    labels = [add_months(since, offset).strftime("%Y-%m") for offset in range(months)]
    counts = await _counts(db, rollups.MONTHS, labels)
    return [MonthCount(_id=ObjectId(), month=label, count=counts.get(label, 0)) for label in labels]


async def risk_count(db: Database, risk: str) -> int:
    """How many apps are at ``risk`` (one of rollups.APP_RISKS)."""
    return (await _counts(db, rollups.COUNTERS, [f"risk:{risk}"])).get(f"risk:{risk}", 0)


# --- the direct aggregation: what the counters must equal --------------------------------------


@dataclass
class Figures:
    """Every counter, by collection and key (zeros left out)."""

    counters: dict[str, dict[Any, dict[str, int]]] = field(default_factory=dict)

    def differences(self, other: Figures) -> list[str]:
        found = []
        for name in (rollups.COUNTERS, rollups.LOADS, rollups.MONTHS):
            mine, theirs = self.counters.get(name, {}), other.counters.get(name, {})
            for key in sorted(set(mine) | set(theirs), key=str):
                if mine.get(key, {}) != theirs.get(key, {}):
                    found.append(f"{name} {key}: {mine.get(key, {})} != {theirs.get(key, {})}")
        return found


async def direct(db: Database) -> Figures:
    """The counters computed from the apps now (a scan of every app)."""
    cells: dict[Any, dict[str, int]] = {}
    for row in await report_store.summary(db, None):
        cells[_cell(row.hosting, row.status)] = {"count": row.count}
    for risk in rollups.APP_RISKS:
        query = await report_store.RISKS[risk](db)
        cells[f"risk:{risk}"] = {"count": await db[rollups.APPS].count_documents(query)}
    loads, more, after = {}, True, None
    while more:
        page, more = await report_store.top_contacts(db, None, limit=10_000, after=after)
        for load in page:
            loads[load.id] = load.model_dump(include=set(rollups.LOAD_FIELDS))
        after = (page[-1].app_count, page[-1].id) if page else None
    months: Counter[str] = Counter()
    for doc in await _every_app(db, {"licenses"}):
        for item in doc.get("licenses") or []:
            moment = item["expires_at"]
            months[moment.strftime("%Y-%m")] += 1
    return _clean(
        {
            rollups.COUNTERS: cells,
            rollups.LOADS: loads,
            rollups.MONTHS: {m: {"count": c} for m, c in months.items()},
        }
    )


async def stored(db: Database) -> Figures:
    """The counters as the rollups hold them."""
    found: dict[str, dict[Any, dict[str, int]]] = {}
    for name in (rollups.COUNTERS, rollups.LOADS, rollups.MONTHS):
        docs = await db[name].find({}, {"recent": 0}).to_list(None)
        found[name] = {doc.pop("_id"): {k: int(v) for k, v in doc.items()} for doc in docs}
    return _clean(found)


def _clean(raw: dict[str, dict[Any, dict[str, int]]]) -> Figures:
    return Figures(
        {
            name: {
                key: nonzero
                for key, value in keys.items()
                if (nonzero := {k: v for k, v in value.items() if v})
            }
            for name, keys in raw.items()
        }
    )


async def verify(db: Database) -> list[str]:
    """Apply what is pending, then compare the rollups with a direct aggregation; returns the
    differences (empty: exact)."""
    await rollups.drain_all(db, limit=None)
    return (await stored(db)).differences(await direct(db))


async def rebuild(db: Database) -> None:
    """Recompute every counter from the apps (one read of each, their contributions summed).
    Run it while no app changes (after bulk loads, or to repair drift ``verify`` found): a
    change made meanwhile may be lost or doubled."""
    await db[rollups.APPS].update_many(
        {f"{rollups.PENDING}._id": {"$exists": True}}, {"$unset": {rollups.PENDING: ""}}
    )
    total: dict[str, dict[Any, dict[str, int]]] = {}
    fields = {"hosting", "status", "technical_contact_ids", "licenses", "environments", "grants"}
    for doc in await _every_app(db, fields):
        part = rollups.increments({"after": rollups.contribution(_typed(doc))})
        for name, keys in part.items():
            mine = total.setdefault(name, {})
            for key, inc in keys.items():
                cell = mine.setdefault(key, {})
                for counter, value in inc.items():
                    cell[counter] = cell.get(counter, 0) + value
    for name in (rollups.COUNTERS, rollups.LOADS, rollups.MONTHS):
        await db[name].delete_many({})
        docs = [{"_id": key, **value, "recent": []} for key, value in total.get(name, {}).items()]
        await bulk.insert_trusted(db[name], docs)  # emptied just now: every _id is new
        mock = mongomock_collection(db[name])
        if mock is not None:
            rollup_index.forget(mock)


async def _every_app(db: Database, fields: set[str]) -> list[Document]:
    apps = db[rollups.APPS]
    mock = mongomock_collection(apps)
    if mock is not None:  # the engine's own documents, read, never changed or kept
        return list(mock._store.documents)
    return list(await apps.find({}, dict.fromkeys(fields, 1)).to_list(None))


def _typed(doc: Document) -> AppRecord:
    return AppRecord.model_validate(
        {"name": "", "subdomain": "", "member_ids": [], "ordered_at": _EPOCH, "version": 0, **doc}
    )


_EPOCH = datetime(2000, 1, 1)
