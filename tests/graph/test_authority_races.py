"""Authority at the moment of the write: a right lost between a request's read and its write
refuses the write (typed), on both tiers, with requests that really interleave.

Each race runs in both orders for a few rounds. The audit trail is then replayed by version:
every change made by someone who is not Mendix Support must have been made while they held
its right (technical contact; Manage permissions; Transport rights).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

import pytest

from resolvers.ids import decode
from store.people import PersonRecord
from tests.graph.cloud import GRANT, REVOKE, SET_STATE, cloud, grant
from tests.helpers import create_app, gql, make_person, pid, run

TRAIL = """
query ($id: ID!) {
  app(id: $id) { auditTrail(first: 100) {
    nodes { action version environmentId before after actor { id } } } }
}"""
CONTACT_RIGHT = {
    "TECHNICAL_CONTACT_CHANGED",
    "TECHNICAL_CONTACT_REMOVED",
    "TEAM_MEMBER_ADDED",
    "TEAM_MEMBER_REMOVED",
}
ROUNDS = 4


async def trail(db: Any, support: PersonRecord, app_id: str) -> list[dict[str, Any]]:
    data = await gql(db, support, TRAIL, {"id": app_id})
    return sorted(data["app"]["auditTrail"]["nodes"], key=lambda e: e["version"] or 0)


async def assert_contact_authority(db: Any, support: PersonRecord, app_id: str) -> None:
    """Replay the technical contacts by version; each contact-right change by a non-Support
    actor happened while the actor was a technical contact."""
    contacts: list[str] = []
    for event in await trail(db, support, app_id):
        actor = event["actor"]["id"]
        if event["action"] in CONTACT_RIGHT and actor != pid(support):
            assert actor in contacts, f"{event['action']} by a non-contact: {event}, {contacts}"
        if event["after"] and "technical_contact_ids" in event["after"]:
            contacts = list(event["after"]["technical_contact_ids"])


async def both_orders(first: Awaitable[Any], second: Awaitable[Any], flip: bool) -> list[Any]:
    if flip:
        return list(reversed(await asyncio.gather(second, first)))
    return list(await asyncio.gather(first, second))


def codes(result: tuple[Any, list[dict[str, Any]]]) -> list[str]:
    return [error["code"] for error in result[1]]


@pytest.mark.parametrize("flip", [False, True])
async def test_contact_replaced_while_they_replace_themself(
    db: Any, support: PersonRecord, flip: bool
) -> None:
    """The issue's reproduction: Support replaces A by Y while A replaces themself by Z."""
    for index in range(ROUNDS):
        a = await make_person(db, f"a{index}@x.example", "A", f"a{index}")
        y = await make_person(db, f"y{index}@x.example", "Y", f"y{index}")
        z = await make_person(db, f"z{index}@x.example", "Z", f"z{index}")
        app = await create_app(db, support, a, "MENDIX_CLOUD")
        for person in (y, z):
            await run(db, support, "addTeamMember", appId=app["id"], personId=pid(person))
        by_support, by_a = await both_orders(
            run(db, support, "changeTechnicalContact", appId=app["id"], personId=pid(y)),
            run(db, a, "changeTechnicalContact", appId=app["id"], personId=pid(z)),
            flip,
        )
        assert codes(by_support) == []  # Support may always; A's change (if any) came first
        assert codes(by_a) in ([], ["FORBIDDEN"])
        await assert_contact_authority(db, support, app["id"])


@pytest.mark.parametrize(
    ("mutation", "hosting"),
    [
        ("addTeamMember", "MENDIX_CLOUD"),
        ("removeTeamMember", "MENDIX_CLOUD"),
        ("removeTechnicalContact", "ON_PREMISES"),
    ],
)
@pytest.mark.parametrize("flip", [False, True])
async def test_contact_loses_the_role_mid_flight(
    db: Any, support: PersonRecord, mutation: str, hosting: str, flip: bool
) -> None:
    """A acts on the app while Support takes the technical contact role away from A."""
    for index in range(ROUNDS):
        a = await make_person(db, f"a{index}@x.example", "A", f"a{index}")
        b = await make_person(db, f"b{index}@x.example", "B", f"b{index}")
        m = await make_person(db, f"m{index}@x.example", "M", f"m{index}")
        app = await create_app(db, support, a, hosting)
        await run(db, support, "addTeamMember", appId=app["id"], personId=pid(b))
        if hosting == "ON_PREMISES":
            await run(db, support, "addTechnicalContact", appId=app["id"], personId=pid(b))
            take_away = run(db, support, "removeTechnicalContact", appId=app["id"], personId=pid(a))
            target = b
        else:
            take_away = run(db, support, "changeTechnicalContact", appId=app["id"], personId=pid(b))
            target = m
        if mutation == "removeTeamMember":
            await run(db, support, "addTeamMember", appId=app["id"], personId=pid(m))
        by_support, by_a = await both_orders(
            take_away, run(db, a, mutation, appId=app["id"], personId=pid(target)), flip
        )
        assert codes(by_support) in ([], ["LAST_TECHNICAL_CONTACT"])
        assert codes(by_a) in ([], ["FORBIDDEN"], ["LAST_TECHNICAL_CONTACT"])
        await assert_contact_authority(db, support, app["id"])


