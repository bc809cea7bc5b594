"""Reading the audit trail, scoped like the app it belongs to."""

from __future__ import annotations

from bson import ObjectId

from resolvers.people import visible_people
from store import apps as app_store
from store import audit as audit_store
from store import people as people_store
from store.audit import AuditEventRecord
from store.db import Database
from store.pagination import Page, Window
from store.people import PersonRecord


async def app_events(db: Database, app_id: ObjectId, window: Window) -> Page[AuditEventRecord]:
    """Events of an app the caller has already been allowed to see, oldest first, including
    those written with a change and not yet moved into the trail (read-your-writes)."""
    query = audit_store.events_query(app_id=app_id)
    return await audit_store.list_owner_events(db, app_store.COLLECTION, app_id, query, window)


async def person_events(
    db: Database, person_id: ObjectId, window: Window
) -> Page[AuditEventRecord]:
    """Events about a person (creation, MendixID, status) the caller may see."""
    query = audit_store.events_query(person_id=person_id)
    return await audit_store.list_owner_events(
        db, people_store.COLLECTION, person_id, query, window
    )


async def finish_pending(db: Database) -> int:
    """Move every event a crash left pending into the trail (the periodic task)."""
    return await audit_store.drain_all(db)


async def visible_events(
    db: Database, viewer: PersonRecord, ids: list[ObjectId]
) -> list[AuditEventRecord | None]:
    """Events by ID, each visible only to those who may see its app or its person."""
    events = await audit_store.get_events(db, ids)
    if viewer.is_support:
        return events
    app_ids = [event.app_id for event in events if event and event.app_id]
    apps = await app_store.get_apps(db, app_ids, app_store.visible_to(viewer.id))
    seen_apps = {app.id for app in apps if app}
    person_ids = [event.person_id for event in events if event and event.person_id]
    people = await visible_people(db, viewer, person_ids)
    seen_people = {person.id for person in people if person}
    return [
        event if event and (event.app_id in seen_apps or event.person_id in seen_people) else None
        for event in events
    ]
