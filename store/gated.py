"""Records made under a right on their app: the right is in the write's filter.

A support request and a license expansion request live in collections of their own, but
the right to make one (team member, technical contact) and the rules it must meet are on
the app document. So one is made by a conditional update of the app: the filter states the
app version it was checked on, the right and the rules; the update pushes the whole new
document, with its pending audit events and emails, into the app's ``pending_records``. It
matches nothing when the right or a rule no longer holds (or the app changed meanwhile):
refused, nothing written. A right lost a moment before the write refuses it.

:func:`move` then inserts the document into its collection under its ``_id`` (a duplicate
key means it was moved before: a crash, another process) and only then pulls it from the
app; that collection's own drains (store/audit.py, store/pending_mail.py) move its events
and emails on. The process that made the record moves it at once; the periodic task
(:func:`move_all`) finishes what a crash left, from any process.

A comment on a support request travels the same way (:func:`comment`): pushed into the
app under the commenter's right, then applied to the request, only while the request is
still at the status its audit event names and has no comment with its ID, and pulled from
the app either way. So it is added once or not at all; the use case reads the request to
tell which (not applied: the request moved on, and it is refused or tried again). One
interleaving can still add a comment whose answer was REQUEST_NOT_OPEN: the periodic task
reads the comment in the app before the writer's move, the request was being approved
(not open) at the writer's move and its approval was released back to that status before
the task's move; the comment then lands on the reopened request.

The push neither changes the app's ``version`` nor anything a read of the app returns
(``AppRecord`` has no such field; rollups and indexes ignore it), so it disturbs no
optimistic check of the app and no read.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

from bson import ObjectId
from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from store.app_records import COLLECTION as APPS
from store.audit import PENDING
from store.db import Database, Document
from store.later import finish_now
from store.records import now

FIELD = "pending_records"
# The collections a record may be moved into (no other name is ever written to).
REQUESTS = "support_requests"
TARGETS = (REQUESTS, "license_expansion_requests")
COMMENT = "comment"  # the target of a comment: its request (in REQUESTS)


@dataclass(frozen=True)
class Gate:
    """The app state a record is made on: the version its rules were checked on and the
    right's condition on the app (store/rights.py ``Authority.condition``)."""

    version: int
    authority: Document = field(default_factory=dict)


async def ensure_indexes(db: Database) -> None:
    """Finds the apps a crash left with records to move without a scan."""
    await db[APPS].create_index([(f"{FIELD}._id", ASCENDING)], name=FIELD, sparse=True)


async def create(
    db: Database, app_id: ObjectId, gate: Gate, rules: Document, target: str, doc: Document
) -> bool:
    """Push ``doc`` (bound for ``target``) into the app, only where the app is still at
    ``gate.version`` and the right and ``rules`` hold; then move it at once. False when the
    filter matched nothing (refused: nothing written)."""
    if target not in TARGETS:
        raise ValueError(f"not a gated collection: {target}")
    return await _push(db, app_id, gate, rules, {"_id": doc["_id"], "target": target, "doc": doc})


async def comment(
    db: Database,
    app_id: ObjectId,
    gate: Gate,
    *,
    request_id: ObjectId,
    status: str,
    comment_id: ObjectId,
    author_id: ObjectId,
    body: str,
    events: list[Document],
) -> bool:
    """Push a comment on request ``request_id`` into the app, only where the app is still
    at ``gate.version`` and the right holds; then apply it at once (only while the request
    is at ``status``). False when the app's filter matched nothing (refused: nothing
    written)."""
    doc: Document = {"id": comment_id, "author_id": author_id, "body": body, "created_at": now()}
    entry = {
        "_id": comment_id,
        "target": COMMENT,
        "request_id": request_id,
        "status": status,
        "doc": doc,
        "events": events,
    }
    return await _push(db, app_id, gate, {}, entry)


async def _push(
    db: Database, app_id: ObjectId, gate: Gate, rules: Document, entry: Document
) -> bool:
    clauses = [{"_id": app_id, "version": gate.version}, gate.authority, rules]
    query: Document = {"$and": [clause for clause in clauses if clause]}
    result = await db[APPS].update_one(query, {"$push": {FIELD: entry}})
    if not result.matched_count:
        return False
    await finish_now(
        lambda: move(db, app_id), "Record %s left pending in app %s", entry["_id"], app_id
    )
    return True


async def _apply_comment(db: Database, entry: Document) -> None:
    """Add the comment with its events, once, to its request if still at its status."""
    await db[REQUESTS].update_one(
        {
            "_id": entry["request_id"],
            "status": entry["status"],
            "comments.id": {"$ne": entry["_id"]},
        },
        {
            "$push": {"comments": entry["doc"], PENDING: {"$each": entry["events"]}},
            "$set": {"updated_at": now()},
        },
    )


async def move(db: Database, app_id: ObjectId) -> int:
    """Insert the app's pending records into their collections (apply its comments to
    their requests), then pull them from the app; returns how many left it. Safe to run
    again, at any point, in any process."""
    found = await db[APPS].find_one({"_id": app_id}, {FIELD: 1})
    pending: list[Document] = list((found or {}).get(FIELD) or [])
    if not pending:
        return 0
    moved = [entry for entry in pending if entry["target"] in (*TARGETS, COMMENT)]
    for entry in moved:
        if entry["target"] == COMMENT:
            await _apply_comment(db, entry)
            continue
        with contextlib.suppress(DuplicateKeyError):  # moved before (a crash, a process)
            await db[entry["target"]].insert_one(dict(entry["doc"]))
    ids = [entry["_id"] for entry in moved]
    await db[APPS].update_one({"_id": app_id}, {"$pull": {FIELD: {"_id": {"$in": ids}}}})
    await db[APPS].update_one({"_id": app_id, FIELD: {"$size": 0}}, {"$unset": {FIELD: ""}})
    return len(moved)


async def move_all(db: Database, limit: int = 1000) -> int:
    """Move every record a crash left pending in its app; returns how many."""
    cursor = db[APPS].find({f"{FIELD}._id": {"$exists": True}}, {"_id": 1})
    moved = 0
    for doc in await cursor.limit(limit).to_list(None):
        moved += await move(db, doc["_id"])
    return moved
