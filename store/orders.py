"""Indexes serving the lists' orders (``orderBy``) and the apps filter's new conditions.

Every order is keyset-paged over (key, _id) (store/pagination.py), one range scan of an index
on (key, _id) per segment. The lists scoped by an indexed filter (a person's apps, one app's
requests) are read through that filter's index and sorted in memory: they are small.
"""

from __future__ import annotations

from pymongo import ASCENDING

from store import apps, audit, notifications, people, support
from store.db import Database

# collection -> keys each ordered on (then _id)
ORDERED: dict[str, tuple[str, ...]] = {
    apps.COLLECTION: ("name", "ordered_at", "delivered_at", apps.NEXT_EXPIRY),
    people.COLLECTION: ("name", "email"),
    support.COLLECTION: ("created_at", "updated_at", "priority"),
    notifications.COLLECTION: ("created_at",),
    audit.COLLECTION: ("at",),
}


async def ensure_indexes(db: Database) -> None:
    for collection, keys in ORDERED.items():
        for key in keys:
            await db[collection].create_index(
                [(key, ASCENDING), ("_id", ASCENDING)], name=f"order_{key}"
            )
    # AppsFilter.licensePlan (region and licenses.expires_at have theirs: store/licenses.py)
    await db[apps.COLLECTION].create_index([("licenses.plan", ASCENDING)], name="license_plan")
    # licenses expiring in any hosting (the at-risk report; store/licenses.py's index leads
    # with hosting), and the dashboard's at-risk lists of one hosting in urgency order
    await db[apps.COLLECTION].create_index(
        [("licenses.expires_at", ASCENDING)], name="license_expires_at"
    )
    await db[apps.COLLECTION].create_index(
        [("hosting", ASCENDING), (apps.NEXT_EXPIRY, ASCENDING), ("_id", ASCENDING)],
        name="hosting_next_license_expiry",
    )
    # the at-risk lists of a person-derived risk (store/rollup_people.py) in urgency order
    await db[apps.COLLECTION].create_index(
        [("contact_risks.risks", ASCENDING), (apps.NEXT_EXPIRY, ASCENDING), ("_id", ASCENDING)],
        name="contact_risks_next_license_expiry",
    )
