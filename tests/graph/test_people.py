"""People through the GraphQL API: creation, MendixID, status, bad input, scoped reads."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from store.people import PersonRecord, Role
from tests.helpers import create_app, dump, gql, make_person, pid, run

CREATE = """
mutation ($input: CreatePersonInput!) {
  createPerson(input: $input) {
    person { id email name mendixId hasMendixId status }
    userErrors { field message code }
  }
}"""

REGISTER = """
mutation ($input: RegisterMendixIdInput!) {
  registerMendixId(input: $input) { person { mendixId } userErrors { field code } }
}"""

SET_STATUS = """
mutation ($input: SetPersonStatusInput!) {
  setPersonStatus(input: $input) { person { status } userErrors { field code } }
}"""

PEOPLE = """
query ($first: Int, $after: String, $filter: PeopleFilter) {
  people(first: $first, after: $after, filter: $filter) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { email }
  }
}"""


async def test_create_person_normalises_email(db: Any, support: PersonRecord) -> None:
    data = await gql(
        db, support, CREATE, {"input": {"email": " Ann@Example.COM ", "name": " Ann "}}
    )
    payload = data["createPerson"]
    assert payload["userErrors"] == []
    assert payload["person"]["email"] == "ann@example.com"
    assert payload["person"]["name"] == "Ann"
    assert payload["person"]["hasMendixId"] is False
    assert payload["person"]["status"] == "ACTIVE"


@pytest.mark.parametrize(
    ("input", "code", "field"),
    [
        ({"email": "not-an-email", "name": "X"}, "INVALID_EMAIL", "email"),
        ({"email": "", "name": "X"}, "BLANK", "email"),
        ({"email": "a@example.com", "name": "   "}, "BLANK", "name"),
        ({"email": "a@example.com", "name": "x" * 201}, "TOO_LONG", "name"),
        ({"email": ("a" * 250) + "@example.com", "name": "X"}, "TOO_LONG", "email"),
        (
            {"email": "a@example.com", "name": "X", "mendixId": "bad id!"},
            "INVALID_FORMAT",
            "mendixId",
        ),
        ({"email": "a@example.com", "name": "X", "mendixId": "m" * 300}, "TOO_LONG", "mendixId"),
        ({"email": "taken@example.com", "name": "X"}, "DUPLICATE_EMAIL", "email"),
        ({"email": "TAKEN@example.com", "name": "X"}, "DUPLICATE_EMAIL", "email"),
        (
            {"email": "b@example.com", "name": "X", "mendixId": "taken"},
            "DUPLICATE_MENDIX_ID",
            "mendixId",
        ),
        ({"email": {"$gt": ""}, "name": "X"}, None, None),
    ],
)
async def test_bad_person_input_is_refused_and_nothing_written(
    db: Any, support: PersonRecord, input: dict[str, Any], code: str | None, field: str | None
) -> None:
    await make_person(db, "taken@example.com", "Taken", mendix_id="taken")
    before = await dump(db)
    from graph.context import Context, Loaders
    from graph.schema import schema

    result = await schema.execute(
        CREATE,
        variable_values={"input": input},
        context_value=Context(db=db, viewer=support, loaders=Loaders.create(db)),
    )
    if code is None:  # an operator document is not a String: refused by GraphQL itself
        assert result.errors and "String" in result.errors[0].message
    else:
        assert result.errors is None
        payload = result.data["createPerson"]  # type: ignore[index]
        assert payload["person"] is None
        assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
            (code, ["input", field])
        ]
        assert all(e["message"] for e in payload["userErrors"])
    assert await dump(db) == before


async def test_mendix_id_is_registered_once_by_the_person(db: Any, support: PersonRecord) -> None:
    ann = await make_person(db, "ann@example.com", "Ann")
    bob = await make_person(db, "bob@example.com", "Bob", mendix_id="bob")
    before = await dump(db)
    data = await gql(db, bob, REGISTER, {"input": {"personId": pid(ann), "mendixId": "ann"}})
    assert data["registerMendixId"]["userErrors"] == [{"field": None, "code": "FORBIDDEN"}]
    data = await gql(db, ann, REGISTER, {"input": {"personId": pid(ann), "mendixId": "bob"}})
    assert data["registerMendixId"]["userErrors"] == [
        {"field": ["input", "mendixId"], "code": "DUPLICATE_MENDIX_ID"}
    ]
    assert await dump(db) == before
    data = await gql(db, ann, REGISTER, {"input": {"personId": pid(ann), "mendixId": "ann"}})
    assert data["registerMendixId"] == {"person": {"mendixId": "ann"}, "userErrors": []}
    before = await dump(db)
    data = await gql(db, support, REGISTER, {"input": {"personId": pid(ann), "mendixId": "ann2"}})
    assert data["registerMendixId"]["userErrors"] == [
        {"field": ["input", "personId"], "code": "MENDIX_ID_ALREADY_SET"}
    ]
    assert await dump(db) == before


@pytest.mark.parametrize(
    ("person_id", "code"),
    [
        ("", "INVALID_ID"),
        ("not-base64!", "INVALID_ID"),
        ("QXBwOjZiMDkwYjdhYmI0Y2FkZDFiMTAyOTdmZg==", "INVALID_ID"),  # an App ID
        ("UGVyc29uOjEyMw==", "INVALID_ID"),  # Person:123
        ("UGVyc29uOjAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMA==", "NOT_FOUND"),
        ("x" * 5000, "INVALID_ID"),
    ],
)
async def test_unknown_and_malformed_ids(
    db: Any, support: PersonRecord, person_id: str, code: str
) -> None:
    before = await dump(db)
    data = await gql(db, support, REGISTER, {"input": {"personId": person_id, "mendixId": "m"}})
    assert data["registerMendixId"]["person"] is None
    assert data["registerMendixId"]["userErrors"] == [
        {"field": ["input", "personId"], "code": code}
    ]
    assert await dump(db) == before


async def test_only_support_sets_status(db: Any, support: PersonRecord) -> None:
    ann = await make_person(db, "ann@example.com", "Ann")
    data = await gql(db, ann, SET_STATUS, {"input": {"personId": pid(ann), "status": "INACTIVE"}})
    assert data["setPersonStatus"]["userErrors"] == [{"field": None, "code": "FORBIDDEN"}]
    data = await gql(
        db, support, SET_STATUS, {"input": {"personId": pid(ann), "status": "INACTIVE"}}
    )
    assert data["setPersonStatus"] == {"person": {"status": "INACTIVE"}, "userErrors": []}


async def test_people_are_scoped_to_the_viewers_apps(db: Any, support: PersonRecord) -> None:
    ann = await make_person(db, "ann@example.com", "Ann", "ann")
    bob = await make_person(db, "bob@example.com", "Bob", "bob")
    await make_person(db, "eve@example.com", "Eve", "eve")
    app = await create_app(db, support, ann)
    await run(db, support, "addTeamMember", appId=app["id"], personId=pid(bob))
    seen = await gql(db, ann, PEOPLE, {"first": 10})
    assert sorted(node["email"] for node in seen["people"]["nodes"]) == [
        "ann@example.com",
        "bob@example.com",
    ]
    everyone = await gql(db, support, PEOPLE, {"first": 10})
    assert everyone["people"]["totalCount"] == 4
    node = await gql(db, ann, "query ($id: ID!) { node(id: $id) { id } }", {"id": pid(support)})
    assert node == {"node": None}


async def test_people_filters_and_pages(db: Any, support: PersonRecord) -> None:
    for index in range(7):
        await make_person(
            db, f"p{index}@example.com", f"Person {index}", f"m{index}" if index % 2 else None
        )
    without = await gql(db, support, PEOPLE, {"first": 10, "filter": {"hasMendixId": False}})
    # support has no MendixID here; p0, p2, p4, p6 neither
    assert without["people"]["totalCount"] == 5
    search = await gql(db, support, PEOPLE, {"first": 10, "filter": {"search": "person 3"}})
    assert [n["email"] for n in search["people"]["nodes"]] == ["p3@example.com"]
    page = await gql(db, support, PEOPLE, {"first": 3})
    emails = [n["email"] for n in page["people"]["nodes"]]
    while page["people"]["pageInfo"]["hasNextPage"]:
        cursor = page["people"]["pageInfo"]["endCursor"]
        page = await gql(db, support, PEOPLE, {"first": 3, "after": cursor})
        emails += [n["email"] for n in page["people"]["nodes"]]
    assert len(emails) == 8 and len(set(emails)) == 8


def _status(person: PersonRecord, status: str) -> dict[str, Any]:
    return {"input": {"personId": pid(person), "status": status}}


async def test_the_last_active_support_cannot_be_deactivated(
    db: Any, support: PersonRecord
) -> None:
    before = await dump(db)
    data = await gql(db, support, SET_STATUS, _status(support, "INACTIVE"))
    assert data["setPersonStatus"] == {
        "person": None,
        "userErrors": [{"field": ["input", "personId"], "code": "LAST_SUPPORT"}],
    }
    assert await dump(db) == before
    other = await make_person(db, "s2@mendix.example", "Sue", roles=(Role.SUPPORT,))
    data = await gql(db, support, SET_STATUS, _status(support, "INACTIVE"))
    assert data["setPersonStatus"]["userErrors"] == []  # another one is active now
    data = await gql(db, other, SET_STATUS, _status(other, "INACTIVE"))
    assert data["setPersonStatus"]["userErrors"] == [
        {"field": ["input", "personId"], "code": "LAST_SUPPORT"}
    ]


async def test_two_supports_deactivating_each_other_leave_one_active(
    db: Any, support: PersonRecord
) -> None:
    active = support
    for index in range(4):
        other = await make_person(db, f"s{index}@mendix.example", "S", roles=(Role.SUPPORT,))
        results = await asyncio.gather(
            gql(db, active, SET_STATUS, _status(other, "INACTIVE")),
            gql(db, other, SET_STATUS, _status(active, "INACTIVE")),
        )
        outcomes = sorted([e["code"] for e in r["setPersonStatus"]["userErrors"]] for r in results)
        assert outcomes == [[], ["LAST_SUPPORT"]]
        alive = await db["people"].count_documents({"roles": "SUPPORT", "status": "ACTIVE"})
        assert alive == 1
        survivor = await db["people"].find_one({"roles": "SUPPORT", "status": "ACTIVE"})
        active = active if survivor["_id"] == active.id else other


async def test_status_change_is_recorded_with_it(db: Any, support: PersonRecord) -> None:
    ann = await make_person(db, "ann@example.com", "Ann")
    await gql(db, support, SET_STATUS, _status(ann, "INACTIVE"))
    await gql(db, support, SET_STATUS, _status(ann, "INACTIVE"))  # no change, no event
    events = await db["audit_events"].find({"person_id": ann.id}).to_list(None)
    assert [(e["action"], e["before"], e["after"]) for e in events] == [
        ("PERSON_STATUS_CHANGED", {"status": "ACTIVE"}, {"status": "INACTIVE"})
    ]
    stored = await db["people"].find_one({"_id": ann.id})
    assert "pending_events" not in stored
