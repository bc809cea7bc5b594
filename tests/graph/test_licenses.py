"""Licenses (O2, C4) through the GraphQL API: add, renew, change, expansion; rights, bad input,
racing changes; on both tiers."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from store.people import PersonRecord
from tests.helpers import create_app, dump, gql, make_person, pid, run

LICENSE_FIELDS = "licenseId plan namedUsers concurrentUsers startsAt expiresAt renewedBy"
APP_LICENSES = f"app {{ id version licenses {{ {LICENSE_FIELDS} }} }}"


def _doc(name: str, input_type: str) -> str:
    return f"""
mutation ($input: {input_type}!) {{
  {name}(input: $input) {{ {APP_LICENSES} userErrors {{ field message code }} }}
}}"""


ADD = _doc("addLicense", "AddLicenseInput")
RENEW = _doc("renewLicense", "RenewLicenseInput")
CHANGE = _doc("changeLicense", "ChangeLicenseInput")
EXPAND = """
mutation ($input: RequestLicenseExpansionInput!) {
  requestLicenseExpansion(input: $input) {
    expansionRequest {
      id licenseId namedUsers concurrentUsers message
      requester { email } accountExecutive { email }
    }
    userErrors { field message code }
  }
}"""
APP = """
query ($id: ID!) {
  app(id: $id) {
    licenses { licenseId expiresAt renewedBy }
    licenseExpansionRequests(first: 10) { totalCount nodes { licenseId namedUsers } }
    notifications(first: 10) { totalCount nodes { kind toEmail subject body status } }
    auditTrail(first: 100, orderBy: {field: OCCURRED_AT, direction: ASC}) {
      nodes { action before after } }
  }
}"""

START = datetime(2026, 1, 1, tzinfo=UTC)


def iso(moment: datetime) -> str:
    return moment.isoformat()


@dataclass
class World:
    db: Any
    support: PersonRecord
    contact: PersonRecord
    member: PersonRecord
    executive: PersonRecord
    onprem: dict[str, Any]
    cloud: dict[str, Any]


@pytest.fixture
async def world(db: Any, support: PersonRecord) -> World:
    contact = await make_person(db, "tc@acme.example", "Tess Contact", "tess")
    member = await make_person(db, "mem@acme.example", "Mo Member", "mo")
    executive = await make_person(db, "ae@mendix.example", "Ada Exec", "ada")
    onprem = await create_app(db, support, contact, "ON_PREMISES", "lic-onprem")
    cloud = await create_app(db, support, contact, "MENDIX_CLOUD", "lic-cloud")
    apps = []
    for app in (onprem, cloud):
        _, errors = await run(
            db, support, "setAccountExecutive", appId=app["id"], personId=pid(executive)
        )
        assert errors == []
        changed, errors = await run(
            db, support, "addTeamMember", appId=app["id"], personId=pid(member)
        )
        assert errors == [] and changed is not None
        apps.append(changed)
    return World(db, support, contact, member, executive, *apps)


def license_input(app: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    return {
        "appId": app["id"],
        "licenseId": "LIC-1",
        "plan": "Standard",
        "namedUsers": 50,
        "concurrentUsers": 10,
        "startsAt": iso(START),
        "expiresAt": iso(START + timedelta(days=365)),
        **overrides,
    }


async def mutate(
    world: World, viewer: PersonRecord, doc: str, **input: Any
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    data = await gql(world.db, viewer, doc, {"input": input})
    (payload,) = data.values()
    return payload.get("app", payload.get("expansionRequest")), payload["userErrors"]


async def refused(world: World, viewer: PersonRecord, doc: str, code: str, **input: Any) -> None:
    before = await dump(world.db)
    result, errors = await mutate(world, viewer, doc, **input)
    assert result is None
    assert [error["code"] for error in errors] == [code], errors
    assert await dump(world.db) == before


async def test_support_adds_a_license_and_who_renews_follows_hosting(world: World) -> None:
    app, errors = await mutate(world, world.support, ADD, **license_input(world.onprem))
    assert errors == []
    assert app is not None
    assert app["licenses"] == [
        {
            "licenseId": "LIC-1",
            "plan": "Standard",
            "namedUsers": 50,
            "concurrentUsers": 10,
            "startsAt": "2026-01-01T00:00:00+00:00",
            "expiresAt": "2027-01-01T00:00:00+00:00",
            "renewedBy": "CUSTOMER",
        }
    ]
    assert app["version"] == world.onprem["version"] + 1
    cloud, errors = await mutate(world, world.support, ADD, **license_input(world.cloud))
    assert errors == [] and cloud is not None
    assert cloud["licenses"][0]["renewedBy"] == "MENDIX"
    trail = (await gql(world.db, world.support, APP, {"id": world.onprem["id"]}))["app"]
    event = trail["auditTrail"]["nodes"][-1]
    assert event["action"] == "LICENSE_ADDED"
    assert event["before"] == {"licenses": []}
    assert event["after"]["licenses"][0]["license_id"] == "LIC-1"


async def test_only_support_manages_licenses(world: World) -> None:
    await refused(world, world.contact, ADD, "FORBIDDEN", **license_input(world.onprem))
    await mutate(world, world.support, ADD, **license_input(world.onprem))
    later = iso(START + timedelta(days=730))
    await refused(
        world,
        world.contact,
        RENEW,
        "FORBIDDEN",
        appId=world.onprem["id"],
        licenseId="LIC-1",
        expiresAt=later,
    )
    await refused(
        world,
        world.member,
        CHANGE,
        "FORBIDDEN",
        appId=world.onprem["id"],
        licenseId="LIC-1",
        namedUsers=500,
    )


async def test_license_ids_are_unique_per_app(world: World) -> None:
    await mutate(world, world.support, ADD, **license_input(world.onprem))
    await refused(world, world.support, ADD, "DUPLICATE_LICENSE", **license_input(world.onprem))


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"licenseId": ""}, "BLANK", "licenseId"),
        ({"licenseId": "has space"}, "INVALID_FORMAT", "licenseId"),
        ({"plan": "  "}, "BLANK", "plan"),
        ({"namedUsers": -1}, "INVALID_INPUT", "namedUsers"),
        ({"appId": "nope"}, "INVALID_ID", "appId"),
        ({"expiresAt": iso(START)}, "INVALID_DATES", "expiresAt"),
    ],
)
async def test_bad_license_input_is_refused_typed(
    world: World, overrides: dict[str, Any], code: str, field: str
) -> None:
    before = await dump(world.db)
    app, errors = await mutate(
        world, world.support, ADD, **license_input(world.onprem, **overrides)
    )
    assert app is None
    assert [(error["code"], error["field"]) for error in errors] == [(code, ["input", field])]
    assert await dump(world.db) == before


async def test_renewal_needs_a_later_expiry(world: World) -> None:
    await mutate(world, world.support, ADD, **license_input(world.onprem))
    await refused(
        world,
        world.support,
        RENEW,
        "EXPIRY_NOT_LATER",
        appId=world.onprem["id"],
        licenseId="LIC-1",
        expiresAt=iso(START + timedelta(days=10)),
    )
    await refused(
        world,
        world.support,
        RENEW,
        "LICENSE_NOT_FOUND",
        appId=world.onprem["id"],
        licenseId="LIC-9",
        expiresAt=iso(START + timedelta(days=999)),
    )
    later = START + timedelta(days=730)
    app, errors = await mutate(
        world,
        world.support,
        RENEW,
        appId=world.onprem["id"],
        licenseId="LIC-1",
        expiresAt=iso(later),
    )
    assert errors == [] and app is not None
    assert app["licenses"][0]["expiresAt"] == iso(later)
    assert app["licenses"][0]["namedUsers"] == 50


async def test_change_license(world: World) -> None:
    await mutate(world, world.support, ADD, **license_input(world.onprem))
    await mutate(world, world.support, ADD, **license_input(world.onprem, licenseId="LIC-2"))
    app, errors = await mutate(
        world,
        world.support,
        CHANGE,
        appId=world.onprem["id"],
        licenseId="LIC-2",
        plan="Premium",
        concurrentUsers=40,
    )
    assert errors == [] and app is not None
    second = app["licenses"][1]
    assert (second["plan"], second["concurrentUsers"], second["namedUsers"]) == ("Premium", 40, 50)
    assert app["licenses"][0]["plan"] == "Standard"
    await refused(
        world, world.support, CHANGE, "INVALID_INPUT", appId=world.onprem["id"], licenseId="LIC-2"
    )
    await refused(
        world,
        world.support,
        CHANGE,
        "INVALID_DATES",
        appId=world.onprem["id"],
        licenseId="LIC-2",
        startsAt=iso(START + timedelta(days=900)),
    )
    await refused(
        world,
        world.support,
        CHANGE,
        "VERSION_CONFLICT",
        appId=world.onprem["id"],
        licenseId="LIC-2",
        plan="Gold",
        expectedVersion=1,
    )


async def test_racing_license_and_contact_changes_lose_nothing(world: World) -> None:
    """Rewrites under a version precondition retry past unrelated changes: every renewal,
    change and team change lands, and the app's version counts them all."""
    await mutate(world, world.support, ADD, **license_input(world.onprem))
    await mutate(world, world.support, ADD, **license_input(world.onprem, licenseId="LIC-2"))
    people = [await make_person(world.db, f"r{i}@acme.example", f"R{i}", f"r{i}") for i in range(3)]
    calls = [
        mutate(
            world,
            world.support,
            RENEW,
            appId=world.onprem["id"],
            licenseId="LIC-1",
            expiresAt=iso(START + timedelta(days=400 + i)),
        )
        for i in range(3)
    ]
    calls.append(
        mutate(
            world,
            world.support,
            CHANGE,
            appId=world.onprem["id"],
            licenseId="LIC-2",
            namedUsers=99,
        )
    )
    calls += [
        run(world.db, world.support, "addTeamMember", appId=world.onprem["id"], personId=pid(p))
        for p in people
    ]
    results = await asyncio.gather(*calls)
    renewals_ok = [errors == [] for _, errors in results[:3]]
    for _, errors in results[:3]:
        assert errors == [] or [e["code"] for e in errors] == ["EXPIRY_NOT_LATER"], errors
    assert all(errors == [] for _, errors in results[3:])
    app = (await gql(world.db, world.support, APP, {"id": world.onprem["id"]}))["app"]
    assert app["licenses"][0]["expiresAt"] == iso(START + timedelta(days=402))
    stored = await world.db["apps"].find_one(
        {
            "_id": __import__("bson").ObjectId(
                __import__("resolvers.ids", fromlist=["decode"]).decode(world.onprem["id"], "App")
            )
        }
    )
    assert stored["licenses"][1]["named_users"] == 99
    assert all(p.id in stored["member_ids"] for p in people)
    setup = world.onprem["version"] + 2  # the two licenses
    assert stored["version"] == setup + sum(renewals_ok) + 1 + len(people)


