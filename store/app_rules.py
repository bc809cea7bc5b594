"""The ownership rules as conditional writes: each states its precondition in the update's
filter (store/app_changes.py ``apply_change``), so racing requests can never break a rule."""

from __future__ import annotations

from bson import ObjectId

from store.app_changes import apply_change
from store.app_records import APPLIED, COLLECTION, AppStatus, Change, Hosting, Write
from store.db import Database, Document
from store.records import now


def _needs_mendix_id(has_mendix_id: bool) -> Document:
    # A contact without a MendixID is only acceptable while the app is not delivered (A3).
    return {} if has_mendix_id else {"status": AppStatus.ORDERED.value}


def _without(ids: tuple[ObjectId, ...], person_id: ObjectId) -> tuple[ObjectId, ...]:
    return tuple(key for key in ids if key != person_id)


def _with(ids: tuple[ObjectId, ...], person_id: ObjectId) -> tuple[ObjectId, ...]:
    return ids if person_id in ids else (*ids, person_id)


async def add_member(
    db: Database,
    app_id: ObjectId,
    person_id: ObjectId,
    expected_version: int | None = None,
    write: Write | None = None,
) -> Change | None:
    return await apply_change(
        db,
        app_id,
        {"member_ids": {"$ne": person_id}},
        {"$push": {"member_ids": person_id}},
        lambda old: {"member_ids": _with(old.member_ids, person_id)},
        expected_version,
        write,
    )


async def remove_member(
    db: Database,
    app_id: ObjectId,
    person_id: ObjectId,
    expected_version: int | None = None,
    write: Write | None = None,
) -> Change | None:
    """Remove a team member who is not a technical contact, and their grants with them."""
    return await apply_change(
        db,
        app_id,
        {"member_ids": person_id, "technical_contact_ids": {"$ne": person_id}},
        {"$pull": {"member_ids": person_id, "grants": {"person_id": person_id}}},
        lambda old: {
            "member_ids": _without(old.member_ids, person_id),
            "grants": tuple(grant for grant in old.grants if grant.person_id != person_id),
        },
        expected_version,
        write,
    )


async def change_technical_contact(
    db: Database,
    app_id: ObjectId,
    person_id: ObjectId,
    *,
    has_mendix_id: bool,
    expected_version: int | None = None,
    write: Write | None = None,
) -> Change | None:
    """Mendix Cloud: replace the one technical contact by a team member (A4), atomically."""
    return await apply_change(
        db,
        app_id,
        {
            "hosting": Hosting.MENDIX_CLOUD.value,
            "member_ids": person_id,
            "technical_contact_ids": {"$ne": person_id},
            **_needs_mendix_id(has_mendix_id),
        },
        {"$set": {"technical_contact_ids": [person_id]}},
        lambda old: {"technical_contact_ids": (person_id,)},
        expected_version,
        write,
    )


async def add_technical_contact(
    db: Database,
    app_id: ObjectId,
    person_id: ObjectId,
    *,
    has_mendix_id: bool,
    expected_version: int | None = None,
    write: Write | None = None,
    request_id: ObjectId | None = None,
) -> Change | None:
    """On-Premises: one more technical contact (A5); they join the team. With ``request_id``
    (an approved support request) the app records that request's change, once."""
    precondition: Document = {
        "hosting": Hosting.ON_PREMISES.value,
        "technical_contact_ids": {"$ne": person_id},
        **_needs_mendix_id(has_mendix_id),
    }
    joined: Document = {"member_ids": person_id}
    if request_id is not None:
        precondition[APPLIED] = {"$ne": request_id}
        joined[APPLIED] = request_id
    return await apply_change(
        db,
        app_id,
        precondition,
        {"$push": {"technical_contact_ids": person_id}, "$addToSet": joined},
        lambda old: {
            "technical_contact_ids": (*old.technical_contact_ids, person_id),
            "member_ids": _with(old.member_ids, person_id),
        },
        expected_version,
        write,
    )


async def request_applied(db: Database, app_id: ObjectId, request_id: ObjectId) -> bool:
    """Whether the app records the change of support request ``request_id``."""
    found = await db[COLLECTION].find_one({"_id": app_id, APPLIED: request_id}, {"_id": 1})
    return found is not None


async def remove_technical_contact(
    db: Database,
    app_id: ObjectId,
    person_id: ObjectId,
    expected_version: int | None = None,
    write: Write | None = None,
) -> Change | None:
    """On-Premises: remove a technical contact only while another remains (A2, A5)."""
    return await apply_change(
        db,
        app_id,
        {
            "hosting": Hosting.ON_PREMISES.value,
            "technical_contact_ids": person_id,
            "technical_contact_ids.1": {"$exists": True},
        },
        {"$pull": {"technical_contact_ids": person_id}},
        lambda old: {"technical_contact_ids": _without(old.technical_contact_ids, person_id)},
        expected_version,
        write,
    )


async def deliver(
    db: Database,
    app_id: ObjectId,
    checked_contact_ids: tuple[ObjectId, ...],
    expected_version: int | None = None,
    write: Write | None = None,
) -> Change | None:
    """Deliver, provided the contacts are still exactly the ones checked for a MendixID (A3).

    MendixIDs are never removed once set, so contacts that had one still have one.
    """
    delivered_at = now()
    return await apply_change(
        db,
        app_id,
        {"status": AppStatus.ORDERED.value, "technical_contact_ids": list(checked_contact_ids)},
        {"$set": {"status": AppStatus.DELIVERED.value, "delivered_at": delivered_at}},
        lambda old: {"status": AppStatus.DELIVERED, "delivered_at": delivered_at},
        expected_version,
        write,
    )


async def move_to_mendix_cloud(
    db: Database,
    app_id: ObjectId,
    expected_version: int | None = None,
    write: Write | None = None,
) -> Change | None:
    """On-Premises -> Mendix Cloud, only with exactly one technical contact (A6)."""
    return await apply_change(
        db,
        app_id,
        {"hosting": Hosting.ON_PREMISES.value, "technical_contact_ids": {"$size": 1}},
        {"$set": {"hosting": Hosting.MENDIX_CLOUD.value}},
        lambda old: {"hosting": Hosting.MENDIX_CLOUD},
        expected_version,
        write,
    )


async def set_account_executive(
    db: Database,
    app_id: ObjectId,
    person_id: ObjectId,
    expected_version: int | None = None,
    write: Write | None = None,
) -> Change | None:
    return await apply_change(
        db,
        app_id,
        {"account_executive_id": {"$ne": person_id}},
        {"$set": {"account_executive_id": person_id}},
        lambda old: {"account_executive_id": person_id},
        expected_version,
        write,
    )
