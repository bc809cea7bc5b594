"""Support's at-risk ``totalCount`` comes from the rollups (every risk, by hosting) and equals
the apps it lists, after racing mutations of people and contacts; anyone else's is counted
over their own apps."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ownership.tasks import recover
from store import apps as app_store
from store import reports as report_store
from store import risks as risk_store
from store import rollup_people, rollup_reads, rollups
from store.apps import NEXT_EXPIRY
from store.pagination import Order, Window
from store.people import PersonRecord
from store.records import now
from tests.helpers import create_app, gid, gql, make_person, pid, run

TOTALS = """
query ($hosting: [Hosting!]) {
  inactive: appsWithInactiveTechnicalContact(first: 1, filter: {hosting: $hosting}) { totalCount }
  noMendixId: appsWithTechnicalContactWithoutMendixId(first: 1, filter: {hosting: $hosting}) {
    totalCount
  }
  noAlerts: mendixCloudAppsWithoutAlerts(first: 1, filter: {hosting: $hosting}) { totalCount }
  manage: appsWithProductionManagePermissionsGrantedToOthers(
    first: 1, filter: {hosting: $hosting}
  ) { totalCount }
  expiring: appsWithLicensesExpiring(days: 30, first: 1, filter: {hosting: $hosting}) {
    totalCount
  }
  expiringLater: appsWithLicensesExpiring(days: 400, first: 1, filter: {hosting: $hosting}) {
    totalCount
  }
  listInactive: apps(first: 1, filter: {hosting: $hosting, risks: [TECHNICAL_CONTACT_INACTIVE]}) {
    totalCount
  }
  listNoMendixId: apps(
    first: 1, filter: {hosting: $hosting, risks: [TECHNICAL_CONTACT_WITHOUT_MENDIX_ID]}
  ) { totalCount }
  listNoAlerts: apps(first: 1, filter: {hosting: $hosting, risks: [NO_ALERT_EMAIL]}) {
    totalCount
  }
  listManage: apps(
    first: 1, filter: {hosting: $hosting, risks: [PRODUCTION_MANAGE_PERMISSIONS_HELD_BY_OTHERS]}
  ) { totalCount }
  listExpiring: apps(first: 1, filter: {hosting: $hosting, risks: [LICENSE_EXPIRING]}) {
    totalCount
  }
  listExpiringLater: apps(first: 1, filter: {hosting: $hosting, licenseExpiresWithinDays: 400}) {
    totalCount
  }
}"""
STATUS = """
mutation ($input: SetPersonStatusInput!) { setPersonStatus(input: $input) { userErrors { code } } }
"""
MENDIX_ID = """
mutation ($input: RegisterMendixIdInput!) {
  registerMendixId(input: $input) { userErrors { code } }
}
"""
ADD_LICENSE = """
mutation ($input: AddLicenseInput!) { addLicense(input: $input) { userErrors { code } } }"""
NARROWED = """
query {
  apps(first: 1, filter: {status: [ORDERED], risks: [TECHNICAL_CONTACT_INACTIVE]}) { totalCount }
  both: apps(first: 1, filter: {risks: [TECHNICAL_CONTACT_INACTIVE, LICENSE_EXPIRING]}) {
    totalCount
  }
}"""
FIELDS = {
    "inactive": "inactive_contact",
    "noMendixId": "contact_without_mendix_id",
    "noAlerts": "cloud_without_alerts",
    "manage": "foreign_manage_permissions",
}


async def _direct(db: Any, hosting: list[str] | None) -> dict[str, dict[str, int]]:
    """Each total counted over the apps now."""
    narrowed: list[dict[str, Any]] = [] if hosting is None else [{"hosting": {"$in": hosting}}]
    found = {}
    for name, risk in FIELDS.items():
        query = await report_store.DIRECT[risk](db)
        found[name] = {"$and": [query, *narrowed]}
    moment = now()
    for name, days in (("expiring", 30), ("expiringLater", 400)):
        found[name] = {
            "$and": [risk_store.expiring_licenses(moment, moment + timedelta(days=days)), *narrowed]
        }
    apps = db[app_store.COLLECTION]
    counts = {name: {"totalCount": await apps.count_documents(q)} for name, q in found.items()}
    return counts | {f"list{name[0].upper()}{name[1:]}": count for name, count in counts.items()}


async def _world(db: Any, support: PersonRecord) -> tuple[list[PersonRecord], list[str]]:
    people = [
        await make_person(db, f"p{i}@example.com", f"P{i}", None if i % 2 else f"mx-{i}")
        for i in range(6)
    ]
    apps = []
    for index, person in enumerate(people * 2):
        hosting = "ON_PREMISES" if index % 3 else "MENDIX_CLOUD"
        app = (await create_app(db, support, person, hosting))["id"]
        apps.append(app)
        for number in range(index % 3):
            expires = datetime.now(UTC) + timedelta(days=5 + 17 * number + index)
            license = {
                "appId": app,
                "licenseId": f"L-{number}",
                "plan": "Standard",
                "namedUsers": 5,
                "concurrentUsers": 2,
                "startsAt": datetime.now(UTC).isoformat(),
                "expiresAt": expires.isoformat(),
            }
            await gql(db, support, ADD_LICENSE, {"input": license})
    return people, apps


async def _mutation(
    db: Any, support: PersonRecord, rng: random.Random, people: list[PersonRecord], apps: list[str]
) -> None:
    app, person = rng.choice(apps), rng.choice(people)
    step = rng.randrange(5)
    if step == 0:
        status = rng.choice(["ACTIVE", "INACTIVE"])
        await gql(db, support, STATUS, {"input": {"personId": pid(person), "status": status}})
    elif step == 1:
        mendix = {"personId": pid(person), "mendixId": f"mx-{rng.randrange(10**9)}"}
        await gql(db, support, MENDIX_ID, {"input": mendix})
    elif step == 2:
        await run(db, support, "addTechnicalContact", appId=app, personId=pid(person))
    elif step == 3:
        await run(db, support, "addTeamMember", appId=app, personId=pid(person))
        await run(db, support, "changeTechnicalContact", appId=app, personId=pid(person))
    else:
        await run(db, support, "removeTechnicalContact", appId=app, personId=pid(person))


async def test_racing_mutations_leave_supports_at_risk_totals_exact(
    db: Any, support: PersonRecord
) -> None:
    people, apps = await _world(db, support)
    await asyncio.gather(
        *(_mutation(db, support, random.Random(seed), people, apps) for seed in range(60))
    )
    for hosting in (None, ["ON_PREMISES"], ["MENDIX_CLOUD"], ["MENDIX_CLOUD", "ON_PREMISES"]):
        found = await gql(db, support, TOTALS, {"hosting": hosting})
        assert found == await _direct(db, hosting), hosting
    assert any(found[name]["totalCount"] for name in ("inactive", "noMendixId", "expiring"))
    assert await rollup_reads.verify(db) == []


async def test_supports_totals_are_read_from_the_rollups_and_a_viewers_from_their_apps(
    db: Any, support: PersonRecord
) -> None:
    people, _ = await _world(db, support)
    await gql(db, support, STATUS, {"input": {"personId": pid(people[0]), "status": "INACTIVE"}})
    before = await gql(db, support, TOTALS, {"hosting": None})
    mine = await gql(db, people[0], TOTALS, {"hosting": None})
    assert before["inactive"]["totalCount"] == 2 and mine["inactive"]["totalCount"] == 2
    # spoil the counters (what `rollups verify` would report): only Support's totals move
    for name in (rollups.COUNTERS, rollups.DAYS):
        await db[name].update_many({}, {"$inc": {"count": 100, "prev.none": 100}})
    after = await gql(db, support, TOTALS, {"hosting": None})
    cells = await db[rollups.COUNTERS].count_documents({"_id": {"$regex": "^risk:inactive"}})
    assert after["inactive"]["totalCount"] == 2 + cells * 100  # a counter per hosting type
    assert after["listInactive"] == after["inactive"]
    assert after["expiring"]["totalCount"] > before["expiring"]["totalCount"]
    assert await gql(db, people[0], TOTALS, {"hosting": None}) == mine
    narrowed = await gql(db, support, NARROWED)  # not one risk by hosting: counted directly
    assert narrowed["apps"]["totalCount"] == 2
    assert narrowed["both"]["totalCount"] <= 2
    await rollup_reads.rebuild(db)
    assert await gql(db, support, TOTALS, {"hosting": None}) == before


class Crash(Exception):
    """The process died here."""


async def _crash(*_: Any) -> Any:
    raise Crash()


async def test_a_crash_after_a_person_or_contact_change_is_recovered_once(
    db: Any, support: PersonRecord, monkeypatch: pytest.MonkeyPatch
) -> None:
    people, apps = await _world(db, support)
    monkeypatch.setattr(rollup_people, "follow_person", _crash)  # dies after the person write
    for person in people[:3]:
        status = {"personId": pid(person), "status": "INACTIVE"}
        assert (await gql(db, support, STATUS, {"input": status}))["setPersonStatus"] == {
            "userErrors": []
        }
    monkeypatch.setattr(rollups, "drain", _crash)  # dies after the app write
    added = {"appId": apps[1], "personId": pid(people[3])}
    _, errors = await run(db, support, "addTechnicalContact", **added)
    assert errors == []
    monkeypatch.undo()
    lagging = await gql(db, support, TOTALS, {"hosting": None})
    assert lagging != await _direct(db, None), "the crashes left Support's totals behind"
    for viewer in (support, *people[:4]):  # the lists are exact meanwhile
        assert await gql(db, viewer, LISTS) == await _direct_lists(db, viewer)
    await asyncio.gather(recover(db), recover(db))  # two processes' periodic tasks
    assert await gql(db, support, TOTALS, {"hosting": None}) == await _direct(db, None)
    for viewer in (support, *people[:4]):
        assert await gql(db, viewer, LISTS) == await _direct_lists(db, viewer)
    assert await rollup_reads.verify(db) == []


LISTS = """
query {
  inactive: appsWithInactiveTechnicalContact(first: 100) { nodes { id } }
  noMendixId: appsWithTechnicalContactWithoutMendixId(first: 100) { nodes { id } }
  listInactive: apps(
    first: 100, orderBy: {field: NEXT_LICENSE_EXPIRY}, filter: {risks: [TECHNICAL_CONTACT_INACTIVE]}
  ) { nodes { id } }
  listNoMendixId: apps(
    first: 100, orderBy: {field: NAME}, filter: {risks: [TECHNICAL_CONTACT_WITHOUT_MENDIX_ID]}
  ) { nodes { id } }
}"""


async def _direct_lists(db: Any, viewer: PersonRecord) -> dict[str, Any]:
    """:data:`LISTS` from the direct filters over the apps ``viewer`` may see, in order."""
    scope = None if viewer.is_support else app_store.visible_to(viewer.id)
    found = {}
    for name, risk, order in (
        ("inactive", "inactive_contact", Order()),
        ("noMendixId", "contact_without_mendix_id", Order()),
        ("listInactive", "inactive_contact", Order(NEXT_EXPIRY)),
        ("listNoMendixId", "contact_without_mendix_id", Order("name")),
    ):
        query = app_store.apps_query(scope=scope, also=[await report_store.DIRECT[risk](db)])
        page = await app_store.list_apps(db, query, Window(first=100, order=order))
        found[name] = {"nodes": [{"id": gid("App", app.id)} for app in page.items]}
    return found
