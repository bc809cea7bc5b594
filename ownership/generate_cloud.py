"""Embedded parts of generated apps: licenses, Mendix Cloud environments and grants.

Drawn from their own random stream (so adding them left the apps and people of a given seed
unchanged) and shaped exactly like the use cases write them (store/licenses.py,
store/environments.py). Every dashboard panel gets something to show: licenses expiring over
the next two years (some already expired), a few Mendix Cloud apps whose alert email is off
everywhere or that have no environment yet, and a few Manage-permissions grants on production
to team members who are not the technical contact.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from bson import ObjectId

from store.apps import NEXT_EXPIRY, AppStatus, Hosting, next_expiry
from store.cloud import AlertCategory, EnvironmentRight, MetricStatus, default_alert_settings
from store.db import Document

_ENVIRONMENTS = (("Production", True), ("Acceptance", False), ("Test", False))
_RIGHTS = tuple(
    right for right in EnvironmentRight if right is not EnvironmentRight.MANAGE_PERMISSIONS
)


def _license(rng: random.Random, index: int, tag: str, created: datetime) -> Document:
    expires = created + timedelta(days=rng.randint(-60, 730), minutes=rng.randrange(24 * 60))
    return {
        "license_id": f"LIC-{tag}-{index}",
        "plan": rng.choice(("Standard", "Premium")),
        "named_users": rng.choice((10, 25, 50, 100, 250)),
        "concurrent_users": rng.choice((5, 10, 25, 50)),
        "starts_at": expires - timedelta(days=365),
        "expires_at": expires,
    }


def _environments(rng: random.Random, created: datetime) -> list[Document]:
    silent = rng.random() < 0.05  # alert email switched off everywhere
    environments = []
    for name, production in _ENVIRONMENTS[: rng.choice((1, 2, 3))]:
        settings = default_alert_settings()
        settings["email_enabled"] = not silent
        environments.append(
            {
                "environment_id": ObjectId(),
                "name": name,
                "production": production,
                "state": "RUNNING",
                "alert_settings": settings,
                "alert_status": {
                    category.value: MetricStatus.NORMAL.value for category in AlertCategory
                },
                "created_at": created,
            }
        )
    return environments


def _grants(rng: random.Random, app: Document, created: datetime) -> list[Document]:
    others = [key for key in app["member_ids"] if key not in app["technical_contact_ids"]]
    if not others or rng.random() < 0.6:
        return []
    contact = app["technical_contact_ids"][0]
    grants = []
    for environment in app["environments"]:
        person = rng.choice(others)
        rights = rng.sample(_RIGHTS, rng.randint(1, 3))
        if environment["production"] and rng.random() < 0.08:
            rights.append(EnvironmentRight.MANAGE_PERMISSIONS)
        grants += [
            {
                "environment_id": environment["environment_id"],
                "person_id": person,
                "right": right.value,
                "granted_by": contact,
                "granted_at": created,
            }
            for right in rights
        ]
    return grants


def add_embedded(apps: list[Document], seed: int, tag: str, created: datetime) -> None:
    """Give each app (in place) its licenses and, on Mendix Cloud, environments and grants."""
    rng = random.Random(f"embedded-{seed}")
    for index, app in enumerate(apps):
        if rng.random() < 0.85:
            app["licenses"] = [_license(rng, index, tag, created)]
        # kept in the document like store/licenses.py keeps it (a missing key makes the first
        # read ordered by expiry settle every app, one write each)
        app[NEXT_EXPIRY] = next_expiry(
            (item["expires_at"] for item in app.get("licenses", ())), created
        )
        if app["hosting"] != Hosting.MENDIX_CLOUD.value:
            continue
        provisioned = app["status"] == AppStatus.DELIVERED.value or rng.random() < 0.5
        app["environments"] = _environments(rng, created) if provisioned else []
        app["grants"] = _grants(rng, app, created)
