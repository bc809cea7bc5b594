"""The technical-contact rules (A2-A6, C5) through the GraphQL API, on both tiers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from store.people import PersonRecord
from tests.helpers import (
    create_app,
    gql,
    ids,
    make_person,
    pid,
    refused,
    run,
)

AUDIT = """
query ($id: ID!) {
  app(id: $id) {
    auditTrail(first: 100, orderBy: {field: OCCURRED_AT, direction: ASC}) {
      totalCount
      nodes { action version actor { id } before after }
    }
  }
}"""


@dataclass
class World:
    db: Any
    support: PersonRecord
    contact: PersonRecord
    member: PersonRecord
    newbie: PersonRecord
    outsider: PersonRecord
    cloud: dict[str, Any]
    onprem: dict[str, Any]


@pytest.fixture
async def world(db: Any, support: PersonRecord) -> World:
    contact = await make_person(db, "contact@acme.example", "Cora Contact", "cora")
    member = await make_person(db, "member@acme.example", "Max Member", "max")
    newbie = await make_person(db, "newbie@acme.example", "Nina New")
    outsider = await make_person(db, "outsider@other.example", "Olaf Out", "olaf")
    cloud = await create_app(db, support, contact, "MENDIX_CLOUD", "cloud-app")
    for person in (member, newbie):
        app, errors = await run(
            db, support, "addTeamMember", appId=cloud["id"], personId=pid(person)
        )
        assert errors == []
        cloud = app
    onprem = await create_app(db, support, contact, "ON_PREMISES", "onprem-app")
    onprem, errors = await run(
        db, support, "addTechnicalContact", appId=onprem["id"], personId=pid(member)
    )
    assert errors == []
    return World(db, support, contact, member, newbie, outsider, cloud, onprem)


async def test_created_app_has_its_technical_contact_on_the_team(world: World) -> None:
    assert ids(world.cloud["technicalContacts"]) == [pid(world.contact)]
    assert pid(world.contact) in ids(world.cloud["teamMembers"])
    assert world.cloud["status"] == "ORDERED"


async def test_cloud_contact_is_replaced_by_a_team_member(world: World) -> None:
    app, errors = await run(
        world.db,
        world.contact,
        "changeTechnicalContact",
        appId=world.cloud["id"],
        personId=pid(world.member),
    )
    assert errors == []
    assert app is not None
    assert ids(app["technicalContacts"]) == [pid(world.member)]
    assert app["version"] == world.cloud["version"] + 1
    trail = (await gql(world.db, world.support, AUDIT, {"id": world.cloud["id"]}))["app"]
    last = trail["auditTrail"]["nodes"][-1]
    assert last["action"] == "TECHNICAL_CONTACT_CHANGED"
    assert last["actor"]["id"] == pid(world.contact)
    assert last["before"] == {"technical_contact_ids": [pid(world.contact)]}
    assert last["after"] == {"technical_contact_ids": [pid(world.member)]}
    assert last["version"] == app["version"]


async def test_cloud_contact_must_be_a_team_member(world: World) -> None:
    await refused(
        world.db,
        world.support,
        "changeTechnicalContact",
        "NOT_A_TEAM_MEMBER",
        appId=world.cloud["id"],
        personId=pid(world.outsider),
    )


async def test_cloud_app_gets_no_second_contact(world: World) -> None:
    await refused(
        world.db,
        world.support,
        "addTechnicalContact",
        "WRONG_HOSTING_TYPE",
        appId=world.cloud["id"],
        personId=pid(world.member),
    )


async def test_change_contact_refused_for_on_premises(world: World) -> None:
    await refused(
        world.db,
        world.support,
        "changeTechnicalContact",
        "WRONG_HOSTING_TYPE",
        appId=world.onprem["id"],
        personId=pid(world.member),
    )


async def test_change_to_the_current_contact_is_refused(world: World) -> None:
    await refused(
        world.db,
        world.support,
        "changeTechnicalContact",
        "ALREADY_TECHNICAL_CONTACT",
        appId=world.cloud["id"],
        personId=pid(world.contact),
    )


async def test_on_premises_contact_removed_while_another_remains(world: World) -> None:
    app, errors = await run(
        world.db,
        world.support,
        "removeTechnicalContact",
        appId=world.onprem["id"],
        personId=pid(world.member),
    )
    assert errors == []
    assert app is not None
    assert ids(app["technicalContacts"]) == [pid(world.contact)]
    assert pid(world.member) in ids(app["teamMembers"])  # still on the team
    await refused(
        world.db,
        world.support,
        "removeTechnicalContact",
        "LAST_TECHNICAL_CONTACT",
        appId=world.onprem["id"],
        personId=pid(world.contact),
    )


async def test_removing_someone_who_is_no_contact_is_refused(world: World) -> None:
    await refused(
        world.db,
        world.support,
        "removeTechnicalContact",
        "NOT_A_TECHNICAL_CONTACT",
        appId=world.onprem["id"],
        personId=pid(world.newbie),
    )


async def test_adding_an_existing_contact_is_refused(world: World) -> None:
    await refused(
        world.db,
        world.support,
        "addTechnicalContact",
        "ALREADY_TECHNICAL_CONTACT",
        appId=world.onprem["id"],
        personId=pid(world.member),
    )


async def test_delivery_needs_a_mendix_id_for_every_contact(world: World) -> None:
    app, errors = await run(
        world.db,
        world.support,
        "addTechnicalContact",
        appId=world.onprem["id"],
        personId=pid(world.newbie),
    )
    assert errors == []
    await refused(
        world.db,
        world.support,
        "deliverApp",
        "TECHNICAL_CONTACT_WITHOUT_MENDIX_ID",
        appId=world.onprem["id"],
    )
    register = """
    mutation ($input: RegisterMendixIdInput!) {
      registerMendixId(input: $input) { person { hasMendixId } userErrors { code } }
    }"""
    data = await gql(
        world.db,
        world.newbie,
        register,
        {"input": {"personId": pid(world.newbie), "mendixId": "nina"}},
    )
    assert data["registerMendixId"] == {"person": {"hasMendixId": True}, "userErrors": []}
    app, errors = await run(world.db, world.support, "deliverApp", appId=world.onprem["id"])
    assert errors == []
    assert app is not None and app["status"] == "DELIVERED" and app["deliveredAt"]
    await refused(
        world.db, world.support, "deliverApp", "ALREADY_DELIVERED", appId=world.onprem["id"]
    )


async def test_delivered_app_contact_needs_a_mendix_id(world: World) -> None:
    _app, errors = await run(world.db, world.support, "deliverApp", appId=world.cloud["id"])
    assert errors == []
    await refused(
        world.db,
        world.support,
        "changeTechnicalContact",
        "TECHNICAL_CONTACT_WITHOUT_MENDIX_ID",
        appId=world.cloud["id"],
        personId=pid(world.newbie),
    )


async def test_move_to_cloud_needs_exactly_one_contact(world: World) -> None:
    await refused(
        world.db,
        world.support,
        "moveAppToMendixCloud",
        "MULTIPLE_TECHNICAL_CONTACTS",
        appId=world.onprem["id"],
    )
    await run(
        world.db,
        world.support,
        "removeTechnicalContact",
        appId=world.onprem["id"],
        personId=pid(world.member),
    )
    app, errors = await run(
        world.db, world.support, "moveAppToMendixCloud", appId=world.onprem["id"]
    )
    assert errors == []
    assert app is not None and app["hosting"] == "MENDIX_CLOUD"
    await refused(
        world.db,
        world.support,
        "moveAppToMendixCloud",
        "WRONG_HOSTING_TYPE",
        appId=world.onprem["id"],
    )


async def test_technical_contact_stays_on_the_team(world: World) -> None:
    await refused(
        world.db,
        world.support,
        "removeTeamMember",
        "TECHNICAL_CONTACT_IN_TEAM",
        appId=world.cloud["id"],
        personId=pid(world.contact),
    )


@pytest.mark.parametrize(
    ("mutation", "actor", "app", "person", "code"),
    [
        ("changeTechnicalContact", "member", "cloud", "member", "FORBIDDEN"),
        ("changeTechnicalContact", "outsider", "cloud", "member", "NOT_FOUND"),
        ("addTechnicalContact", "contact", "onprem", "newbie", "FORBIDDEN"),
        ("removeTechnicalContact", "outsider", "onprem", "member", "NOT_FOUND"),
        ("addTeamMember", "member", "cloud", "outsider", "FORBIDDEN"),
        ("removeTeamMember", "newbie", "cloud", "member", "FORBIDDEN"),
        ("setAccountExecutive", "contact", "cloud", "member", "FORBIDDEN"),
    ],
)
async def test_who_may_change_what(
    world: World, mutation: str, actor: str, app: str, person: str, code: str
) -> None:
    target = getattr(world, app)
    await refused(
        world.db,
        getattr(world, actor),
        mutation,
        code,
        appId=target["id"],
        personId=pid(getattr(world, person)),
    )


@pytest.mark.parametrize("mutation", ["deliverApp", "moveAppToMendixCloud"])
async def test_only_support_delivers_and_moves(world: World, mutation: str) -> None:
    await refused(world.db, world.contact, mutation, "FORBIDDEN", appId=world.onprem["id"])


async def test_stale_expected_version_is_refused(world: World) -> None:
    await refused(
        world.db,
        world.support,
        "changeTechnicalContact",
        "VERSION_CONFLICT",
        appId=world.cloud["id"],
        personId=pid(world.member),
        expectedVersion=1,
    )
    app, errors = await run(
        world.db,
        world.support,
        "changeTechnicalContact",
        appId=world.cloud["id"],
        personId=pid(world.member),
        expectedVersion=world.cloud["version"],
    )
    assert errors == [] and app is not None
