"""C3/C5: environments, grants and their rules; each refusal typed and changing nothing."""

from __future__ import annotations

import asyncio
from typing import Any

from store.people import PersonRecord
from tests.graph.cloud import (
    ENVIRONMENT,
    GRANT,
    REVOKE,
    SET_STATE,
    add_environment,
    cloud,
    grant,
    refused,
)
from tests.helpers import app_mutation, create_app, gql, make_person, pid, run

CONNECT = app_mutation("connectProject", "ConnectProjectInput")

TRAIL = """
query ($id: ID!) {
  app(id: $id) { auditTrail(first: 100, orderBy: {field: OCCURRED_AT, direction: ASC}) {
    nodes { action production environmentId before after actor { id } } } }
}"""

PERSON_GRANTS = """
query ($id: ID!) {
  node(id: $id) { ... on Person { environmentGrants {
    right environment { id name app { id } } } } }
}"""


def rights(env: dict[str, Any], person: PersonRecord) -> list[str]:
    return sorted(g["right"] for g in env["grants"] if g["person"]["id"] == pid(person))


async def env_as(db: Any, viewer: PersonRecord, env_id: str) -> dict[str, Any] | None:
    return (await gql(db, viewer, ENVIRONMENT, {"id": env_id}))["node"]


async def test_environments_come_with_mendix_alert_defaults(db: Any, support: PersonRecord) -> None:
    c = await cloud(db, support)
    env = await env_as(db, c.contact, c.production)
    assert env is not None and env["state"] == "NOT_DEPLOYED"
    thresholds = {t["category"]: t for t in env["alertSettings"]["thresholds"]}
    assert (thresholds["APP_DISK"]["warning"], thresholds["APP_DISK"]["critical"]) == (75, 85)
    assert (thresholds["APP_MEMORY"]["warning"], thresholds["APP_MEMORY"]["critical"]) == (90, 95)
    free = thresholds["DATABASE_FREE_SPACE"]
    assert (free["warning"], free["critical"], free["lowerIsWorse"]) == (25, 10, True)
    assert {s["status"] for s in env["alertStatus"]} == {"NORMAL"}
    assert env["alertSettings"]["emailEnabled"] is True
    trail = (await gql(db, support, TRAIL, {"id": c.app["id"]}))["app"]["auditTrail"]["nodes"]
    created = [e for e in trail if e["action"] == "ENVIRONMENT_CREATED"]
    assert [e["production"] for e in created] == [True, False]


async def test_add_environment_rules(db: Any, support: PersonRecord) -> None:
    c = await cloud(db, support)
    field = "addEnvironment"
    from tests.graph.cloud import ADD_ENVIRONMENT as DOC

    await refused(db, c.contact, DOC, field, "FORBIDDEN", appId=c.app["id"], name="Test")
    await refused(
        db, support, DOC, field, "DUPLICATE_ENVIRONMENT_NAME", appId=c.app["id"], name="Production"
    )
    onprem = await create_app(db, support, c.contact, "ON_PREMISES", "onprem")
    await refused(db, support, DOC, field, "WRONG_HOSTING_TYPE", appId=onprem["id"], name="Test")
    await refused(db, support, DOC, field, "BLANK", appId=c.app["id"], name="  ")
    await refused(db, c.outsider, DOC, field, "NOT_FOUND", appId=c.app["id"], name="Test")
    done = await add_environment(db, support, c.app["id"], "Test")
    assert done["userErrors"] == [] and done["environment"]["production"] is False


