"""Ownership rollups: Support's report figures kept as counters, maintained as apps change.

An app's *contribution* (:func:`contribution`) is what it adds to the counters: its hosting x
status cell, its technical contacts' loads, one per license in the month it expires, and the
at-risk reports it is in that depend on the app document alone. Every app write pushes, in
the same atomic update, an entry ``{_id, before, after}`` (the contributions of the version it
replaced and of the one it wrote) into the app's ``rollup_pending`` (store/apps.py), so a
change and its rollup delta are never apart. :func:`drain` then applies the delta to the
counter documents and pulls the entry; it is safe to run again, at any point, from any
process (store functions drain right after their write; the periodic task drains what a
crash left).

Exactly once without transactions: each counter document keeps the ids of the last
:data:`RECENT` entries applied to it, and an entry is applied with
``{_id: key, recent: {$ne: entry}}`` + ``$inc`` + ``$push {recent: {$each: [entry], $slice}}``
in one update, so a re-run (a crash, two drains racing) never counts twice. Only a re-run
after more than RECENT later entries hit the same counter could: ``rollups verify`` finds
such drift and ``rollups rebuild`` recomputes everything.

Collections: ``rollups`` (hosting x status cells and at-risk counts, a handful of
documents), ``rollup_loads`` (one per technical contact, ``_id`` = the person) and
``rollup_months`` (licenses expiring per ``YYYY-MM``; a month's label never changes, so the
timeline stays right as days pass: the window is chosen at read time).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING
from pymongo.errors import DuplicateKeyError

from store import rollup_days, rollup_index
from store.apps import AppRecord, AppStatus, Hosting
from store.cloud import EnvironmentRight
from store.db import Database, Document, mongomock_collection

COUNTERS = "rollups"
LOADS = "rollup_loads"
MONTHS = "rollup_months"
APPS = "apps"
PENDING = "rollup_pending"
PEOPLE = "people"
CONTACT_RISKS = "contact_risks"  # the person-derived risks counted for an app
RECENT = 1000

DAYS = rollup_days.DAYS
# at-risk reports decided by the app document alone (store/risks.py filters)
APP_RISKS = ("cloud_without_alerts", "foreign_manage_permissions")
# at-risk reports that depend on the technical contacts' person documents
# (store/rollup_people.py keeps them in the app document, ``contact_risks``)
PERSON_RISKS = ("inactive_contact", "contact_without_mendix_id")
COLLECTIONS = (COUNTERS, LOADS, MONTHS, DAYS)
LOAD_FIELDS = ("app_count", "mendix_cloud_count", "on_premises_count", "ordered_count")


def pending_filter() -> Document:
    """Apps (or people) with rollup entries (follow-ups) not yet applied: indexed (sparse
    ``rollup_pending`` here; on the embedded engine, store/embedded_index.py)."""
    return {f"{PENDING}._id": {"$exists": True}}


async def ensure_indexes(db: Database) -> None:
    await db[LOADS].create_index(
        [("app_count", DESCENDING), ("_id", ASCENDING)], name="app_count_desc"
    )
    await db[APPS].create_index([(f"{PENDING}._id", ASCENDING)], name=PENDING, sparse=True)
    await db[PEOPLE].create_index([(f"{PENDING}._id", ASCENDING)], name=PENDING, sparse=True)
    await db[APPS].create_index([(f"{CONTACT_RISKS}.risks", ASCENDING)], name=CONTACT_RISKS)


# --- what one app contributes ---------------------------------------------------------------


def _cloud_without_alerts(app: AppRecord) -> bool:
    # as {"hosting": MENDIX_CLOUD, "environments.alert_settings.email_enabled": {$ne: true}}
    return app.hosting is Hosting.MENDIX_CLOUD and not any(
        env.alert_settings.email_enabled is True for env in app.environments
    )


def _foreign_manage(app: AppRecord) -> bool:
    production = {env.environment_id for env in app.environments if env.production is True}
    return any(
        grant.right is EnvironmentRight.MANAGE_PERMISSIONS
        and grant.person_id not in app.technical_contact_ids
        and grant.environment_id in production
        for grant in app.grants
    )


def contribution(app: AppRecord | None) -> Document | None:
    """What ``app`` adds to the counters (None: nothing, the app does not exist)."""
    if app is None:
        return None
    risks = {
        "cloud_without_alerts": _cloud_without_alerts,
        "foreign_manage_permissions": _foreign_manage,
    }
    return {
        "hosting": app.hosting.value,
        "status": app.status.value,
        "contacts": list(app.technical_contact_ids),
        "months": sorted(item.expires_at.strftime("%Y-%m") for item in app.licenses),
        "expiries": sorted(rollup_days.ms(item.expires_at) for item in app.licenses),
        "risks": [name for name, test in risks.items() if test(app)],
    }


def entry(before: AppRecord | None, after: AppRecord | None) -> Document | None:
    """The pending entry of a change from ``before`` to ``after``; None when it moves no
    counter."""
    old, new = contribution(before), contribution(after)
    if old == new:
        return None
    return {"_id": ObjectId(), "before": old, "after": new}


# --- applying a delta -----------------------------------------------------------------------


Increments = dict[str, dict[Any, dict[str, int]]]


def risk_key(risk: str, hosting: str) -> str:
    return f"risk:{risk}:{hosting}"


def _add(into: Increments, part: Document | None, sign: int) -> None:
    """Add (sign 1) or take away (-1) one contribution: an app's (:func:`contribution`) or
    its person-derived risks (``{hosting, person_risks}``, store/rollup_people.py)."""
    if part is None:
        return
    cells = into[COUNTERS]
    hosting = part["hosting"]
    for risk in [*part.get("risks", ()), *part.get("person_risks", ())]:
        cells.setdefault(risk_key(risk, hosting), {"count": 0})["count"] += sign
    if "status" not in part:
        return
    cell = cells.setdefault(f"summary:{hosting}:{part['status']}", {"count": 0})
    cell["count"] += sign
    load = {
        "app_count": 1,
        "mendix_cloud_count": int(hosting == Hosting.MENDIX_CLOUD.value),
        "on_premises_count": int(hosting == Hosting.ON_PREMISES.value),
        "ordered_count": int(part["status"] == AppStatus.ORDERED.value),
    }
    for person in part["contacts"]:
        mine = into[LOADS].setdefault(person, dict.fromkeys(LOAD_FIELDS, 0))
        for name, value in load.items():
            mine[name] += sign * value
    for month, count in Counter(part["months"]).items():
        into[MONTHS].setdefault(month, {"count": 0})["count"] += sign * count
    rollup_days.add(into[DAYS], hosting, part.get("expiries", ()), sign)


def increments(pending: Document) -> Increments:
    """Per collection and counter key, the non-zero ``$inc`` of one entry."""
    found: Increments = defaultdict(dict)
    _add(found, pending.get("before"), -1)
    _add(found, pending.get("after"), 1)
    return {
        name: {
            key: inc for key, raw in keys.items() if (inc := {f: v for f, v in raw.items() if v})
        }
        for name, keys in found.items()
    }


async def _bump(db: Database, name: str, key: Any, inc: dict[str, int], entry_id: Any) -> None:
    """Apply ``inc`` to one counter unless ``entry_id`` was applied to it already."""
    query = {"_id": key, "recent": {"$ne": entry_id}}
    update = {"$inc": inc, "$push": {"recent": {"$each": [entry_id], "$slice": -RECENT}}}
    try:
        await db[name].update_one(query, update, upsert=True)
    except DuplicateKeyError:
        # it exists (created meanwhile, or it holds entry_id): apply unless applied
        await db[name].update_one(query, update)
    finally:
        mock = mongomock_collection(db[name]) if name == LOADS else None
        if mock is not None:  # the embedded engine's load index (store/rollup_index.py)
            rollup_index.refresh(mock, key)


async def apply(db: Database, pending: Document) -> None:
    for name, keys in increments(pending).items():
        for key, inc in keys.items():
            await _bump(db, name, key, inc, pending["_id"])


def _moves_contacts(pending: Document) -> bool:
    """Whether an app entry changes what its person-derived risks depend on (the contacts)
    or where they are counted (the hosting)."""
    before, after = pending.get("before"), pending.get("after")
    if before is None or after is None:
        return before is not after
    if "contacts" not in before:  # a person-derived risks entry itself
        return False
    return before["contacts"] != after["contacts"] or before["hosting"] != after["hosting"]


async def drain(db: Database, app_id: ObjectId) -> int:
    """Apply and pull the app's pending rollup entries; returns how many. Idempotent.

    An entry that changes the app's technical contacts (or hosting) first brings the app's
    person-derived risks up to date (store/rollup_people.py ``reconcile``, which pushes its
    own entry), before it is pulled: a crash in between leaves it pending, so it runs again.
    """
    from store import rollup_people  # it builds on this module

    applied = 0
    for _ in range(_ROUNDS):
        found = await db[APPS].find_one({"_id": app_id}, {PENDING: 1})
        pending: list[Document] = list((found or {}).get(PENDING) or [])
        if not pending:
            break
        for item in pending:
            await apply(db, item)
        if any(_moves_contacts(item) for item in pending):
            await rollup_people.reconcile(db, app_id)
        ids = [item["_id"] for item in pending]
        await db[APPS].update_one({"_id": app_id}, {"$pull": {PENDING: {"_id": {"$in": ids}}}})
        applied += len(pending)
    return applied


_ROUNDS = 5


async def drain_all(db: Database, limit: int | None = 1000) -> int:
    """Drain every app left with pending entries, and finish every person change whose
    follow-up was left (after a crash); returns entries applied plus people finished."""
    from store import rollup_people

    done = await rollup_people.finish_all(db, limit)
    cursor = db[APPS].find({f"{PENDING}._id": {"$exists": True}}, {"_id": 1})
    if limit is not None:
        cursor = cursor.limit(limit)
    for doc in await cursor.to_list(None):
        done += await drain(db, doc["_id"])
    return done
