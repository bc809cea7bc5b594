"""Apps through the GraphQL API: the order, team, account executive, scoped reads, paging."""

from __future__ import annotations

from typing import Any

import pytest

from store.people import PersonRecord
from tests.helpers import (
    CREATE_APP,
    create_app,
    dump,
    gql,
    gql_errors,
    ids,
    make_person,
    pid,
    refused,
    run,
)

APPS = """
query ($first: Int, $after: String, $last: Int, $before: String, $filter: AppsFilter) {
  apps(first: $first, after: $after, last: $last, before: $before, filter: $filter) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { subdomain } }
  }
}"""

NODE = """
query ($id: ID!, $ids: [ID!]!) {
  node(id: $id) { __typename id ... on App { subdomain } ... on Person { email } }
  nodes(ids: $ids) { id }
}"""


def _subdomains(data: dict[str, Any]) -> list[str]:
    return [edge["node"]["subdomain"] for edge in data["apps"]["edges"]]


async def test_app_requires_a_technical_contact(db: Any, support: PersonRecord) -> None:
    before = await dump(db)
    errors = await gql_errors(
        db,
        support,
        CREATE_APP,
        {"input": {"name": "X", "subdomain": "x", "hosting": "MENDIX_CLOUD"}},
    )
    assert "technicalContactId" in errors[0].message
    assert await dump(db) == before


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"subdomain": "taken"}, "DUPLICATE_SUBDOMAIN", "subdomain"),
        ({"subdomain": "TAKEN"}, "DUPLICATE_SUBDOMAIN", "subdomain"),
        ({"subdomain": "has space"}, "INVALID_FORMAT", "subdomain"),
        ({"subdomain": "-dash"}, "INVALID_FORMAT", "subdomain"),
        ({"subdomain": "a" * 64}, "TOO_LONG", "subdomain"),
        ({"subdomain": ""}, "BLANK", "subdomain"),
        ({"name": ""}, "BLANK", "name"),
        ({"name": "n" * 1000}, "TOO_LONG", "name"),
        ({"technicalContactId": "bogus"}, "INVALID_ID", "technicalContactId"),
        (
            {"technicalContactId": "UGVyc29uOjAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMA=="},
            "NOT_FOUND",
            "technicalContactId",
        ),
        ({"accountExecutiveId": "bogus"}, "INVALID_ID", "accountExecutiveId"),
    ],
)
async def test_bad_app_input_is_refused_and_nothing_written(
    db: Any, support: PersonRecord, change: dict[str, Any], code: str, field: str
) -> None:
    contact = await make_person(db, "c@example.com", "C", "c")
    await create_app(db, support, contact, subdomain="taken")
    before = await dump(db)
    input = {
        "name": "New",
        "subdomain": "new-app",
        "hosting": "ON_PREMISES",
        "technicalContactId": pid(contact),
        **change,
    }
    data = await gql(db, support, CREATE_APP, {"input": input})
    assert data["createApp"]["app"] is None
    assert [(e["code"], e["field"]) for e in data["createApp"]["userErrors"]] == [
        (code, ["input", field])
    ]
    assert await dump(db) == before


async def test_wrong_hosting_type_is_a_graphql_error(db: Any, support: PersonRecord) -> None:
    contact = await make_person(db, "c@example.com", "C", "c")
    before = await dump(db)
    input = {
        "name": "N",
        "subdomain": "n",
        "hosting": "SOMEWHERE",
        "technicalContactId": pid(contact),
    }
    errors = await gql_errors(db, support, CREATE_APP, {"input": input})
    assert "Hosting" in errors[0].message
    assert await dump(db) == before


async def test_only_support_creates_apps(db: Any, support: PersonRecord) -> None:
    contact = await make_person(db, "c@example.com", "C", "c")
    before = await dump(db)
    input = {
        "name": "N",
        "subdomain": "n",
        "hosting": "MENDIX_CLOUD",
        "technicalContactId": pid(contact),
    }
    data = await gql(db, contact, CREATE_APP, {"input": input})
    assert data["createApp"]["userErrors"][0]["code"] == "FORBIDDEN"
    assert await dump(db) == before