async def test_granting_rules(db: Any, support: PersonRecord) -> None:
    c = await cloud(db, support)
    f = "grantEnvironmentRights"
    env = c.production
    # only the technical contact grants Manage permissions
    ok = await grant(db, c.contact, env, c.manager, "MANAGE_PERMISSIONS")
    assert ok["userErrors"] == [] and rights(ok["environment"], c.manager) == ["MANAGE_PERMISSIONS"]
    await refused(
        db, c.manager, GRANT, f, "TECHNICAL_CONTACT_ONLY",
        environmentId=env, personId=pid(c.member), rights=["MANAGE_PERMISSIONS"],
    )  # fmt: skip
    # holders of Manage permissions grant the others, on that environment only
    ok = await grant(db, c.manager, env, c.member, "TRANSPORT_RIGHTS", "VIEW_LOGS")
    assert rights(ok["environment"], c.member) == ["TRANSPORT_RIGHTS", "VIEW_LOGS"]
    await refused(
        db, c.manager, GRANT, f, "MISSING_RIGHT",
        environmentId=c.acceptance, personId=pid(c.member), rights=["VIEW_LOGS"],
    )  # fmt: skip
    await refused(
        db, c.member, GRANT, f, "MISSING_RIGHT",
        environmentId=env, personId=pid(c.member), rights=["API_RIGHTS"],
    )  # fmt: skip
    await refused(
        db, support, GRANT, f, "MISSING_RIGHT",
        environmentId=env, personId=pid(c.member), rights=["API_RIGHTS"],
    )  # fmt: skip
    # team members only
    await refused(
        db, c.contact, GRANT, f, "NOT_A_TEAM_MEMBER",
        environmentId=env, personId=pid(c.outsider), rights=["VIEW_LOGS"],
    )  # fmt: skip
    await refused(
        db, c.contact, GRANT, f, "ALREADY_GRANTED",
        environmentId=env, personId=pid(c.member), rights=["VIEW_LOGS", "API_RIGHTS"],
    )  # fmt: skip
    await refused(
        db, c.outsider, GRANT, f, "NOT_FOUND",
        environmentId=env, personId=pid(c.outsider), rights=["VIEW_LOGS"],
    )  # fmt: skip
    # bad input
    await refused(
        db, c.contact, GRANT, f, "BLANK", environmentId=env, personId=pid(c.member), rights=[]
    )
    await refused(
        db, c.contact, GRANT, f, "INVALID_ID",
        environmentId=c.app["id"], personId=pid(c.member), rights=["VIEW_LOGS"],
    )  # fmt: skip


async def test_revoking_rules_and_the_audit_trail(db: Any, support: PersonRecord) -> None:
    c = await cloud(db, support)
    f = "revokeEnvironmentRights"
    env = c.production
    await grant(db, c.contact, env, c.manager, "MANAGE_PERMISSIONS")
    await grant(db, c.manager, env, c.member, "ACCESS_TO_BACKUPS", "API_RIGHTS")
    await refused(
        db, c.manager, REVOKE, f, "TECHNICAL_CONTACT_ONLY",
        environmentId=env, personId=pid(c.manager), rights=["MANAGE_PERMISSIONS"],
    )  # fmt: skip
    await refused(
        db, c.manager, REVOKE, f, "NOT_GRANTED",
        environmentId=env, personId=pid(c.member), rights=["API_RIGHTS", "VIEW_LOGS"],
    )  # fmt: skip
    await refused(
        db, c.member, REVOKE, f, "MISSING_RIGHT",
        environmentId=env, personId=pid(c.member), rights=["API_RIGHTS"],
    )  # fmt: skip
    data = await gql(
        db, c.manager, REVOKE,
        {"input": {"environmentId": env, "personId": pid(c.member), "rights": ["API_RIGHTS"]}},
    )  # fmt: skip
    payload = data[f]
    assert payload["userErrors"] == []
    assert rights(payload["environment"], c.member) == ["ACCESS_TO_BACKUPS"]
    trail = (await gql(db, support, TRAIL, {"id": c.app["id"]}))["app"]["auditTrail"]["nodes"]
    changes = [e for e in trail if e["action"].startswith("ENVIRONMENT_RIGHTS")]
    assert [(e["action"], e["production"], e["environmentId"]) for e in changes] == [
        ("ENVIRONMENT_RIGHTS_GRANTED", True, env),
        ("ENVIRONMENT_RIGHTS_GRANTED", True, env),
        ("ENVIRONMENT_RIGHTS_REVOKED", True, env),
    ]
    assert changes[-1]["before"]["rights"] == ["ACCESS_TO_BACKUPS", "API_RIGHTS"]
    assert changes[-1]["after"]["rights"] == ["ACCESS_TO_BACKUPS"]
    assert changes[-1]["actor"]["id"] == pid(c.manager)
    # non-production grants are marked as such
    await grant(db, c.contact, c.acceptance, c.member, "VIEW_LOGS")
    trail = (await gql(db, support, TRAIL, {"id": c.app["id"]}))["app"]["auditTrail"]["nodes"]
    assert trail[-1]["production"] is False


