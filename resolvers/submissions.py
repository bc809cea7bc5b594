"""A support request's rule and audit event as submitted (S1, A5); the use case is
resolvers/support.py ``submit``.

The request is made by one conditional write on the app (store/gated.py) whose filter states
the requester's right (team member), the app version the rule was checked on and the rule;
:func:`contact_rule` explains a refusal from a fresh read.
"""

from __future__ import annotations

from bson import ObjectId

from resolvers.approvals import request_event
from resolvers.changes import Diagnose, error
from resolvers.errors import ErrorCode, UserError
from store.apps import AppRecord, Hosting
from store.audit import AuditAction
from store.db import Document
from store.support import SupportRequestRecord


def contact_rule(person_id: ObjectId | None) -> Diagnose:
    """A CHANGE naming a person asks to add an On-Premises technical contact (A5)."""

    def check(app: AppRecord) -> UserError | None:
        if person_id is None:
            return None
        if app.hosting is not Hosting.ON_PREMISES:
            return error(
                ErrorCode.WRONG_HOSTING_TYPE,
                "A Mendix Cloud app has exactly one technical contact; change it instead",
                "appId",
            )
        # no existence check: a person the requester may not see (or no person at all)
        # makes the request alike, so it never tells whether an ID is a person; Support
        # sees the person, and approval refuses one that does not exist (NOT_FOUND)
        if person_id in app.technical_contact_ids:
            return error(
                ErrorCode.ALREADY_TECHNICAL_CONTACT,
                "Already a technical contact",
                "technicalContactId",
            )
        return None

    return check


def submitted(viewer_id: ObjectId, app: AppRecord, request: SupportRequestRecord) -> Document:
    """``SUPPORT_REQUEST_SUBMITTED``, on the app version the request was made on (so the
    trail orders it among the app's changes)."""
    event = request_event(
        viewer_id,
        AuditAction.SUPPORT_REQUEST_SUBMITTED,
        request,
        kind=request.kind.value,
        priority=request.priority.value,
        technical_contact_id=request.technical_contact_id,
    )
    return {**event, "version": app.version}