async def test_team_and_account_executive(db: Any, support: PersonRecord) -> None:
    contact = await make_person(db, "c@example.com", "C", "c")
    member = await make_person(db, "m@example.com", "M")
    seller = await make_person(db, "ae@mendix.example", "AE")
    app = await create_app(db, support, contact)
    updated, errors = await run(db, contact, "addTeamMember", appId=app["id"], personId=pid(member))
    assert errors == [] and updated is not None
    assert ids(updated["teamMembers"]) == [pid(contact), pid(member)]
    await refused(
        db, contact, "addTeamMember", "ALREADY_TEAM_MEMBER", appId=app["id"], personId=pid(member)
    )
    updated, errors = await run(
        db, support, "setAccountExecutive", appId=app["id"], personId=pid(seller)
    )
    assert errors == [] and updated is not None
    assert updated["accountExecutive"] == {"id": pid(seller)}
    await refused(
        db,
        support,
        "setAccountExecutive",
        "ALREADY_ACCOUNT_EXECUTIVE",
        appId=app["id"],
        personId=pid(seller),
    )
    # the account executive now sees the app
    seen = await gql(db, seller, APPS, {"first": 5})
    assert seen["apps"]["totalCount"] == 1
    updated, errors = await run(
        db, contact, "removeTeamMember", appId=app["id"], personId=pid(member)
    )
    assert errors == [] and updated is not None
    assert ids(updated["teamMembers"]) == [pid(contact)]
    await refused(
        db, contact, "removeTeamMember", "NOT_A_TEAM_MEMBER", appId=app["id"], personId=pid(member)
    )
    assert (await gql(db, member, APPS, {"first": 5}))["apps"]["totalCount"] == 0


async def test_apps_are_scoped_and_filtered(db: Any, support: PersonRecord) -> None:
    ann = await make_person(db, "ann@example.com", "Ann", "ann")
    bob = await make_person(db, "bob@example.com", "Bob")
    await create_app(db, support, ann, "MENDIX_CLOUD", "ann-cloud")
    await create_app(db, support, ann, "ON_PREMISES", "ann-onprem")
    await create_app(db, support, bob, "MENDIX_CLOUD", "bob-cloud")
    assert _subdomains(await gql(db, ann, APPS, {})) == ["ann-cloud", "ann-onprem"]
    assert _subdomains(await gql(db, bob, APPS, {})) == ["bob-cloud"]
    everything = await gql(db, support, APPS, {})
    assert everything["apps"]["totalCount"] == 3
    cloud = await gql(db, support, APPS, {"filter": {"hosting": "MENDIX_CLOUD"}})
    assert _subdomains(cloud) == ["ann-cloud", "bob-cloud"]
    by_contact = await gql(db, support, APPS, {"filter": {"technicalContactId": pid(bob)}})
    assert _subdomains(by_contact) == ["bob-cloud"]
    search = await gql(db, support, APPS, {"filter": {"search": "ONPREM"}})
    assert _subdomains(search) == ["ann-onprem"]
    regex = await gql(db, support, APPS, {"filter": {"search": ".*"}})
    assert regex["apps"]["totalCount"] == 0  # searched as text, not as a pattern
    ordered = await gql(db, support, APPS, {"filter": {"status": "DELIVERED"}})
    assert ordered["apps"]["totalCount"] == 0


async def test_keyset_pages_are_stable_under_inserts(db: Any, support: PersonRecord) -> None:
    contact = await make_person(db, "c@example.com", "C", "c")
    for index in range(5):
        await create_app(db, support, contact, subdomain=f"app-{index}")
    first = await gql(db, support, APPS, {"first": 2})
    assert _subdomains(first) == ["app-0", "app-1"]
    assert first["apps"]["pageInfo"]["hasNextPage"] is True
    await create_app(db, support, contact, subdomain="app-5")
    second = await gql(
        db, support, APPS, {"first": 2, "after": first["apps"]["pageInfo"]["endCursor"]}
    )
    assert _subdomains(second) == ["app-2", "app-3"]
    assert second["apps"]["pageInfo"]["hasPreviousPage"] is True
    assert second["apps"]["totalCount"] == 6
    last = await gql(db, support, APPS, {"last": 2})
    assert _subdomains(last) == ["app-4", "app-5"]
    assert last["apps"]["pageInfo"]["hasPreviousPage"] is True
    back = await gql(
        db, support, APPS, {"last": 2, "before": second["apps"]["pageInfo"]["startCursor"]}
    )
    assert _subdomains(back) == ["app-0", "app-1"]
    assert back["apps"]["pageInfo"]["hasNextPage"] is True


