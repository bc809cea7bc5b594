"""Support requests (S1, O3) and the approval half of A5.

Technical contacts and team members submit and comment; Mendix Support triages, comments,
resolves, rejects and approves. Approving a CHANGE request that names a person adds them as a
technical contact: the request is claimed first (open -> APPROVING, conditional on its status,
so of two racing approvals one proceeds), then the app's own conditional update runs (A2-A7
hold whatever changed meanwhile); a refusal releases the claim and is returned typed.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from bson import ObjectId
from pydantic import Field

from resolvers.auth import app_scope, existing_person, require_support, visible_app
from resolvers.changes import commit, error, first, hosting_is, mendix_id_ok
from resolvers.errors import ErrorCode, UserErrors, fail
from resolvers.ids import AppId, PersonId, SupportRequestId, encode
from resolvers.inputs import Input, Name, parse
from resolvers.notifications import send_to
from store import apps as app_store
from store import audit as audit_store
from store import people as people_store
from store import support as support_store
from store.apps import AppRecord, Hosting
from store.audit import AuditAction
from store.db import Database, Document
from store.notifications import NotificationKind
from store.pagination import Page, Window
from store.people import PersonRecord
from store.support import Level, RequestKind, RequestStatus, SupportRequestRecord

RequestId = SupportRequestId
Body = Annotated[str, Field(min_length=1, max_length=20_000)]
Resolution = Annotated[str, Field(max_length=5000)]
STALE_CLAIM = timedelta(minutes=2)


class SubmitInput(Input):
    multi_line = frozenset({"body"})
    kind: RequestKind
    app_id: AppId
    subject: Name
    body: Body
    impact: Level
    urgency: Level
    technical_contact_id: PersonId | None = None


class CommentInput(Input):
    multi_line = frozenset({"body"})
    request_id: RequestId
    body: Body


class TriageInput(Input):
    request_id: RequestId
    impact: Level
    urgency: Level


class CloseInput(Input):
    multi_line = frozenset({"resolution"})
    request_id: RequestId
    resolution: Resolution | None = None


class RequestsFilter(Input):
    status: RequestStatus | None = None
    kind: RequestKind | None = None


def _on_team(viewer: PersonRecord, app: AppRecord) -> bool:
    return viewer.id in app.member_ids or viewer.id in app.technical_contact_ids


async def _audit(
    db: Database,
    viewer: PersonRecord,
    action: AuditAction,
    request: SupportRequestRecord,
    **after: Any,
) -> None:
    await audit_store.record(
        db,
        action,
        actor_id=viewer.id,
        app_id=request.app_id,
        after={
            "support_request_id": encode("SupportRequest", request.id),
            "status": request.status.value,
            **after,
        },
    )


async def _scope(db: Database, viewer: PersonRecord) -> Document | None:
    scope = app_scope(viewer)
    if scope is None:
        return None
    return {"app_id": {"$in": await support_store.app_ids_in(db, scope)}}


async def _visible(
    db: Database, viewer: PersonRecord, request_id: ObjectId
) -> SupportRequestRecord:
    request = await support_store.get_request(db, request_id)
    if request is not None and not viewer.is_support:
        apps = await app_store.get_apps(db, [request.app_id], app_scope(viewer))
        request = request if apps[0] is not None else None
    if request is None:
        fail(ErrorCode.NOT_FOUND, "No support request with this ID", ["input", "requestId"])
    return request


async def submit(db: Database, viewer: PersonRecord, data: dict[str, Any]) -> SupportRequestRecord:
    args = parse(SubmitInput, data)
    app = await visible_app(db, viewer, args.app_id)
    if not _on_team(viewer, app):
        fail(ErrorCode.FORBIDDEN, "Only the app's technical contacts and team members submit")
    if args.technical_contact_id is not None:
        if args.kind is not RequestKind.CHANGE:
            fail(
                ErrorCode.INVALID_INPUT,
                "Only a CHANGE request names a technical contact to add",
                ["input", "technicalContactId"],
            )
        if app.hosting is not Hosting.ON_PREMISES:
            fail(
                ErrorCode.WRONG_HOSTING_TYPE,
                "A Mendix Cloud app has exactly one technical contact; change it instead",
                ["input", "appId"],
            )
        person = await existing_person(db, args.technical_contact_id, "technicalContactId")
        if person.id in app.technical_contact_ids:
            fail(
                ErrorCode.ALREADY_TECHNICAL_CONTACT,
                "Already a technical contact",
                ["input", "technicalContactId"],
            )
    request = await support_store.create_request(
        db,
        kind=args.kind,
        app_id=app.id,
        requester_id=viewer.id,
        subject=args.subject,
        body=args.body,
        impact=args.impact,
        urgency=args.urgency,
        technical_contact_id=args.technical_contact_id,
    )
    await _audit(
        db,
        viewer,
        AuditAction.SUPPORT_REQUEST_SUBMITTED,
        request,
        kind=request.kind.value,
        priority=request.priority.value,
        technical_contact_id=request.technical_contact_id,
    )
    return request


def _not_open(request: SupportRequestRecord | None) -> UserErrors:
    status = request.status.value if request else "gone"
    return UserErrors([error(ErrorCode.REQUEST_NOT_OPEN, f"The request is {status}", "requestId")])


async def comment(db: Database, viewer: PersonRecord, data: dict[str, Any]) -> SupportRequestRecord:
    args = parse(CommentInput, data)
    request = await _visible(db, viewer, args.request_id)
    if not viewer.is_support:
        app = await app_store.get_app(db, request.app_id)
        if app is None or not _on_team(viewer, app):
            fail(ErrorCode.FORBIDDEN, "Only the app's team and Mendix Support comment")
    updated = await support_store.add_comment(db, request.id, viewer.id, args.body)
    if updated is None:
        raise _not_open(await support_store.get_request(db, request.id))
    await _audit(db, viewer, AuditAction.SUPPORT_REQUEST_COMMENTED, updated)
    return updated


async def triage(db: Database, viewer: PersonRecord, data: dict[str, Any]) -> SupportRequestRecord:
    args = parse(TriageInput, data)
    request = await _visible(db, viewer, args.request_id)
    require_support(viewer)
    updated = await support_store.triage(db, request.id, args.impact, args.urgency)
    if updated is None:
        raise _not_open(await support_store.get_request(db, request.id))
    await _audit(
        db,
        viewer,
        AuditAction.SUPPORT_REQUEST_TRIAGED,
        updated,
        impact=updated.impact.value,
        urgency=updated.urgency.value,
        priority=updated.priority.value,
    )
    return updated


async def _close(
    db: Database,
    viewer: PersonRecord,
    data: dict[str, Any],
    status: RequestStatus,
    action: AuditAction,
) -> SupportRequestRecord:
    args = parse(CloseInput, data)
    request = await _visible(db, viewer, args.request_id)
    require_support(viewer)
    updated = await support_store.close(db, request.id, status, args.resolution)
    if updated is None:
        raise _not_open(await support_store.get_request(db, request.id))
    await _audit(db, viewer, action, updated, resolution=args.resolution)
    return updated


async def resolve(db: Database, viewer: PersonRecord, data: dict[str, Any]) -> SupportRequestRecord:
    return await _close(
        db, viewer, data, RequestStatus.RESOLVED, AuditAction.SUPPORT_REQUEST_RESOLVED
    )


async def reject(db: Database, viewer: PersonRecord, data: dict[str, Any]) -> SupportRequestRecord:
    return await _close(
        db, viewer, data, RequestStatus.REJECTED, AuditAction.SUPPORT_REQUEST_REJECTED
    )


async def approve(db: Database, viewer: PersonRecord, data: dict[str, Any]) -> SupportRequestRecord:
    """Approve a CHANGE request naming a person: they become a technical contact (A5)."""
    args = parse(CloseInput, data)
    request = await _visible(db, viewer, args.request_id)
    require_support(viewer)
    if request.kind is not RequestKind.CHANGE or request.technical_contact_id is None:
        fail(
            ErrorCode.NOT_A_CONTACT_REQUEST,
            "Only a CHANGE request naming a technical contact is approved; resolve others",
            ["input", "requestId"],
        )
    claimed = await support_store.claim_for_approval(db, request.id, stale_after=STALE_CLAIM)
    if claimed is None:
        raise _not_open(await support_store.get_request(db, request.id))
    person_id = request.technical_contact_id
    try:
        person = await people_store.get_person(db, person_id)
        app = await app_store.get_app(db, request.app_id)
        if person is None or app is None:
            fail(
                ErrorCode.NOT_FOUND,
                "The app or the person no longer exists",
                ["input", "requestId"],
            )
        await commit(
            db,
            viewer,
            AuditAction.TECHNICAL_CONTACT_ADDED,
            app_store.add_technical_contact(
                db, app.id, person_id, has_mendix_id=person.mendix_id is not None
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
        )
    except UserErrors as refusal:
        await support_store.release_approval(db, claimed)
        raise UserErrors(
            [e.__class__(e.message, e.code, ["input", "requestId"]) for e in refusal.errors]
        ) from None
    done = await support_store.finish_approval(db, claimed, args.resolution)
    assert done is not None, "the claim is held by this approval"
    await _audit(
        db, viewer, AuditAction.SUPPORT_REQUEST_APPROVED, done, technical_contact_id=person_id
    )
    requester = await people_store.get_person(db, done.requester_id)
    if requester is not None:
        await send_to(
            db,
            requester,
            kind=NotificationKind.SUPPORT_REQUEST_APPROVED,
            dedupe_key=f"request-approved:{done.id}",
            app_id=done.app_id,
            subject=f"Approved: {done.subject}",
            body=(
                f"Dear {requester.name},\n\nMendix Support approved your request "
                f'"{done.subject}": {person.name} <{person.email}> is now a technical contact '
                f"of {app.name} ({app.subdomain})."
                + (f"\n\n{args.resolution}" if args.resolution else "")
                + "\n\nMendix Support"
            ),
        )
    return done


async def list_requests(
    db: Database,
    viewer: PersonRecord,
    filters: dict[str, Any],
    window: Window,
    app_id: ObjectId | None = None,
) -> Page[SupportRequestRecord]:
    args = parse(RequestsFilter, filters, root="filter")
    query = support_store.requests_query(
        app_ids=[app_id] if app_id is not None else None, status=args.status, kind=args.kind
    )
    scope = None if app_id is not None else await _scope(db, viewer)
    clauses = [part for part in (scope, query) if part]
    combined = {"$and": clauses} if clauses else {}
    return await support_store.list_requests(db, combined, window)


async def visible_requests(
    db: Database, viewer: PersonRecord, ids: list[ObjectId]
) -> list[SupportRequestRecord | None]:
    return await support_store.get_requests(db, ids, await _scope(db, viewer))
