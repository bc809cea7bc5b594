"""Realistic demo data at any size, fast: documents built in Python, bulk-inserted in batches.

The data keeps the domain rules: every app has a technical contact on its team, Mendix Cloud
apps exactly one, On-Premises one to three; an app whose contact lacks a MendixID is still
ORDERED (A3). Load is skewed (a few people own many apps), some people are INACTIVE, some
have no MendixID yet; licenses, environments and grants come from ownership/generate_cloud.py,
the audit trail, support requests and alerts from ownership/generate_activity.py; so every
dashboard panel, and the app view, has something to show.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bson import ObjectId

from ownership.demo import APP_NAMES, FIRST_NAMES, LAST_NAMES, SUPPORT_EMAIL
from ownership.generate_activity import add_activity
from ownership.generate_cloud import add_embedded
from store import alerts as alert_store
from store import apps as app_store
from store import audit as audit_store
from store import bulk, rollup_reads
from store import people as people_store
from store import support as support_store
from store.apps import AppStatus, Hosting
from store.db import Database, Document
from store.people import PersonStatus, Role
from store.records import now

_START = datetime(2023, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Generated:
    people: int
    apps: int


class Collision(Exception):
    """Generated unique keys clash with stored data (use another --seed)."""


def _person(rng: random.Random, index: int, tag: str, created: datetime) -> Document:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    handle = f"{first}.{last}".lower().replace(" ", "")
    doc: Document = {
        "_id": ObjectId(),
        "email": f"{handle}.{tag}{index}@customer.example",
        "name": f"{first} {last}",
        "status": (PersonStatus.INACTIVE if rng.random() < 0.04 else PersonStatus.ACTIVE).value,
        "roles": [],
        "created_at": created,
    }
    if rng.random() >= 0.12:
        doc["mendix_id"] = f"{handle}.{tag}{index}"
    return doc


def _app(
    rng: random.Random,
    index: int,
    tag: str,
    people: list[Document],
    executives: list[Document],
) -> Document:
    hosting = Hosting.MENDIX_CLOUD if rng.random() < 0.6 else Hosting.ON_PREMISES
    extra = 0 if hosting is Hosting.MENDIX_CLOUD else rng.choices((0, 1, 2), (80, 15, 5))[0]
    # skewed: low indexes own many apps, most people one or two
    picks = {int(len(people) * rng.random() ** 2) for _ in range(1 + extra)}
    contacts = [people[pick]["_id"] for pick in sorted(picks)]
    ready = all("mendix_id" in people[pick] for pick in picks)
    members = set(contacts)
    for _ in range(rng.randint(0, 5)):
        members.add(people[rng.randrange(len(people))]["_id"])
    ordered_at = _START + timedelta(minutes=rng.randrange(3 * 365 * 24 * 60))
    delivered = ready and rng.random() < 0.85
    name = f"{rng.choice(APP_NAMES)} {index}"
    return {
        "_id": ObjectId(),
        "name": name,
        "subdomain": f"{name.lower().replace(' ', '-')}-{tag}",
        "hosting": hosting.value,
        "status": (AppStatus.DELIVERED if delivered else AppStatus.ORDERED).value,
        "technical_contact_ids": contacts,
        "member_ids": [*contacts, *sorted(members - set(contacts))],
        "account_executive_id": rng.choice(executives)["_id"],
        "ordered_at": ordered_at,
        "delivered_at": ordered_at + timedelta(days=rng.randint(1, 60)) if delivered else None,
        "version": 2 if delivered else 1,
    }


_REGIONS = ("eu-central-1", "us-east-1", "ap-southeast-2", "eu-west-2")


def _regions(apps: list[Document], seed: int) -> None:
    """A Mendix Cloud region for each cloud app (own random stream: nothing else changes)."""
    rng = random.Random(f"regions-{seed}")
    for app in apps:
        if app["hosting"] == Hosting.MENDIX_CLOUD.value:
            app["region"] = rng.choices(_REGIONS, (50, 30, 10, 10))[0]


async def _check_new(db: Database, collection: str, key: str, docs: list[Document]) -> None:
    stored = await bulk.distinct_values(db[collection], key)
    if stored & {doc[key] for doc in docs if key in doc}:
        raise Collision(f"generated {collection}.{key} values exist already")


async def generate(db: Database, apps: int, seed: int = 1) -> Generated:
    """Insert ``apps`` apps and about a quarter as many people (plus account executives and a
    Support person when missing)."""
    rng = random.Random(seed)
    tag = f"g{seed}"
    created = now()
    people = [_person(rng, index, tag, created) for index in range(max(20, apps // 4))]
    executives = [
        {
            "_id": ObjectId(),
            "email": f"ae{index}.{tag}@mendix.example",
            "name": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
            "mendix_id": f"ae{index}.{tag}",
            "status": PersonStatus.ACTIVE.value,
            "roles": [],
            "created_at": created,
        }
        for index in range(max(2, apps // 2000))
    ]
    everyone = [*people, *executives]
    support = await people_store.get_person_by_email(db, SUPPORT_EMAIL)
    support_id = support.id if support is not None else ObjectId()
    if support is None:
        everyone.append(
            {
                "_id": support_id,
                "email": SUPPORT_EMAIL,
                "name": "Sam Support",
                "status": PersonStatus.ACTIVE.value,
                "roles": [Role.SUPPORT.value],
                "created_at": created,
            }
        )
    app_docs = [_app(rng, index, tag, people, executives) for index in range(apps)]
    add_embedded(app_docs, seed, tag, created)
    _regions(app_docs, seed)
    activity = add_activity(app_docs, everyone, support_id, seed, created)
    await _check_new(db, people_store.COLLECTION, "email", everyone)
    await _check_new(db, people_store.COLLECTION, "mendix_id", everyone)
    await _check_new(db, app_store.COLLECTION, "subdomain", app_docs)
    await bulk.insert_trusted(db[people_store.COLLECTION], everyone)
    await bulk.insert_trusted(db[app_store.COLLECTION], app_docs)
    await bulk.insert_trusted(db[audit_store.COLLECTION], activity.audit)
    await bulk.insert_trusted(db[support_store.COLLECTION], activity.requests)
    await bulk.insert_trusted(db[alert_store.COLLECTION], activity.alerts)
    await rollup_reads.rebuild(db)  # bulk inserts bypass the per-change rollup deltas
    return Generated(people=len(everyone), apps=len(app_docs))
