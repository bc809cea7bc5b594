"""Support's reports come from the rollups and equal a direct aggregation: after racing
mutations through GraphQL (gathered; the mock tier interleaves them), and after a crash
between a change and the application of its delta, once the periodic recovery ran."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ownership.tasks import recover
from store import reports as report_store
from store import risks as risk_store
from store import rollup_reads, rollups
from store.people import PersonRecord
from store.records import now
from tests.helpers import create_app, gql, make_person, pid, run

REPORTS = """
query {
  ownershipSummary { hosting status count }
  topTechnicalContacts(first: 50) {
    totalCount
    nodes { appCount mendixCloudCount onPremisesCount orderedCount person { email } }
  }
  licenseExpiryTimeline(months: 24) { month count }
}"""
LOAD = "query ($id: ID!) { technicalContactLoad(personId: $id) { appCount orderedCount } }"
ADD_LICENSE = """
mutation ($input: AddLicenseInput!) { addLicense(input: $input) { userErrors { code } } }"""


async def _direct(db: Any) -> dict[str, Any]:
    """The same document's figures aggregated over every app now."""
    rows = await report_store.summary(db, None)
    loads, _ = await report_store.top_contacts(db, None, limit=50)
    emails = {
        doc["_id"]: doc["email"] for doc in await db["people"].find({}, {"email": 1}).to_list(None)
    }
    months = await risk_store.expiry_timeline(db, None, now(), 24)
    return {
        "ownershipSummary": [
            {"hosting": r.hosting.value, "status": r.status.value, "count": r.count} for r in rows
        ],
        "topTechnicalContacts": {
            "totalCount": await report_store.count_contacts(db, None),
            "nodes": [
                {
                    "appCount": load.app_count,
                    "mendixCloudCount": load.mendix_cloud_count,
                    "onPremisesCount": load.on_premises_count,
                    "orderedCount": load.ordered_count,
                    "person": {"email": emails[load.id]},
                }
                for load in loads
            ],
        },
        "licenseExpiryTimeline": [{"month": m.month, "count": m.count} for m in months],
    }


async def _world(db: Any, support: PersonRecord) -> tuple[list[PersonRecord], list[str]]:
    people = [
        await make_person(db, f"p{index}@example.com", f"P{index}", f"mx-{index}")
        for index in range(5)
    ]
    apps = []
    for index, person in enumerate(people):
        hosting = "ON_PREMISES" if index % 2 else "MENDIX_CLOUD"
        apps.append((await create_app(db, support, person, hosting))["id"])
    return people, apps


async def _mutation(
    db: Any, support: PersonRecord, rng: random.Random, people: list[PersonRecord], apps: list[str]
) -> None:
    app, person = rng.choice(apps), pid(rng.choice(people))
    step = rng.randrange(6)
    if step == 0:
        await run(db, support, "deliverApp", appId=app)
    elif step == 1:
        await run(db, support, "addTechnicalContact", appId=app, personId=person)
    elif step == 2:
        await run(db, support, "addTeamMember", appId=app, personId=person)
        await run(db, support, "changeTechnicalContact", appId=app, personId=person)
    elif step == 3:
        await run(db, support, "moveAppToMendixCloud", appId=app)
    elif step == 4:
        await run(db, support, "removeTechnicalContact", appId=app, personId=person)
    else:
        expires = datetime.now(UTC) + timedelta(days=rng.randrange(1, 600))
        license = {
            "appId": app,
            "licenseId": f"L-{rng.randrange(4)}",
            "plan": "Standard",
            "namedUsers": 5,
            "concurrentUsers": 2,
            "startsAt": datetime.now(UTC).isoformat(),
            "expiresAt": expires.isoformat(),
        }
        await gql(db, support, ADD_LICENSE, {"input": license})


async def test_racing_mutations_leave_supports_reports_exact(
    db: Any, support: PersonRecord
) -> None:
    people, apps = await _world(db, support)
    rng = random.Random(21)
    assert await gql(db, support, REPORTS) == await _direct(db)  # before the races too
    await asyncio.gather(
        *(_mutation(db, support, random.Random(rng.random()), people, apps) for _ in range(60))
    )
    assert await gql(db, support, REPORTS) == await _direct(db)
    for person in people:
        load = await gql(db, support, LOAD, {"id": pid(person)})
        direct = await report_store.contact_load(db, None, person.id)
        assert load["technicalContactLoad"] == {
            "appCount": direct.app_count,
            "orderedCount": direct.ordered_count,
        }
    assert await rollup_reads.verify(db) == []


class Crash(Exception):
    pass


async def test_a_crash_before_the_delta_is_applied_is_recovered_once(
    db: Any, support: PersonRecord, monkeypatch: pytest.MonkeyPatch
) -> None:
    people, apps = await _world(db, support)
    before = await gql(db, support, REPORTS)
    real = rollups.apply

    async def crash(db: Any, pending: Any) -> None:
        raise Crash()

    monkeypatch.setattr(rollups, "apply", crash)  # the process dies after the write
    _, errors = await run(db, support, "deliverApp", appId=apps[0])
    assert errors == []  # the change is committed, its delta pending in the app
    await create_app(db, support, people[1], "ON_PREMISES")
    assert await gql(db, support, REPORTS) == before  # not applied yet
    monkeypatch.setattr(rollups, "apply", real)
    await asyncio.gather(recover(db), recover(db))  # two replicas' periodic tasks
    assert await gql(db, support, REPORTS) == await _direct(db) != before
    assert await rollup_reads.verify(db) == []
    pending = {"rollup_pending.0": {"$exists": True}}
    assert await db["apps"].count_documents(pending) == 0
