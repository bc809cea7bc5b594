"""Approving a support request that adds a technical contact: the request's side of the
state machine (resolvers/approvals.py runs it). Each step is one conditional update on the
request: claim it, mark it approved, release a refused claim, find claims gone stale."""

from __future__ import annotations

from datetime import datetime, timedelta

from bson import ObjectId

from store.db import Database, Document
from store.records import now
from store.support import (
    OPEN,
    RequestKind,
    RequestStatus,
    SupportRequestRecord,
    requests_of,
    update_request,
)


async def claim_for_approval(
    db: Database,
    request_id: ObjectId,
    *,
    stale_after: timedelta,
    by: ObjectId | None = None,
    at: datetime | None = None,
) -> SupportRequestRecord | None:
    """Open CHANGE request -> APPROVING, so one approver proceeds; ``claimed_from`` keeps the
    status to return to if the approval is refused. A claim left by a crashed approver can be
    taken over after ``stale_after``."""
    moment = at or now()
    change: Document = {"kind": RequestKind.CHANGE.value, "technical_contact_id": {"$ne": None}}
    for status in OPEN:
        claimed = await update_request(
            db,
            request_id,
            {**change, "status": status.value},
            {
                "$set": {
                    "status": RequestStatus.APPROVING.value,
                    "claimed_at": moment,
                    "claimed_from": status.value,
                    "claimed_by": by,
                }
            },
            touch=False,
        )
        if claimed is not None:
            return claimed
    return await update_request(
        db,
        request_id,
        {
            **change,
            "status": RequestStatus.APPROVING.value,
            "claimed_at": {"$lt": moment - stale_after},
        },
        {"$set": {"claimed_at": moment, "claimed_by": by}},
        touch=False,
    )


async def finish_approval(
    db: Database, request_id: ObjectId, resolution: str | None, events: list[Document]
) -> SupportRequestRecord | None:
    """Mark approved, with its events, once the app records this request's change (the
    contact was added for it): from whatever status the request is in by then (a taken-over
    or released claim), except APPROVED (then None: finished already)."""
    return await update_request(
        db,
        request_id,
        {"status": {"$ne": RequestStatus.APPROVED.value}},
        {
            "$set": {
                "status": RequestStatus.APPROVED.value,
                "resolved_at": now(),
                "resolution": resolution,
            }
        },
        events=events,
    )


async def stale_approvals(db: Database, older_than: datetime) -> list[SupportRequestRecord]:
    """Claims left by approvers that stopped (a crash) before finishing."""
    query = {"status": RequestStatus.APPROVING.value, "claimed_at": {"$lt": older_than}}
    docs = await requests_of(db).find(query).to_list(None)
    return [SupportRequestRecord.model_validate(doc) for doc in docs]


async def release_approval(
    db: Database, claimed: SupportRequestRecord
) -> SupportRequestRecord | None:
    """Undo a claim whose approval was refused: the request is open again, as it was."""
    back_to = claimed.claimed_from or RequestStatus.NEW
    return await update_request(
        db,
        claimed.id,
        {"status": RequestStatus.APPROVING.value, "claimed_at": claimed.claimed_at},
        {
            "$set": {
                "status": back_to.value,
                "claimed_at": None,
                "claimed_from": None,
                "claimed_by": None,
            }
        },
        touch=False,
    )
