"""At-risk counts that depend on people: apps with an INACTIVE technical contact, and apps
with a technical contact without a MendixID.

Each app document carries the person-derived risks it is counted under (``contact_risks``:
``{risks, hosting, token}``, written only here; readers may filter on
``contact_risks.risks``, indexed). :func:`reconcile` reads the app's technical contacts and
hosting and those people's status and MendixID, and when the stored state differs, replaces
it in ONE conditional update that also pushes the rollup delta (before/after) into the app's
``rollup_pending``; store/rollups.py drains it like any app entry. The update's filter pins
the contacts, the hosting and the state's ``token`` it read (a fresh ObjectId per
transition), so a reconcile that read stale people or a stale app matches nothing and reads
again: the counters always equal the sum of the stored states, each transition counted
exactly once.

Who reconciles, so that every state ends right:

- an app write that changes its contacts or hosting: its drain (store/rollups.py), before
  the entry is pulled (a crash leaves the entry, the periodic drain runs it again);
- a person's status or MendixID change (store/people.py): the same update pushes a marker
  into the person's ``rollup_pending``; :func:`follow_person` then reconciles every app the
  person is technical contact of and pulls the marker (after a crash :func:`finish_all`).

A race between the two is covered both ways: if the app's reconcile read the person before
the person write, the app write came before it too, so the person's follow-up (which looks
for the apps after the person write) finds the app and reads the new state.
"""

from __future__ import annotations

from typing import Any

from bson import ObjectId

from store import rollups
from store.db import Database, Document, find_all
from store.embedded import mock_stored_many

STATE = rollups.CONTACT_RISKS
INACTIVE = "INACTIVE"
ATTEMPTS = 50


class Contended(Exception):
    """A reconcile lost every attempt to racing writers; what triggered it stays pending."""


async def _people(db: Database, ids: list[ObjectId]) -> list[Document | None]:
    stored = mock_stored_many(db, rollups.PEOPLE, ids)
    if stored is not None:  # the embedded engine: by key, no scan
        return stored
    projection = {"status": 1, "mendix_id": 1}
    docs = await db[rollups.PEOPLE].find({"_id": {"$in": ids}}, projection).to_list(None)
    by_id = {doc["_id"]: doc for doc in docs}
    return [by_id.get(key) for key in ids]


def risks_of(people: list[Document | None]) -> list[str]:
    """The person-derived risks of an app with these technical contacts (as the direct
    queries in store/reports.py: a missing person is neither)."""
    found = []
    if any(doc is not None and doc.get("status") == INACTIVE for doc in people):
        found.append("inactive_contact")
    if any(doc is not None and doc.get("mendix_id") is None for doc in people):
        found.append("contact_without_mendix_id")
    return found


def counted(state: Document | None) -> Document | None:
    """What a stored state adds to the counters (None: nothing)."""
    if not state or not state.get("risks"):
        return None
    return {"hosting": state["hosting"], "person_risks": list(state["risks"])}


async def reconcile(db: Database, app_id: ObjectId) -> bool:
    """Bring the app's person-derived risks in line with its contacts and their people;
    returns whether they changed. Safe to run again, anywhere, any time."""
    apps = db[rollups.APPS]
    for _ in range(ATTEMPTS):
        doc = await apps.find_one(
            {"_id": app_id}, {"technical_contact_ids": 1, "hosting": 1, STATE: 1}
        )
        if doc is None:
            return False
        contacts = list(doc.get("technical_contact_ids") or [])
        state: Document | None = doc.get(STATE)
        risks = risks_of(await _people(db, contacts))
        wanted = {"hosting": doc["hosting"], "risks": risks} if risks else None
        old, new = counted(state), counted(wanted)
        if old == new:
            return False
        query: Document = {
            "_id": app_id,
            "technical_contact_ids": contacts,
            "hosting": doc["hosting"],
            f"{STATE}.token": (state or {}).get("token"),
        }
        entry = {"_id": ObjectId(), "before": old, "after": new}
        update: Document = {"$push": {rollups.PENDING: entry}}
        if wanted is None:
            update["$unset"] = {STATE: ""}
        else:
            update["$set"] = {STATE: {**wanted, "token": ObjectId()}}
        if (await apps.update_one(query, update)).matched_count:
            return True
    raise Contended(f"app {app_id}: person-derived risks not settled")