async def test_expansion_goes_to_the_account_executive(world: World) -> None:
    await mutate(world, world.support, ADD, **license_input(world.onprem))
    request, errors = await mutate(
        world,
        world.contact,
        EXPAND,
        appId=world.onprem["id"],
        licenseId="LIC-1",
        namedUsers=80,
        concurrentUsers=10,
        message="We are growing",
    )
    assert errors == [] and request is not None
    assert request["accountExecutive"]["email"] == "ae@mendix.example"
    assert request["requester"]["email"] == "tc@acme.example"
    app = (await gql(world.db, world.support, APP, {"id": world.onprem["id"]}))["app"]
    assert app["licenseExpansionRequests"]["totalCount"] == 1
    (mail,) = app["notifications"]["nodes"]
    assert mail["kind"] == "LICENSE_EXPANSION_REQUEST"
    assert mail["toEmail"] == "ae@mendix.example"
    assert mail["status"] == "PENDING"
    assert "50 named / 10 concurrent" in mail["body"] and "80 named" in mail["body"]
    assert "We are growing" in mail["body"]
    assert app["auditTrail"]["nodes"][-1]["action"] == "LICENSE_EXPANSION_REQUESTED"
    # the contact sees the email they caused? No: it was sent to the executive, not to them
    seen = (await gql(world.db, world.contact, APP, {"id": world.onprem["id"]}))["app"]
    assert seen["notifications"]["totalCount"] == 0


