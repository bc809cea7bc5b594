"""Reading the audit trail, scoped like the app it belongs to."""

from __future__ import annotations

from bson import ObjectId

from store import alerts as alert_store
from store import apps as app_store
from store import audit as audit_store
from store import pending_mail
from store import people as people_store
from store import rollups as rollup_store
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
    """Finish the records a crash left pending (the periodic task): move audit events into
    the trail, queue emails, record raised alerts, apply rollup deltas. Returns how many."""
    done = await pending_mail.drain_all(db) + await alert_store.drain_all(db)
    return done + await audit_store.drain_all(db) + await rollup_store.drain_all(db)


async def visible_events(
    db: Database, viewer: PersonRecord, ids: list[ObjectId]
) -> list[AuditEventRecord | None]:
    """Events by ID. An app's event is visible exactly when its app is (whoever it names);
    an event about a person alone (creation, MendixID, status) to that person and Support."""
    events = await audit_store.get_events(db, ids)
    if viewer.is_support:
        return events
    app_ids = list({event.app_id for event in events if event and event.app_id})
    apps = await app_store.get_apps(db, app_ids, app_store.visible_to(viewer.id))
    seen_apps = {app.id for app in apps if app}
    return [event if event and _visible(event, viewer, seen_apps) else None for event in events]


def _visible(event: AuditEventRecord, viewer: PersonRecord, seen_apps: set[ObjectId]) -> bool:
    if event.app_id is not None:
        return event.app_id in seen_apps
    return event.person_id is not None and event.person_id == viewer.id