# --- reading the apps at a person-derived risk ------------------------------------------------


async def at_risk(db: Database, risk: str) -> Document:
    """A filter on apps for a person-derived risk (``inactive_contact``,
    ``contact_without_mendix_id``) that is exact now, read on the ``contact_risks`` index.

    An app's stored state is right unless a follow-up is pending that may change it: the
    app's own (``rollup_pending``: its contacts or hosting changed, or its state is being
    replaced) or a contact's (a marker: their status or MendixID changed), until it is
    pulled after the reconcile. Those apps (found on the sparse ``rollup_pending`` indexes;
    normally none, as every write's follow-up runs before it answers) are decided from
    their contacts' people now, as the direct filter (store/reports.py ``DIRECT``) does.
    """
    if risk not in rollups.PERSON_RISKS:
        raise ValueError(f"{risk!r} does not depend on people")
    carried: Document = {f"{STATE}.risks": risk}
    fields = ["_id", "technical_contact_ids"]
    apps = await find_all(db[rollups.APPS], rollups.pending_filter(), fields)
    people = await find_all(db[rollups.PEOPLE], rollups.pending_filter(), ["_id"])
    if people:
        query = {"technical_contact_ids": {"$in": [doc["_id"] for doc in people]}}
        apps += await find_all(db[rollups.APPS], query, fields)
    if not apps:
        return carried
    unsettled = {doc["_id"]: list(doc.get("technical_contact_ids") or []) for doc in apps}
    contacts = list({key: None for ids in unsettled.values() for key in ids})
    found = dict(zip(contacts, await _people(db, contacts), strict=True))
    now_at_risk = [
        app for app, ids in unsettled.items() if risk in risks_of([found.get(key) for key in ids])
    ]
    settled = {"$and": [carried, {"_id": {"$nin": list(unsettled)}}]}
    return {"$or": [settled, {"_id": {"$in": now_at_risk}}]}


# --- the follow-up of a person's change --------------------------------------------------------


def marker() -> Document:
    """Pushed into ``rollup_pending`` by the update that changes a person's status or
    MendixID (store/people.py): that person's apps are to be reconciled."""
    return {"_id": ObjectId()}


async def follow_person(db: Database, person_id: ObjectId) -> int:
    """Reconcile (and drain) every app the person is technical contact of, then pull the
    person's markers; returns how many apps changed. Idempotent."""
    found = await db[rollups.PEOPLE].find_one({"_id": person_id}, {rollups.PENDING: 1})
    markers = [item["_id"] for item in (found or {}).get(rollups.PENDING) or []]
    if not markers:
        return 0
    cursor = db[rollups.APPS].find({"technical_contact_ids": person_id}, {"_id": 1})
    changed = 0
    for app in await cursor.to_list(None):
        changed += await reconcile(db, app["_id"])
        await rollups.drain(db, app["_id"])
    people = db[rollups.PEOPLE]
    await people.update_one(
        {"_id": person_id}, {"$pull": {rollups.PENDING: {"_id": {"$in": markers}}}}
    )
    await people.update_one(
        {"_id": person_id, rollups.PENDING: {"$size": 0}}, {"$unset": {rollups.PENDING: ""}}
    )
    return changed


async def finish_all(db: Database, limit: int | None = 1000) -> int:
    """Follow up every person change a crash left; returns how many people."""
    cursor = db[rollups.PEOPLE].find({f"{rollups.PENDING}._id": {"$exists": True}}, {"_id": 1})
    if limit is not None:
        cursor = cursor.limit(limit)
    docs: list[Any] = await cursor.to_list(None)
    for doc in docs:
        await follow_person(db, doc["_id"])
    return len(docs)
