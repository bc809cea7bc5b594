"""Renewal notices (O1, C4), maintenance notices (C1) and reading notifications, on both tiers.

Exactly once: each notice's dedupe key is unique in the outbox, so re-runs, racing runners and
restarts queue it once."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from resolvers.notifications import run_notices, run_renewal_notices
from store import maintenance as maintenance_store
from store.people import PersonRecord
from tests.helpers import create_app, dump, gql, make_person, pid, run

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)

ADD = """
mutation ($input: AddLicenseInput!) {
  addLicense(input: $input) { app { version } userErrors { code } }
}"""
RENEW = """
mutation ($input: RenewLicenseInput!) {
  renewLicense(input: $input) { app { version } userErrors { code } }
}"""
POST = """
mutation ($input: PostMaintenanceWindowInput!) {
  postMaintenanceWindow(input: $input) {
    maintenanceWindow { id title region notifiedAt apps { subdomain } }
    userErrors { field message code }
  }
}"""
MINE = """
{
  viewer { notifications(first: 50) { totalCount nodes { id kind subject toEmail } } }
  notifications(first: 50) { totalCount nodes { id toEmail status messageId app { id } } }
}"""
PERSON = """
query ($id: ID!) {
  node(id: $id) { ... on Person { notifications(first: 50) { totalCount } } }
}"""
NODE = """
query ($id: ID!) { node(id: $id) { ... on Notification { subject recipient { email } } } }"""


@dataclass
class World:
    db: Any
    support: PersonRecord
    ann: PersonRecord
    bob: PersonRecord
    onprem: dict[str, Any]
    cloud: dict[str, Any]


@pytest.fixture
async def world(db: Any, support: PersonRecord) -> World:
    ann = await make_person(db, "ann@acme.example", "Ann", "ann")
    bob = await make_person(db, "bob@acme.example", "Bob", "bob")
    onprem = await create_app(db, support, ann, "ON_PREMISES", "n-onprem")
    _, errors = await run(db, support, "addTechnicalContact", appId=onprem["id"], personId=pid(bob))
    assert errors == []
    cloud = await create_app(db, support, ann, "MENDIX_CLOUD", "n-cloud")
    return World(db, support, ann, bob, onprem, cloud)


async def add_license(world: World, app: dict[str, Any], expires_in: timedelta, lid: str) -> None:
    data = await gql(
        world.db,
        world.support,
        ADD,
        {
            "input": {
                "appId": app["id"],
                "licenseId": lid,
                "plan": "Standard",
                "namedUsers": 10,
                "concurrentUsers": 5,
                "startsAt": (NOW - timedelta(days=300)).isoformat(),
                "expiresAt": (NOW + expires_in).isoformat(),
            }
        },
    )
    assert data["addLicense"]["userErrors"] == []


async def outbox(db: Any) -> list[dict[str, Any]]:
    return await db["notifications"].find({}).sort("_id", 1).to_list(None)


async def test_renewal_notices_at_60_30_and_7_days_each_once(world: World) -> None:
    await add_license(world, world.onprem, timedelta(days=65), "L1")
    assert await run_renewal_notices(world.db, NOW) == 0  # 65 days left: nothing yet
    steps = [(6, 60), (36, 30), (59, 7)]  # days later -> the threshold reached
    for days_later, threshold in steps:
        at = NOW + timedelta(days=days_later)
        assert await run_renewal_notices(world.db, at) == 2  # one per technical contact
        assert await run_renewal_notices(world.db, at) == 0  # exactly once
        assert await run_renewal_notices(world.db, at + timedelta(hours=1)) == 0
        latest = (await outbox(world.db))[-2:]
        assert {mail["to_email"] for mail in latest} == {"ann@acme.example", "bob@acme.example"}
        assert all(f"within {threshold} days" in mail["subject"] for mail in latest)
        assert all(mail["kind"] == "LICENSE_RENEWAL" for mail in latest)
    assert await run_renewal_notices(world.db, NOW + timedelta(days=66)) == 0  # expired
    mails = await outbox(world.db)
    assert len(mails) == 6
    assert len({mail["dedupe_key"] for mail in mails}) == 6


async def test_mendix_cloud_licenses_get_no_renewal_notices(world: World) -> None:
    await add_license(world, world.cloud, timedelta(days=5), "C1")
    assert await run_renewal_notices(world.db, NOW) == 0
    assert await outbox(world.db) == []


async def test_a_late_found_license_gets_only_the_tightest_notice(world: World) -> None:
    await add_license(world, world.onprem, timedelta(days=5), "L1")
    assert await run_renewal_notices(world.db, NOW) == 2
    assert all("within 7 days" in mail["subject"] for mail in await outbox(world.db))


async def test_two_runners_racing_queue_each_notice_once(world: World) -> None:
    await add_license(world, world.onprem, timedelta(days=20), "L1")
    await add_license(world, world.onprem, timedelta(days=50), "L2")
    counts = await asyncio.gather(*(run_notices(world.db, NOW) for _ in range(4)))
    assert sum(report.renewal_notices for report in counts) == 4  # 2 licenses x 2 contacts
    mails = await outbox(world.db)
    assert len(mails) == 4
    endings = sorted(mail["subject"].rsplit(" expires ", 1)[1] for mail in mails)
    assert endings == ["within 30 days"] * 2 + ["within 60 days"] * 2


async def test_a_renewed_license_gets_notices_for_its_new_expiry(world: World) -> None:
    await add_license(world, world.onprem, timedelta(days=6), "L1")
    assert await run_renewal_notices(world.db, NOW) == 2
    data = await gql(
        world.db,
        world.support,
        RENEW,
        {
            "input": {
                "appId": world.onprem["id"],
                "licenseId": "L1",
                "expiresAt": (NOW + timedelta(days=400)).isoformat(),
            }
        },
    )
    assert data["renewLicense"]["userErrors"] == []
    assert await run_renewal_notices(world.db, NOW) == 0
    assert await run_renewal_notices(world.db, NOW + timedelta(days=341)) == 2


async def test_inactive_contacts_get_no_mail(world: World, db: Any) -> None:
    await db["people"].update_one({"_id": world.bob.id}, {"$set": {"status": "INACTIVE"}})
    await add_license(world, world.onprem, timedelta(days=6), "L1")
    assert await run_renewal_notices(world.db, NOW) == 1


async def post(world: World, viewer: PersonRecord, **input: Any) -> dict[str, Any]:
    base = {
        "title": "Database upgrade",
        "description": "Apps restart once.",
        "startsAt": (NOW + timedelta(days=3)).isoformat(),
        "endsAt": (NOW + timedelta(days=3, hours=2)).isoformat(),
    }
    data = await gql(world.db, viewer, POST, {"input": {**base, **input}})
    return data["postMaintenanceWindow"]


async def test_maintenance_for_all_cloud_apps_one_mail_per_contact(world: World) -> None:
    carl = await make_person(world.db, "carl@acme.example", "Carl", "carl")
    await create_app(world.db, world.support, world.ann, "MENDIX_CLOUD", "n-cloud2")
    await create_app(world.db, world.support, carl, "MENDIX_CLOUD", "n-cloud3")
    payload = await post(world, world.support)
    assert payload["userErrors"] == []
    window = payload["maintenanceWindow"]
    assert {app["subdomain"] for app in window["apps"]} == {"n-cloud", "n-cloud2", "n-cloud3"}
    assert window["notifiedAt"] is not None
    mails = await outbox(world.db)
    # Ann is the contact of two affected apps and gets one email; the On-Premises app (Bob) none
    assert sorted(mail["to_email"] for mail in mails) == ["ann@acme.example", "carl@acme.example"]
    assert all(mail["kind"] == "MAINTENANCE" for mail in mails)
    # the periodic task finds nothing left to do for this window
    report = await run_notices(world.db, NOW)
    assert report.maintenance_notices == 0
    assert len(await outbox(world.db)) == 2


async def test_maintenance_by_region_and_by_list(world: World) -> None:
    from tests.helpers import CREATE_APP

    carl = await make_person(world.db, "carl@acme.example", "Carl", "carl")
    data = await gql(
        world.db,
        world.support,
        CREATE_APP,
        {
            "input": {
                "name": "EU app",
                "subdomain": "n-eu",
                "hosting": "MENDIX_CLOUD",
                "technicalContactId": pid(carl),
                "region": "eu-central-1",
            }
        },
    )
    eu = data["createApp"]["app"]
    payload = await post(world, world.support, region="eu-central-1")
    assert payload["userErrors"] == []
    assert [app["subdomain"] for app in payload["maintenanceWindow"]["apps"]] == ["n-eu"]
    assert [mail["to_email"] for mail in await outbox(world.db)] == ["carl@acme.example"]
    payload = await post(world, world.support, appIds=[world.cloud["id"], eu["id"]])
    assert payload["userErrors"] == []
    assert sorted(mail["to_email"] for mail in (await outbox(world.db))[1:]) == [
        "ann@acme.example",
        "carl@acme.example",
    ]


@pytest.mark.parametrize(
    ("input", "code"),
    [
        ({"region": "eu-central-1", "appIds": ["CLOUD"]}, "INVALID_INPUT"),
        ({"appIds": []}, "BLANK"),
        ({"endsAt": NOW.isoformat()}, "INVALID_DATES"),
        ({"region": "mars-1"}, "NO_AFFECTED_APPS"),
        ({"region": "Bad Region"}, "INVALID_FORMAT"),
        ({"title": ""}, "BLANK"),
        ({"appIds": ["bad"]}, "INVALID_ID"),
    ],
)
async def test_bad_maintenance_input_writes_nothing(
    world: World, input: dict[str, Any], code: str
) -> None:
    if input.get("appIds") == ["CLOUD"]:
        input = {**input, "appIds": [world.cloud["id"]]}
    before = await dump(world.db)
    payload = await post(world, world.support, **input)
    assert payload["maintenanceWindow"] is None
    assert [error["code"] for error in payload["userErrors"]] == [code], payload
    assert await dump(world.db) == before


async def test_maintenance_refusals(world: World) -> None:
    before = await dump(world.db)
    payload = await post(world, world.ann)
    assert [error["code"] for error in payload["userErrors"]] == ["FORBIDDEN"]
    payload = await post(world, world.support, appIds=[world.onprem["id"]])
    assert payload["userErrors"][0]["code"] == "WRONG_HOSTING_TYPE"
    assert payload["userErrors"][0]["field"] == ["input", "appIds", "0"]
    assert await dump(world.db) == before


async def test_an_interrupted_maintenance_notice_is_completed_by_the_task(world: World) -> None:
    window = await maintenance_store.create_window(
        world.db,
        title="T",
        description="D",
        starts_at=NOW,
        ends_at=NOW + timedelta(hours=1),
        region=None,
        app_ids=None,
        posted_by=world.support.id,
    )  # as if the process died after storing the window, before queuing its notices
    report = await run_notices(world.db, NOW)
    assert report.maintenance_notices == 1
    (stored,) = await maintenance_store.get_windows(world.db, [window.id])
    assert stored is not None and stored.notified_at is not None


async def test_notifications_are_scoped_to_the_viewer(world: World) -> None:
    await add_license(world, world.onprem, timedelta(days=6), "L1")
    await run_renewal_notices(world.db, NOW)
    mine = await gql(world.db, world.ann, MINE)
    assert mine["viewer"]["notifications"]["totalCount"] == 1
    assert mine["notifications"]["totalCount"] == 1
    (node,) = mine["notifications"]["nodes"]
    assert node["toEmail"] == "ann@acme.example"
    assert node["status"] == "PENDING"  # no SMTP configured: kept in the outbox
    assert node["messageId"].endswith("@ownership.mendix.example>")
    assert node["app"]["id"] == world.onprem["id"]
    everything = await gql(world.db, world.support, MINE)
    assert everything["notifications"]["totalCount"] == 2
    # Ann can't read Bob's mail, by person or by node ID
    bob = await gql(world.db, world.ann, PERSON, {"id": pid(world.bob)})
    assert bob["node"]["notifications"]["totalCount"] == 0
    bobs = [n for n in everything["notifications"]["nodes"] if n["toEmail"] == "bob@acme.example"]
    assert (await gql(world.db, world.ann, NODE, {"id": bobs[0]["id"]}))["node"] is None
    seen = await gql(world.db, world.support, NODE, {"id": bobs[0]["id"]})
    assert seen["node"]["recipient"]["email"] == "bob@acme.example"


FILTERED = """
query ($recipient: ID, $app: ID!) {
  notifications(first: 50, filter: {recipientId: $recipient}) { totalCount }
  app(id: $app) { notifications(first: 50) { totalCount nodes { toEmail } } }
}"""


async def test_filters_and_app_mail_stay_within_the_viewers_own_mail(world: World) -> None:
    await add_license(world, world.onprem, timedelta(days=6), "L1")
    await run_renewal_notices(world.db, NOW)
    ids = {"recipient": pid(world.bob), "app": world.onprem["id"]}
    ann = await gql(world.db, world.ann, FILTERED, ids)
    assert ann["notifications"]["totalCount"] == 0  # Bob's mail, asked for by name
    assert ann["app"]["notifications"]["nodes"] == [{"toEmail": "ann@acme.example"}]
    support = await gql(world.db, world.support, FILTERED, ids)
    assert support["notifications"]["totalCount"] == 1
    assert support["app"]["notifications"]["totalCount"] == 2
    mine = await gql(world.db, world.ann, FILTERED, {**ids, "recipient": pid(world.ann)})
    assert mine["notifications"]["totalCount"] == 1


@pytest.mark.wire_only(reason="two clients over the wire stand for two API processes")
async def test_two_processes_racing_queue_each_notice_once(
    world: World, request: pytest.FixtureRequest
) -> None:
    from pymongo import AsyncMongoClient

    await add_license(world, world.onprem, timedelta(days=20), "L1")
    other = AsyncMongoClient(request.getfixturevalue("wire_uri"), tz_aware=True)
    try:
        second = other.get_database(world.db.name)
        reports = await asyncio.gather(
            *(run_notices(db, NOW) for db in (world.db, second, world.db, second))
        )
    finally:
        await other.close()
    assert sum(report.renewal_notices for report in reports) == 2
    assert len(await outbox(world.db)) == 2


async def test_a_bad_notifications_filter_is_a_typed_query_error(world: World) -> None:
    from tests.helpers import gql_errors

    errors = await gql_errors(
        world.db,
        world.support,
        """{ notifications(filter: {recipientId: "nope"}) { totalCount } }""",
    )
    assert errors[0].extensions["code"] == "INVALID_ID"
