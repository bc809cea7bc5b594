"""Support's report figures read from the rollups (store/rollups.py); checking and
rebuilding them is store/rollup_check.py (re-exported at the end).

Each read touches only counter documents: the four hosting x status cells, a page of the
``rollup_loads`` index ``(app_count desc, _id)``, one load by key, the months of the window,
one at-risk count per hosting type, the days of an expiry window. None of them reads an app.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bson import ObjectId

from store import rollup_check, rollup_days, rollup_index, rollups
from store.apps import AppStatus, Hosting
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


RISKS = (*rollups.APP_RISKS, *rollups.PERSON_RISKS)


def _hostings(hosting: Sequence[Hosting] | None) -> list[str]:
    return [item.value for item in (Hosting if hosting is None else dict.fromkeys(hosting))]


async def _docs(db: Database, name: str, keys: list[str]) -> dict[str, Document]:
    """Counter documents by key (missing ones left out): by key on the embedded engine, as
    store/embedded.py ``mock_stored`` reads (the engine's own documents: read, never kept)."""
    mock = mongomock_collection(db[name])
    if mock is not None:
        await _turn()
        stored = mock._store
        if stored._ttl_indexes:  # never on counters; mongomock's checked read then
            return {key: stored[key] for key in keys if key in stored}
        documents = stored._documents
        return {key: found for key in keys if (found := documents.get(key)) is not None}
    docs = await db[name].find({"_id": {"$in": keys}}, {"recent": 0}).to_list(None)
    return {doc["_id"]: doc for doc in docs}


async def risk_count(db: Database, risk: str, hosting: Sequence[Hosting] | None = None) -> int:
    """How many apps (of these hosting types; None: all) are at ``risk``, one of
    :data:`RISKS` (the keys of store.reports.RISKS)."""
    if risk not in RISKS:
        raise ValueError(f"no rollup for {risk!r}")
    keys = [rollups.risk_key(risk, item) for item in _hostings(hosting)]
    docs = await _docs(db, rollups.COUNTERS, keys)
    return sum(int(doc.get("count", 0)) for doc in docs.values())


async def expiring_count(
    db: Database, since: datetime, until: datetime, hosting: Sequence[Hosting] | None = None
) -> int:
    """How many apps (of these hosting types) have a license expiring in [since, until]
    (store/rollup_days.py: N + 1 day documents per hosting type, never an app)."""
    labels = rollup_days.labels(since, until)
    total = 0
    for item in _hostings(hosting):
        keys = [rollup_days.key(item, label) for label in labels]
        docs = await _docs(db, rollups.DAYS, keys)
        by_label = {label: docs[k] for label, k in zip(labels, keys, strict=True) if k in docs}
        total += rollup_days.count(by_label, since, until, labels)
    return total


def contact_risk_filter(risk: str) -> Document:
    """A filter on apps for a person-derived risk (``inactive_contact``,
    ``contact_without_mendix_id``) from the state each app carries (index
    ``contact_risks``); equal to the direct filter once the writes' follow-ups ran (the
    writer's own request runs them before it answers)."""
    if risk not in rollups.PERSON_RISKS:
        raise ValueError(f"{risk!r} does not depend on people")
    return {f"{rollups.CONTACT_RISKS}.risks": risk}


# checking and rebuilding (store/rollup_check.py), here for the callers that import them
Figures = rollup_check.Figures
direct = rollup_check.direct
stored = rollup_check.stored
verify = rollup_check.verify
rebuild = rollup_check.rebuild