@pytest.mark.parametrize(
    ("variables", "code"),
    [
        ({"first": 101}, "PAGE_SIZE_EXCEEDED"),
        ({"first": -1}, "INVALID_INPUT"),
        ({"first": 1, "last": 1}, "INVALID_INPUT"),
        ({"after": "garbage"}, "INVALID_CURSOR"),
        ({"after": "QXBwOjZiMDkwYjdhYmI0Y2FkZDFiMTAyOTdmZg=="}, "INVALID_CURSOR"),
        ({"filter": {"search": "s" * 101}}, "TOO_LONG"),
        ({"filter": {"technicalContactId": "nope"}}, "INVALID_ID"),
    ],
)
async def test_bad_connection_arguments(
    db: Any, support: PersonRecord, variables: dict[str, Any], code: str
) -> None:
    errors = await gql_errors(db, support, APPS, variables)
    assert errors[0].extensions["code"] == code


async def test_node_lookup_is_scoped(db: Any, support: PersonRecord) -> None:
    ann = await make_person(db, "ann@example.com", "Ann", "ann")
    bob = await make_person(db, "bob@example.com", "Bob", "bob")
    app = await create_app(db, support, ann, subdomain="anns")
    mine = await gql(db, ann, NODE, {"id": app["id"], "ids": [app["id"], pid(ann), pid(bob)]})
    assert mine["node"] == {"__typename": "App", "id": app["id"], "subdomain": "anns"}
    assert mine["nodes"] == [{"id": app["id"]}, {"id": pid(ann)}, None]
    theirs = await gql(db, bob, NODE, {"id": app["id"], "ids": [app["id"], pid(ann)]})
    assert theirs == {"node": None, "nodes": [None, None]}
    assert (await gql(db, bob, "query ($id: ID!) { app(id: $id) { id } }", {"id": app["id"]})) == {
        "app": None
    }
    person = await gql(db, support, NODE, {"id": pid(bob), "ids": []})
    assert person["node"] == {"__typename": "Person", "id": pid(bob), "email": "bob@example.com"}


async def test_person_shows_apps_where_technical_contact(db: Any, support: PersonRecord) -> None:
    ann = await make_person(db, "ann@example.com", "Ann", "ann")
    await create_app(db, support, ann, subdomain="one")
    await create_app(db, support, ann, subdomain="two")
    query = (
        "{ viewer { hasMendixId technicalContactOf(first: 1) { totalCount nodes { subdomain } } } }"
    )
    data = await gql(db, ann, query)
    assert data["viewer"]["hasMendixId"] is True
    assert data["viewer"]["technicalContactOf"] == {
        "totalCount": 2,
        "nodes": [{"subdomain": "one"}],
    }


async def test_audit_trail_records_every_change(db: Any, support: PersonRecord) -> None:
    ann = await make_person(db, "ann@example.com", "Ann", "ann")
    bob = await make_person(db, "bob@example.com", "Bob", "bob")
    app = await create_app(db, support, ann)
    await run(db, ann, "addTeamMember", appId=app["id"], personId=pid(bob))
    await run(db, ann, "changeTechnicalContact", appId=app["id"], personId=pid(bob))
    await run(db, support, "deliverApp", appId=app["id"])
    query = """query ($id: ID!) { app(id: $id) {
      auditTrail(orderBy: {field: OCCURRED_AT, direction: ASC}) { totalCount
        nodes { id action version actor { email } at before after } }
      newest: auditTrail { nodes { action } } } }"""
    found = (await gql(db, bob, query, {"id": app["id"]}))["app"]
    trail = found["auditTrail"]
    actions = [(n["action"], n["version"], n["actor"]["email"]) for n in trail["nodes"]]
    newest = [node["action"] for node in found["newest"]["nodes"]]
    assert newest == [action for action, _, _ in reversed(actions)]  # newest first by default
    assert actions == [
        ("APP_CREATED", 1, "support@mendix.example"),
        ("TEAM_MEMBER_ADDED", 2, "ann@example.com"),
        ("TECHNICAL_CONTACT_CHANGED", 3, "ann@example.com"),
        ("APP_DELIVERED", 4, "support@mendix.example"),
    ]
    delivered = trail["nodes"][-1]
    assert delivered["before"] == {"status": "ORDERED", "delivered_at": None}
    assert delivered["after"]["status"] == "DELIVERED"
    event = await gql(db, bob, "query ($id: ID!) { node(id: $id) { id } }", {"id": delivered["id"]})
    assert event == {"node": {"id": delivered["id"]}}
    outsider = await make_person(db, "eve@example.com", "Eve")
    hidden = await gql(
        db, outsider, "query ($id: ID!) { node(id: $id) { id } }", {"id": delivered["id"]}
    )
    assert hidden == {"node": None}
