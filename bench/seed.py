"""Seeding N apps fast: bulk inserts of documents shaped exactly like store/apps.py writes,
with licenses, Mendix Cloud environments and grants embedded as ``ownership generate`` adds
them (ownership/generate_cloud.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bson import ObjectId

from ownership.generate_cloud import add_embedded
from store import apps as app_store
from store import people as people_store
from store import rollup_reads
from store import tokens as token_store
from store.apps import AppStatus, Hosting
from store.people import PersonStatus, Role
from store.records import now

PEOPLE = 60


async def seed(db: Any, apps: int) -> tuple[Any, str]:
    """Insert PEOPLE people and ``apps`` apps (bulk); returns (support person id, token)."""
    moment = now()
    people = [
        {
            "_id": ObjectId(),
            "email": f"person{index}@bench.example",
            "name": f"Person {index}",
            "status": PersonStatus.ACTIVE.value,
            "roles": [Role.SUPPORT.value] if index == 0 else [],
            "created_at": moment,
            **({"mendix_id": f"mx-{index}"} if index % 2 else {}),
        }
        for index in range(PEOPLE)
    ]
    await db[people_store.COLLECTION].insert_many(people)
    docs = []
    for index in range(apps):
        contact = people[1 + index % (PEOPLE - 1)]["_id"]
        member = people[1 + (index + 7) % (PEOPLE - 1)]["_id"]
        delivered = index % 3 == 0
        docs.append(
            {
                "_id": ObjectId(),
                "name": f"App {index}",
                "subdomain": f"app-{index}",
                "hosting": (Hosting.ON_PREMISES if index % 4 else Hosting.MENDIX_CLOUD).value,
                "status": (AppStatus.DELIVERED if delivered else AppStatus.ORDERED).value,
                "technical_contact_ids": [contact],
                "member_ids": [contact, member],
                "account_executive_id": people[1 + index % 5]["_id"],
                "ordered_at": moment - timedelta(days=index % 400),
                "delivered_at": moment if delivered else None,
                "version": 1 + index % 9,
            }
        )
    add_embedded(docs, seed=1, tag="bench", created=moment)
    for start in range(0, len(docs), 1000):
        await db[app_store.COLLECTION].insert_many(docs[start : start + 1000])
    await rollup_reads.rebuild(db)  # bulk inserts bypass the per-change rollup deltas
    token = await token_store.create_token(db, people[0]["_id"], label="bench")
    return people[0]["_id"], token
