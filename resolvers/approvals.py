"""Approving a support request that adds a technical contact: a state machine that survives
crashes at any step.

1. claim: the open request becomes APPROVING (resolvers/support.py ``approve``); a claim
   left by an approver that stopped can be taken over after ``STALE_CLAIM``;
2. the app's conditional update adds the contact, records the request's ID in the app
   (``applied_request_ids``, so it is applied once) and pushes its audit event, in one write.
   This is the point of no return: from here the request ends APPROVED;
3. the requester's email is queued (deduplicated by the request);
4. the request is marked APPROVED with its audit event, in one write.

Every step can run again: a second approver (or the periodic task, :func:`finish_stale`)
that finds step 2 done goes on with 3 and 4; one that finds it not done and the rules
refusing releases the claim. So a crash leaves the request either not applied (open again,
or claimed until the claim goes stale) or completed, never reopened with its contact added.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from bson import ObjectId

from resolvers import rights
from resolvers.changes import commit, error, first, hosting_is, mendix_id_ok
from resolvers.errors import ErrorCode, UserErrors, fail
from resolvers.ids import encode
from resolvers.notifications import send_to
from store import approvals as approval_store
from store import apps as app_store
from store import audit as audit_store
from store import people as people_store
from store import support as support_store
from store.apps import Hosting
from store.audit import AuditAction
from store.db import Database, Document
from store.later import finish_now
from store.notifications import NotificationKind
from store.people import PersonRecord
from store.records import now
from store.support import SupportRequestRecord

log = logging.getLogger(__name__)

STALE_CLAIM = timedelta(minutes=2)


def request_event(
    actor_id: ObjectId | None,
    action: AuditAction,
    request: SupportRequestRecord,
    **after: Any,
) -> Document:
    """A support request's audit event (on its app's trail), written with its change."""
    return audit_store.event(
        action,
        actor_id=actor_id,
        app_id=request.app_id,
        after={
            "support_request_id": encode("SupportRequest", request.id),
            "status": request.status.value,
            **after,
        },
    )


async def _add_contact(db: Database, viewer: PersonRecord, claimed: SupportRequestRecord) -> None:
    """Step 2, unless done already; refusals release the claim and are returned typed."""
    person_id = claimed.technical_contact_id
    assert person_id is not None  # claim_for_approval only claims requests naming a person
    try:
        person = await people_store.get_person(db, person_id)
        app = await app_store.get_app(db, claimed.app_id)
        if person is None or app is None:
            fail(ErrorCode.NOT_FOUND, "The app or the person no longer exists")
        await commit(
            db,
            viewer,
            AuditAction.TECHNICAL_CONTACT_ADDED,
            lambda write: app_store.add_technical_contact(
                db,
                app.id,
                person_id,
                has_mendix_id=person.mendix_id is not None,
                write=write,
                request_id=claimed.id,
            ),
            app,
            None,
            first(
                hosting_is(Hosting.ON_PREMISES),
                lambda fresh: (
                    error(ErrorCode.ALREADY_TECHNICAL_CONTACT, "Already a technical contact")
                    if person_id in fresh.technical_contact_ids
                    else None
                ),
                mendix_id_ok(person),
            ),
            rights.support_only(viewer),
        )
    except UserErrors as refusal:
        if await app_store.request_applied(db, claimed.app_id, claimed.id):
            return  # another approver of this request got there first: go on
        await approval_store.release_approval(db, claimed)
        raise UserErrors(
            [e.__class__(e.message, e.code, ["input", "requestId"]) for e in refusal.errors]
        ) from None


async def complete_approval(
    db: Database, viewer: PersonRecord, claimed: SupportRequestRecord, resolution: str | None
) -> SupportRequestRecord:
    """Steps 2-4 for a claimed request (each skipped or repeated safely)."""
    if not await app_store.request_applied(db, claimed.app_id, claimed.id):
        await _add_contact(db, viewer, claimed)
    return await _finish(db, viewer.id, claimed, resolution)


async def _finish(
    db: Database, actor_id: ObjectId | None, claimed: SupportRequestRecord, resolution: str | None
) -> SupportRequestRecord:
    """Steps 3 and 4, after the app recorded the request's change."""
    person_id = claimed.technical_contact_id
    person = await people_store.get_person(db, person_id) if person_id else None
    app = await app_store.get_app(db, claimed.app_id)
    requester = await people_store.get_person(db, claimed.requester_id)
    if requester is not None and person is not None and app is not None:
        await send_to(
            db,
            requester,
            kind=NotificationKind.SUPPORT_REQUEST_APPROVED,
            dedupe_key=f"request-approved:{claimed.id}",
            app_id=claimed.app_id,
            subject=f"Approved: {claimed.subject}",
            body=(
                f"Dear {requester.name},\n\nMendix Support approved your request "
                f'"{claimed.subject}": {person.name} <{person.email}> is now a technical '
                f"contact of {app.name} ({app.subdomain})."
                + (f"\n\n{resolution}" if resolution else "")
                + "\n\nMendix Support"
            ),
        )
    approved = claimed.model_copy(update={"status": support_store.RequestStatus.APPROVED})
    event = request_event(
        actor_id, AuditAction.SUPPORT_REQUEST_APPROVED, approved, technical_contact_id=person_id
    )
    done = await approval_store.finish_approval(db, claimed.id, resolution, [event])
    if done is None:  # finished already, by another approver or the periodic task
        done = await support_store.get_request(db, claimed.id)
        if done is None:
            fail(ErrorCode.NOT_FOUND, "No support request with this ID", ["input", "requestId"])
    await finish_now(
        lambda: audit_store.drain(db, support_store.COLLECTION, claimed.id),
        "Audit events of support request %s left pending",
        claimed.id,
    )
    return done


async def finish_stale(db: Database) -> int:
    """The periodic task's part: complete stale approvals whose app change is in (as their
    approver), release the others (open again, not applied). Returns how many it settled."""
    settled = 0
    for claimed in await approval_store.stale_approvals(db, now() - STALE_CLAIM):
        if await app_store.request_applied(db, claimed.app_id, claimed.id):
            await _finish(db, claimed.claimed_by, claimed, None)
        else:
            await approval_store.release_approval(db, claimed)
        settled += 1
    return settled
