"""Support requests (S1, O3) and the approval half of A5.

Technical contacts and team members submit and comment; Mendix Support triages, comments,
resolves, rejects and approves. Approving a CHANGE request that names a person adds them as a
technical contact: the request is claimed first (open -> APPROVING, conditional on its status,
so of two racing approvals one proceeds), then the app's own conditional update runs (A2-A7
hold whatever changed meanwhile); a refusal releases the claim and is returned typed.
"""

from __future__ import annotations

from typing import Annotated, Any

from bson import ObjectId
from pydantic import Field

from resolvers import rights, submissions
from resolvers.approvals import STALE_CLAIM, complete_approval, request_event
from resolvers.auth import app_scope, require_support, visible_app
from resolvers.changes import ATTEMPTS, Diagnose, error, explain, on_app
from resolvers.errors import ErrorCode, UserErrors, fail
from resolvers.ids import AppId, PersonId, SupportRequestId
from resolvers.inputs import Input, Name, parse
from store import approvals as approval_store
from store import apps as app_store
from store import audit as audit_store
from store import gated
from store import support as support_store
from store.apps import AppRecord
from store.audit import AuditAction
from store.db import Database, Document
from store.gated import Gate
from store.later import finish_now
from store.pagination import Page, Window
from store.people import PersonRecord
from store.support import Level, RequestKind, RequestStatus, SupportRequestRecord

RequestId = SupportRequestId
Body = Annotated[str, Field(min_length=1, max_length=20_000)]
Resolution = Annotated[str, Field(max_length=5000)]


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


async def _scope(db: Database, viewer: PersonRecord) -> Document | None:
    scope = app_scope(viewer)
    if scope is None:
        return None
    return support_store.requests_query(app_ids=await support_store.app_ids_in(db, scope))


async def _drain(db: Database, request: SupportRequestRecord) -> None:
    """Move the change's events into the trail now; if this fails they stay pending until
    the periodic task moves them, and the committed change answers as usual."""
    await finish_now(
        lambda: audit_store.drain(db, support_store.COLLECTION, request.id),
        "Audit events of support request %s left pending",
        request.id,
    )


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
    """Made by one conditional write on the app that states the requester's right and the
    rule (store/gated.py): a right lost a moment before is a refusal, never a request."""
    args = parse(SubmitInput, data)
    if args.technical_contact_id is not None and args.kind is not RequestKind.CHANGE:
        fail(
            ErrorCode.INVALID_INPUT,
            "Only a CHANGE request names a technical contact to add",
            ["input", "technicalContactId"],
        )
    app = await visible_app(db, viewer, args.app_id)
    right, rule = rights.team_member(viewer), submissions.contact_rule(args.technical_contact_id)
    request = await on_app(
        db,
        app,
        lambda base: _create(db, viewer, base, right, rule, args),
        right=right,
        diagnose=rule,
    )
    await _drain(db, request)
    return request


async def _create(
    db: Database,
    viewer: PersonRecord,
    app: AppRecord,
    right: rights.Right,
    rule: Diagnose,
    args: SubmitInput,
) -> SupportRequestRecord | None:
    """One attempt on ``app`` as read; None when the app is no longer so (nothing made)."""
    broken = rule(app)
    if broken is not None:
        raise UserErrors([broken])
    return await support_store.create_request(
        db,
        gate=Gate(app.version, right.authority.condition),
        kind=args.kind,
        app_id=app.id,
        requester_id=viewer.id,
        subject=args.subject,
        body=args.body,
        impact=args.impact,
        urgency=args.urgency,
        technical_contact_id=args.technical_contact_id,
        events=lambda request: [submissions.submitted(viewer.id, app, request)],
    )


def _not_open(request: SupportRequestRecord | None) -> UserErrors:
    status = request.status.value if request else "gone"
    return UserErrors([error(ErrorCode.REQUEST_NOT_OPEN, f"The request is {status}", "requestId")])


async def comment(db: Database, viewer: PersonRecord, data: dict[str, Any]) -> SupportRequestRecord:
    """Made by one conditional write on the app that states the commenter's right (team
    member, or Support), then applied to the request while it is at the status its event
    names (store/gated.py): a right lost a moment before is a refusal, never a comment."""
    args = parse(CommentInput, data)
    request = await _visible(db, viewer, args.request_id)
    app = await app_store.get_app(db, request.app_id)
    if app is None:
        fail(ErrorCode.FORBIDDEN, "Only the app's team and Mendix Support comment")
    right = rights.support_only(viewer) if viewer.is_support else rights.team_member(viewer)
    right.check(app)
    comment_id = ObjectId()  # one for every attempt: the comment is added once at most
    for _ in range(ATTEMPTS):  # the event names the status and the app's version
        if request.status not in support_store.OPEN:
            raise _not_open(request)
        event = {
            **request_event(viewer.id, AuditAction.SUPPORT_REQUEST_COMMENTED, request),
            "version": app.version,
        }
        gate = Gate(app.version, right.authority.condition)
        made = await gated.comment(
            db, app.id, gate, request_id=request.id, status=request.status.value,
            comment_id=comment_id, author_id=viewer.id, body=args.body, events=[event],
        )  # fmt: skip
        if not made:
            app = await explain(db, app.id, app.version, right, None, lambda fresh: None)
            continue
        fresh = await support_store.get_request(db, request.id)
        if fresh is not None and any(item.id == comment_id for item in fresh.comments):
            await _drain(db, fresh)
            return fresh
        if fresh is None:
            raise _not_open(fresh)
        request = fresh  # it moved on: refused above if no longer open, else tried again
    fail(ErrorCode.CONCURRENT_CHANGE, "The request kept changing; read it again and retry")


async def triage(db: Database, viewer: PersonRecord, data: dict[str, Any]) -> SupportRequestRecord:
    args = parse(TriageInput, data)
    request = await _visible(db, viewer, args.request_id)
    require_support(viewer)
    level = support_store.priority(args.impact, args.urgency)
    event = request_event(
        viewer.id,
        AuditAction.SUPPORT_REQUEST_TRIAGED,
        request,
        status=RequestStatus.TRIAGED.value,
        impact=args.impact.value,
        urgency=args.urgency.value,
        priority=level.value,
    )
    updated = await support_store.triage(db, request.id, args.impact, args.urgency, [event])
    if updated is None:
        raise _not_open(await support_store.get_request(db, request.id))
    await _drain(db, updated)
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
    event = request_event(
        viewer.id, action, request, status=status.value, resolution=args.resolution
    )
    updated = await support_store.close(db, request.id, status, args.resolution, [event])
    if updated is None:
        raise _not_open(await support_store.get_request(db, request.id))
    await _drain(db, updated)
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
    claimed = await approval_store.claim_for_approval(
        db, request.id, stale_after=STALE_CLAIM, by=viewer.id
    )
    if claimed is None:
        raise _not_open(await support_store.get_request(db, request.id))
    return await complete_approval(db, viewer, claimed, args.resolution)


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
    return await support_store.list_requests(db, support_store.all_of(scope, query), window)


async def visible_requests(
    db: Database, viewer: PersonRecord, ids: list[ObjectId]
) -> list[SupportRequestRecord | None]:
    return await support_store.get_requests(db, ids, await _scope(db, viewer))
