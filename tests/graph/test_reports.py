"""Reports through GraphQL: scoping (Support sees all), paging, bad input as typed errors."""

from __future__ import annotations

from typing import Any

import pytest

from store.people import PersonRecord
from tests.helpers import create_app, gql, gql_errors, make_person, pid, run

REPORTS = """
query ($first: Int, $after: String, $order: ContactOrder!, $filter: AppsFilter) {
  ownershipSummary { hosting status count }
  topTechnicalContacts(first: $first, after: $after, orderBy: $order) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage endCursor }
    edges {
      cursor
      node { appCount mendixCloudCount onPremisesCount orderedCount person { email } }
    }
  }
  inactive: appsWithInactiveTechnicalContact(first: 10, filter: $filter) {
    totalCount nodes { subdomain }
  }
  noMendixId: appsWithTechnicalContactWithoutMendixId(first: 10, filter: $filter) {
    totalCount nodes { subdomain }
  }
}"""

LOAD = """
query ($id: ID!) { technicalContactLoad(personId: $id) { appCount person { email } } }"""

SET_STATUS = """
mutation ($input: SetPersonStatusInput!) {
  setPersonStatus(input: $input) { userErrors { code } }
}"""


async def _world(db: Any, support: PersonRecord) -> dict[str, Any]:
    ann = await make_person(db, "ann@example.com", "Ann", "ann")
    bob = await make_person(db, "bob@example.com", "Bob", "bob")
    cy = await make_person(db, "cy@example.com", "Cy")
    a1 = await create_app(db, support, ann, subdomain="ann-1")
    await create_app(db, support, ann, "ON_PREMISES", subdomain="ann-2")
    await create_app(db, support, bob, subdomain="bob-1")
    await create_app(db, support, cy, "ON_PREMISES", subdomain="cy-1")
    _, errors = await run(db, support, "deliverApp", appId=a1["id"])
    assert errors == []
    data = await gql(
        db, support, SET_STATUS, {"input": {"personId": pid(bob), "status": "INACTIVE"}}
    )
    assert data["setPersonStatus"]["userErrors"] == []
    return {"ann": ann, "bob": bob, "cy": cy}


def _counts(data: dict[str, Any]) -> dict[tuple[str, str], int]:
    return {(row["hosting"], row["status"]): row["count"] for row in data["ownershipSummary"]}


async def test_support_sees_every_app(db: Any, support: PersonRecord) -> None:
    await _world(db, support)
    data = await gql(db, support, REPORTS, {"order": "APP_COUNT_DESC"})
    assert _counts(data) == {
        ("MENDIX_CLOUD", "ORDERED"): 1,
        ("MENDIX_CLOUD", "DELIVERED"): 1,
        ("ON_PREMISES", "ORDERED"): 2,
        ("ON_PREMISES", "DELIVERED"): 0,
    }
    top = data["topTechnicalContacts"]
    assert top["totalCount"] == 3
    first = top["edges"][0]["node"]
    assert first == {
        "appCount": 2,
        "mendixCloudCount": 1,
        "onPremisesCount": 1,
        "orderedCount": 1,
        "person": {"email": "ann@example.com"},
    }
    assert data["inactive"] == {"totalCount": 1, "nodes": [{"subdomain": "bob-1"}]}
    assert data["noMendixId"] == {"totalCount": 1, "nodes": [{"subdomain": "cy-1"}]}


async def test_paging_and_order(db: Any, support: PersonRecord) -> None:
    await _world(db, support)
    page = await gql(db, support, REPORTS, {"first": 1, "order": "APP_COUNT_ASC"})
    top = page["topTechnicalContacts"]
    assert top["edges"][0]["node"]["appCount"] == 1
    assert top["pageInfo"]["hasNextPage"] and not top["pageInfo"]["hasPreviousPage"]
    seen = [top["edges"][0]["node"]["person"]["email"]]
    cursor = top["pageInfo"]["endCursor"]
    while cursor:
        data = await gql(
            db, support, REPORTS, {"first": 1, "after": cursor, "order": "APP_COUNT_ASC"}
        )
        top = data["topTechnicalContacts"]
        seen += [edge["node"]["person"]["email"] for edge in top["edges"]]
        cursor = top["pageInfo"]["endCursor"] if top["pageInfo"]["hasNextPage"] else None
    assert seen[-1] == "ann@example.com" and sorted(seen) == sorted(set(seen)) and len(seen) == 3


async def test_at_risk_is_filterable(db: Any, support: PersonRecord) -> None:
    await _world(db, support)
    data = await gql(
        db, support, REPORTS, {"order": "APP_COUNT_DESC", "filter": {"hosting": "MENDIX_CLOUD"}}
    )
    assert data["inactive"]["totalCount"] == 1
    assert data["noMendixId"]["totalCount"] == 0


async def test_a_viewer_sees_only_their_apps(db: Any, support: PersonRecord) -> None:
    world = await _world(db, support)
    data = await gql(db, world["cy"], REPORTS, {"order": "APP_COUNT_DESC"})
    assert sum(_counts(data).values()) == 1
    assert data["topTechnicalContacts"]["totalCount"] == 1
    assert data["inactive"]["totalCount"] == 0
    assert data["noMendixId"]["totalCount"] == 1
    # ann is not on cy's app: her load is hidden; cy's own load counts
    hidden = await gql(db, world["cy"], LOAD, {"id": pid(world["ann"])})
    assert hidden == {"technicalContactLoad": None}
    own = await gql(db, world["cy"], LOAD, {"id": pid(world["cy"])})
    assert own["technicalContactLoad"]["appCount"] == 1
    everyone = await gql(db, support, LOAD, {"id": pid(world["ann"])})
    assert everyone["technicalContactLoad"] == {
        "appCount": 2,
        "person": {"email": "ann@example.com"},
    }


@pytest.mark.parametrize(
    ("variables", "code"),
    [
        ({"first": 101}, "PAGE_SIZE_EXCEEDED"),
        ({"first": -1}, "INVALID_INPUT"),
        ({"after": "bm90LWEtY3Vyc29y"}, "INVALID_CURSOR"),
        ({"after": "x" * 200}, "INVALID_CURSOR"),
        ({"filter": {"search": "s" * 101}}, "TOO_LONG"),
        ({"filter": {"technicalContactId": "bogus"}}, "INVALID_ID"),
    ],
)
async def test_bad_arguments_are_typed_errors(
    db: Any, support: PersonRecord, variables: dict[str, Any], code: str
) -> None:
    await _world(db, support)
    errors = await gql_errors(db, support, REPORTS, {"order": "APP_COUNT_DESC", **variables})
    assert {error.extensions["code"] for error in errors} == {code}


async def test_bad_person_id_and_order(db: Any, support: PersonRecord) -> None:
    errors = await gql_errors(db, support, LOAD, {"id": "bogus"})
    assert errors[0].extensions["code"] == "INVALID_ID"
    errors = await gql_errors(db, support, REPORTS, {"order": "NOPE"})
    assert "NOPE" in errors[0].message
