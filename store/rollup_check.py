"""Checking the rollups against the apps (``ownership rollups verify``) and rebuilding them
from the apps (``ownership rollups rebuild``).

The direct figures use the reports' own queries (store/reports.py, store/risks.py) over
every app, per hosting type; day counters (store/rollup_days.py) are summed from every
app's licenses. ``verify`` also checks the person-derived risks each app carries
(``contact_risks``, store/rollup_people.py) against its contacts' people.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pymongo import UpdateOne

from store import bulk, rollup_days, rollup_index, rollup_people, rollups
from store import reports as report_store
from store.apps import AppRecord, AppStatus, Hosting
from store.db import Database, Document
from store.embedded import mock_matching, mongomock_collection

Counters = dict[str, dict[Any, dict[str, int]]]
_SHOWN = 20  # apps whose stored person-derived risks are wrong, listed at most


@dataclass
class Figures:
    """Every counter, by collection and key (zeros left out; nested fields as paths)."""

    counters: Counters = field(default_factory=dict)
    apps: list[str] = field(default_factory=list)  # apps whose contact_risks are wrong

    def differences(self, other: Figures) -> list[str]:
        found = []
        for name in rollups.COLLECTIONS:
            mine, theirs = self.counters.get(name, {}), other.counters.get(name, {})
            for key in sorted(set(mine) | set(theirs), key=str):
                if mine.get(key, {}) != theirs.get(key, {}):
                    found.append(f"{name} {key}: {mine.get(key, {})} != {theirs.get(key, {})}")
        return found + self.apps + other.apps


def _cell(hosting: Hosting, status: AppStatus) -> str:
    return f"summary:{hosting.value}:{status.value}"


async def _count(db: Database, query: Document) -> int:
    matching = mock_matching(db[rollups.APPS], query)  # the embedded engine: set-based $in
    if matching is not None:
        return len(matching)
    return int(await db[rollups.APPS].count_documents(query))


async def _people(db: Database) -> dict[Any, Document]:
    docs = await db[rollups.PEOPLE].find({}, {"status": 1, "mendix_id": 1}).to_list(None)
    return {doc["_id"]: doc for doc in docs}


def _wanted(doc: Document, people: dict[Any, Document]) -> Document | None:
    contacts = doc.get("technical_contact_ids") or []
    risks = rollup_people.risks_of([people.get(key) for key in contacts])
    return {"hosting": doc["hosting"], "risks": risks} if risks else None


async def direct(db: Database) -> Figures:
    """The counters computed from the apps now (a scan of every app)."""
    cells: dict[Any, dict[str, int]] = {}
    for row in await report_store.summary(db, None):
        cells[_cell(row.hosting, row.status)] = {"count": row.count}
    for risk in (*rollups.APP_RISKS, *rollups.PERSON_RISKS):
        query = await report_store.DIRECT[risk](db)
        for hosting in Hosting:
            count = await _count(db, {"$and": [query, {"hosting": hosting.value}]})
            cells[rollups.risk_key(risk, hosting.value)] = {"count": count}
    loads, more, after = {}, True, None
    while more:
        page, more = await report_store.top_contacts(db, None, limit=10_000, after=after)
        for load in page:
            loads[load.id] = load.model_dump(include=set(rollups.LOAD_FIELDS))
        after = (page[-1].app_count, page[-1].id) if page else None
    months: Counter[str] = Counter()
    days: dict[str, dict[str, int]] = {}
    people, wrong = await _people(db), []
    for doc in await _every_app(db):
        expiries = [item["expires_at"] for item in doc.get("licenses") or []]
        for moment in expiries:
            months[moment.strftime("%Y-%m")] += 1
        rollup_days.add(days, doc["hosting"], [rollup_days.ms(e) for e in expiries], 1)
        held = rollup_people.counted(doc.get(rollups.CONTACT_RISKS))
        if held != rollup_people.counted(_wanted(doc, people)):
            wrong.append(f"app {doc['_id']}: contact_risks {held} is not what its people say")
    figures = _clean(
        {
            rollups.COUNTERS: cells,
            rollups.LOADS: loads,
            rollups.MONTHS: {m: {"count": c} for m, c in months.items()},
            rollups.DAYS: days,
        }
    )
    figures.apps = wrong[:_SHOWN] + ([f"... {len(wrong) - _SHOWN} more"] * (len(wrong) > _SHOWN))
    return figures


def _flat(doc: Document, prefix: str = "") -> dict[str, int]:
    found: dict[str, int] = {}
    for name, value in doc.items():
        if isinstance(value, dict):
            found.update(_flat(value, f"{prefix}{name}."))
        else:
            found[f"{prefix}{name}"] = int(value)
    return found


def _nested(flat: dict[str, int]) -> Document:
    doc: Document = {}
    for path, value in flat.items():
        *parents, last = path.split(".")
        into = doc
        for name in parents:
            into = into.setdefault(name, {})
        into[last] = value
    return doc


async def stored(db: Database) -> Figures:
    """The counters as the rollups hold them."""
    found: Counters = {}
    for name in rollups.COLLECTIONS:
        docs = await db[name].find({}, {"recent": 0}).to_list(None)
        found[name] = {doc.pop("_id"): _flat(doc) for doc in docs}
    return _clean(found)


def _clean(raw: Counters) -> Figures:
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
    """Recompute every counter from the apps and their people (one read of each), and each
    app's person-derived risks. Run it while nothing changes (after bulk loads, or to repair
    drift ``verify`` found): a change made meanwhile may be lost or doubled."""
    apps = db[rollups.APPS]
    await apps.update_many(
        {f"{rollups.PENDING}._id": {"$exists": True}}, {"$unset": {rollups.PENDING: ""}}
    )
    await db[rollups.PEOPLE].update_many(
        {f"{rollups.PENDING}._id": {"$exists": True}}, {"$unset": {rollups.PENDING: ""}}
    )
    total: Counters = {}
    people, changed = await _people(db), []
    for doc in await _every_app(db):
        wanted = _wanted(doc, people)
        if rollup_people.counted(doc.get(rollups.CONTACT_RISKS)) != rollup_people.counted(wanted):
            changed.append((doc["_id"], wanted))
        part = rollups.increments({"after": rollups.contribution(_typed(doc))})
        person = rollups.increments({"after": rollup_people.counted(wanted)})
        for increments in (part, person):
            for name, keys in increments.items():
                mine = total.setdefault(name, {})
                for key, inc in keys.items():
                    cell = mine.setdefault(key, {})
                    for counter, value in inc.items():
                        cell[counter] = cell.get(counter, 0) + value
    await _set_states(db, changed)
    for name in rollups.COLLECTIONS:
        await db[name].delete_many({})
        docs = [
            {"_id": key, **_nested(value), "recent": []}
            for key, value in total.get(name, {}).items()
        ]
        await bulk.insert_trusted(db[name], docs)  # emptied just now: every _id is new
        mock = mongomock_collection(db[name])
        if mock is not None:
            rollup_index.forget(mock)


async def _set_states(db: Database, changed: list[tuple[Any, Document | None]]) -> None:
    """Store each app's person-derived risks (``contact_risks``) as rebuilt."""
    from bson import ObjectId

    def state(wanted: Document) -> Document:
        return {**wanted, "token": ObjectId()}

    mock = mongomock_collection(db[rollups.APPS])
    if mock is not None:  # by key (mongomock scans for every _id); journaled by the store
        for key, wanted in changed:
            doc = dict(mock._store[key])
            doc.pop(rollups.CONTACT_RISKS, None)
            if wanted is not None:
                doc[rollups.CONTACT_RISKS] = state(wanted)
            mock._store[key] = doc
        return
    ops = [
        UpdateOne({"_id": key}, {"$unset": {rollups.CONTACT_RISKS: ""}})
        if wanted is None
        else UpdateOne({"_id": key}, {"$set": {rollups.CONTACT_RISKS: state(wanted)}})
        for key, wanted in changed
    ]
    for start in range(0, len(ops), bulk.BATCH):
        await db[rollups.APPS].bulk_write(ops[start : start + bulk.BATCH], ordered=False)


async def _every_app(db: Database) -> list[Document]:
    apps = db[rollups.APPS]
    mock = mongomock_collection(apps)
    if mock is not None:  # the engine's own documents, read, never changed or kept
        return list(mock._store.documents)
    fields = ("hosting", "status", "technical_contact_ids", "licenses", "environments")
    projection = dict.fromkeys((*fields, "grants", rollups.CONTACT_RISKS), 1)
    return list(await apps.find({}, projection).to_list(None))


def _typed(doc: Document) -> AppRecord:
    return AppRecord.model_validate(
        {"name": "", "subdomain": "", "member_ids": [], "ordered_at": _EPOCH, "version": 0, **doc}
    )


_EPOCH = datetime(2000, 1, 1)