@pytest.mark.parametrize("flip", [False, True])
async def test_grant_revoked_mid_flight(db: Any, support: PersonRecord, flip: bool) -> None:
    """A manager grants a right while the technical contact revokes their Manage
    permissions; a member starts an environment while their Transport rights are revoked."""
    for index in range(ROUNDS):
        c = await cloud(db, support, f"shop{index}")
        assert (await grant(db, c.contact, c.production, c.manager, "MANAGE_PERMISSIONS"))[
            "userErrors"
        ] == []
        assert (await grant(db, c.contact, c.acceptance, c.member, "TRANSPORT_RIGHTS"))[
            "userErrors"
        ] == []

        def env_input(env: str, person: PersonRecord, *rights: str) -> dict[str, Any]:
            return {"input": {"environmentId": env, "personId": pid(person), "rights": rights}}

        manage = env_input(c.production, c.manager, "MANAGE_PERMISSIONS")
        revoke_manage = gql(db, c.contact, REVOKE, manage)
        manager_grants = gql(db, c.manager, GRANT, env_input(c.production, c.member, "VIEW_LOGS"))
        revoked, granted = await both_orders(revoke_manage, manager_grants, flip)
        assert revoked["revokeEnvironmentRights"]["userErrors"] == []
        assert [e["code"] for e in granted["grantEnvironmentRights"]["userErrors"]] in (
            [],
            ["MISSING_RIGHT"],
        )
        revoke_transport = gql(
            db, c.contact, REVOKE, env_input(c.acceptance, c.member, "TRANSPORT_RIGHTS")
        )
        start = gql(
            db, c.member, SET_STATE, {"input": {"environmentId": c.acceptance, "state": "RUNNING"}}
        )
        revoked, started = await both_orders(revoke_transport, start, flip)
        assert revoked["revokeEnvironmentRights"]["userErrors"] == []
        assert [e["code"] for e in started["setEnvironmentState"]["userErrors"]] in (
            [],
            ["MISSING_RIGHT"],
        )
        await assert_rights_authority(db, c.app["id"], c.contact)


async def assert_rights_authority(db: Any, app_id: str, contact: PersonRecord) -> None:
    """Replay the grants by version (from the stored trail): each grant or revocation by
    someone other than the technical contact was made while they held Manage permissions
    there, each start/stop while they held Transport rights."""
    events = await db["audit_events"].find({"app_id": decode(app_id, "App")}).to_list(None)
    held: dict[tuple[Any, Any], set[str]] = {}
    for event in sorted(events, key=lambda e: e["version"] or 0):
        actor, env = event["actor_id"], event.get("environment_id")
        need = {
            "ENVIRONMENT_RIGHTS_GRANTED": "MANAGE_PERMISSIONS",
            "ENVIRONMENT_RIGHTS_REVOKED": "MANAGE_PERMISSIONS",
            "ENVIRONMENT_STATE_CHANGED": "TRANSPORT_RIGHTS",
        }.get(event["action"])
        if need is not None and actor != contact.id:
            assert need in held.get((env, actor), set()), (event, held)
        if event["action"].startswith("ENVIRONMENT_RIGHTS"):
            held[(env, event["person_id"])] = set(event["after"]["rights"])


@pytest.mark.parametrize("flip", [False, True])
async def test_member_removed_while_granted(db: Any, support: PersonRecord, flip: bool) -> None:
    """Granting to a member while Support removes them from the team: grants go to team
    members only, so no grant survives for someone off the team."""
    for index in range(ROUNDS):
        c = await cloud(db, support, f"team{index}")
        granting = grant(db, c.contact, c.production, c.member, "VIEW_LOGS")
        removing = run(db, support, "removeTeamMember", appId=c.app["id"], personId=pid(c.member))
        granted, removed = await both_orders(granting, removing, flip)
        assert codes(removed) == []
        assert [e["code"] for e in granted["userErrors"]] in ([], ["NOT_A_TEAM_MEMBER"])
        stored = await db["apps"].find_one({"_id": decode(c.app["id"], "App")})
        assert all(g["person_id"] in stored["member_ids"] for g in stored.get("grants", []))