async def test_expansion_on_mendix_cloud_too(world: World) -> None:
    await mutate(world, world.support, ADD, **license_input(world.cloud))
    request, errors = await mutate(
        world,
        world.contact,
        EXPAND,
        appId=world.cloud["id"],
        licenseId="LIC-1",
        namedUsers=50,
        concurrentUsers=20,
    )
    assert errors == [] and request is not None


async def test_expansion_refusals(world: World) -> None:
    await mutate(world, world.support, ADD, **license_input(world.onprem))
    base = {"appId": world.onprem["id"], "licenseId": "LIC-1"}
    await refused(
        world, world.member, EXPAND, "FORBIDDEN", **base, namedUsers=80, concurrentUsers=10
    )
    await refused(
        world, world.contact, EXPAND, "NOT_AN_EXPANSION", **base, namedUsers=50, concurrentUsers=10
    )
    await refused(
        world, world.contact, EXPAND, "NOT_AN_EXPANSION", **base, namedUsers=90, concurrentUsers=5
    )
    await refused(
        world,
        world.contact,
        EXPAND,
        "LICENSE_NOT_FOUND",
        appId=world.onprem["id"],
        licenseId="LIC-7",
        namedUsers=90,
        concurrentUsers=50,
    )
    outsider = await make_person(world.db, "out@other.example", "Out", "out")
    await refused(world, outsider, EXPAND, "NOT_FOUND", **base, namedUsers=90, concurrentUsers=50)
    other = await make_person(world.db, "c2@acme.example", "C2", "c2")
    lonely = await create_app(world.db, world.support, other, "ON_PREMISES", "no-exec")
    await mutate(world, world.support, ADD, **license_input(lonely))
    await refused(
        world,
        other,
        EXPAND,
        "NO_ACCOUNT_EXECUTIVE",
        appId=lonely["id"],
        licenseId="LIC-1",
        namedUsers=90,
        concurrentUsers=50,
    )