async def test_removing_a_member_removes_their_grants(db: Any, support: PersonRecord) -> None:
    c = await cloud(db, support)
    await grant(db, c.contact, c.production, c.member, "VIEW_LOGS")
    await grant(db, c.contact, c.acceptance, c.member, "TRANSPORT_RIGHTS")
    await grant(db, c.contact, c.acceptance, c.manager, "VIEW_LOGS")
    app, errors = await run(
        db, c.contact, "removeTeamMember", appId=c.app["id"], personId=pid(c.member)
    )
    assert errors == []
    stored = await db["apps"].find_one({"subdomain": "shop"})
    assert [g["person_id"] for g in stored["grants"]] == [c.manager.id]
    trail = (await gql(db, support, TRAIL, {"id": c.app["id"]}))["app"]["auditTrail"]["nodes"]
    revoked = [e for e in trail if e["action"] == "ENVIRONMENT_RIGHTS_REVOKED"]
    assert [(e["production"], e["after"]["rights"]) for e in revoked] == [(True, []), (False, [])]
    # back on the team, they start with nothing
    await run(db, c.contact, "addTeamMember", appId=app["id"], personId=pid(c.member))
    env = await gql(db, c.member, ENVIRONMENT, {"id": c.acceptance})
    assert env["node"]["viewerPermissions"]["rights"] == []


async def test_previous_technical_contact_keeps_only_explicit_grants(
    db: Any, support: PersonRecord
) -> None:
    c = await cloud(db, support)
    assert (await gql(db, c.contact, ENVIRONMENT, {"id": c.production}))["node"][
        "viewerPermissions"
    ]["rights"] == [
        "ACCESS_TO_BACKUPS", "ACCESS_TO_MONITORING", "API_RIGHTS", "MANAGE_PERMISSIONS",
        "TRANSPORT_RIGHTS", "VIEW_LOGS",
    ]  # fmt: skip
    await grant(db, c.contact, c.production, c.contact, "VIEW_LOGS")  # explicit, for later
    _, errors = await run(
        db, c.contact, "changeTechnicalContact", appId=c.app["id"], personId=pid(c.manager)
    )
    assert errors == []
    before = await env_as(db, c.contact, c.production)
    assert before is not None
    assert before["viewerPermissions"]["rights"] == ["VIEW_LOGS"]
    assert before["viewerPermissions"]["isTechnicalContact"] is False
    other = await env_as(db, c.contact, c.acceptance)
    assert other is not None and other["viewerPermissions"]["rights"] == []
    now = await env_as(db, c.manager, c.production)
    assert now is not None and now["viewerPermissions"]["canGrantManagePermissions"] is True
    await refused(
        db, c.contact, GRANT, "grantEnvironmentRights", "MISSING_RIGHT",
        environmentId=c.production, personId=pid(c.member), rights=["VIEW_LOGS"],
    )  # fmt: skip


async def test_connecting_a_project_resets_the_grants(db: Any, support: PersonRecord) -> None:
    c = await cloud(db, support)
    await grant(db, c.contact, c.production, c.manager, "MANAGE_PERMISSIONS")
    await grant(db, c.contact, c.acceptance, c.member, "VIEW_LOGS")
    f = "connectProject"
    await refused(
        db, c.manager, CONNECT, f, "TECHNICAL_CONTACT_ONLY", appId=c.app["id"], projectId="p-1"
    )
    await refused(
        db, support, CONNECT, f, "TECHNICAL_CONTACT_ONLY", appId=c.app["id"], projectId="p-1"
    )
    await refused(db, c.contact, CONNECT, f, "INVALID_FORMAT", appId=c.app["id"], projectId="a b")
    onprem = await create_app(db, support, c.contact, "ON_PREMISES", "onprem")
    await refused(
        db, c.contact, CONNECT, f, "WRONG_HOSTING_TYPE", appId=onprem["id"], projectId="p"
    )
    data = await gql(db, c.contact, CONNECT, {"input": {"appId": c.app["id"], "projectId": "p-1"}})
    assert data[f]["userErrors"] == []
    stored = await db["apps"].find_one({"subdomain": "shop"})
    assert stored["grants"] == [] and stored["project_id"] == "p-1"
    trail = (await gql(db, support, TRAIL, {"id": c.app["id"]}))["app"]["auditTrail"]["nodes"]
    actions = [e["action"] for e in trail][-3:]
    assert actions == [
        "PROJECT_CONNECTED",
        "ENVIRONMENT_RIGHTS_REVOKED",
        "ENVIRONMENT_RIGHTS_REVOKED",
    ]


async def test_start_stop_needs_transport_rights(db: Any, support: PersonRecord) -> None:
    c = await cloud(db, support)
    f = "setEnvironmentState"
    await refused(
        db, c.member, SET_STATE, f, "MISSING_RIGHT", environmentId=c.production, state="RUNNING"
    )
    await grant(db, c.contact, c.production, c.member, "TRANSPORT_RIGHTS")
    data = await gql(
        db, c.member, SET_STATE, {"input": {"environmentId": c.production, "state": "RUNNING"}}
    )
    assert data[f]["environment"]["state"] == "RUNNING"
    await refused(
        db, c.member, SET_STATE, f, "ALREADY_IN_STATE", environmentId=c.production, state="RUNNING"
    )
    await refused(
        db, c.member, SET_STATE, f, "MISSING_RIGHT", environmentId=c.acceptance, state="RUNNING"
    )


async def test_grants_queries_and_viewer_permissions(db: Any, support: PersonRecord) -> None:
    c = await cloud(db, support)
    other_contact = await make_person(db, "tc2@x.example", "Tim", "tim")
    other = await create_app(db, support, other_contact, "MENDIX_CLOUD", "other")
    await run(db, support, "addTeamMember", appId=other["id"], personId=pid(c.member))
    other_env = (await add_environment(db, support, other["id"], "Test"))["environment"]["id"]
    await grant(db, c.contact, c.production, c.member, "VIEW_LOGS")
    await grant(db, other_contact, other_env, c.member, "API_RIGHTS")
    await grant(db, c.contact, c.production, c.manager, "MANAGE_PERMISSIONS")
    # a person's grants across apps, scoped to what the viewer may see
    mine = (await gql(db, c.member, PERSON_GRANTS, {"id": pid(c.member)}))["node"]
    assert sorted(g["right"] for g in mine["environmentGrants"]) == ["API_RIGHTS", "VIEW_LOGS"]
    seen = (await gql(db, c.contact, PERSON_GRANTS, {"id": pid(c.member)}))["node"]
    assert [g["environment"]["id"] for g in seen["environmentGrants"]] == [c.production]
    # what the viewer may do here
    perms = {
        who: (await env_as(db, person, c.production))["viewerPermissions"]  # type: ignore[index]
        for who, person in (
            ("tc", c.contact),
            ("mgr", c.manager),
            ("mem", c.member),
            ("sup", support),
        )
    }
    assert perms["tc"]["canGrantManagePermissions"] and perms["tc"]["canConnectProject"]
    assert perms["mgr"]["canGrantRights"] and not perms["mgr"]["canGrantManagePermissions"]
    assert perms["mem"]["rights"] == ["VIEW_LOGS"] and not perms["mem"]["canGrantRights"]
    assert perms["sup"]["rights"] == [] and not perms["sup"]["canConnectProject"]
    assert await env_as(db, c.outsider, c.production) is None  # not disclosed


async def test_racing_grants_and_removal_never_leave_grants_of_non_members(
    db: Any, support: PersonRecord
) -> None:
    c = await cloud(db, support)
    await grant(db, c.contact, c.production, c.manager, "MANAGE_PERMISSIONS")
    same = await asyncio.gather(
        *(grant(db, c.manager, c.production, c.member, "VIEW_LOGS") for _ in range(10))
    )
    codes = sorted(str([e["code"] for e in p["userErrors"]]) for p in same)
    assert codes == ["['ALREADY_GRANTED']"] * 9 + ["[]"]
    calls: list[Any] = []
    for index in range(20):
        right = ["API_RIGHTS", "ACCESS_TO_BACKUPS", "TRANSPORT_RIGHTS"][index % 3]
        calls.append(
            grant(db, c.manager, c.acceptance if index % 2 else c.production, c.member, right)
        )
        if index == 7:
            calls.append(
                run(db, c.contact, "removeTeamMember", appId=c.app["id"], personId=pid(c.member))
            )
    await asyncio.gather(*calls)
    stored = await db["apps"].find_one({"subdomain": "shop"})
    assert c.member.id not in stored["member_ids"]
    assert all(g["person_id"] in stored["member_ids"] for g in stored["grants"])
