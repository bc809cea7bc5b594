"""node(id:) / nodes(ids:) and ID arguments: null for every ID that is not a visible node,
INVALID_ID for a malformed one, never an "Unexpected server error"."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from bson import ObjectId

from store.people import PersonRecord
from tests.helpers import create_app, gid, gql, gql_errors, make_person, pid

NODE = "query ($id: ID!) { node(id: $id) { __typename id } }"
NODES = "query ($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }"
APP = "query ($id: ID!) { app(id: $id) { id } }"
LOAD = "query ($id: ID!) { technicalContactLoad(personId: $id) { appCount } }"


def raw(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


NOT_VISIBLE = {
    "a MaintenanceWindow": lambda: gid("MaintenanceWindow", ObjectId()),
    "a LicenseExpansionRequest": lambda: gid("LicenseExpansionRequest", ObjectId()),
    "a type that is not a node": lambda: gid("UserError", ObjectId()),
    "the Node interface": lambda: gid("Node", ObjectId()),
    "an unknown type": lambda: gid("Spaceship", ObjectId()),
    "a node type with a key that is no object ID": lambda: raw("App:42"),
    "an app that does not exist": lambda: gid("App", ObjectId()),
}

MALFORMED = {
    "empty": "",
    "not base64": "App:abc",
    "base64 without a type": raw("no-colon-here"),
    "base64 with an empty key": raw("App:"),
    "base64 with a bad type name": raw("A pp:" + str(ObjectId())),
    "not UTF-8": base64.b64encode(b"\xff\xfe:x").decode(),
    "too long": raw("App:" + "a" * 200),
}


@pytest.fixture
async def ann(db: Any) -> PersonRecord:
    return await make_person(db, "ann@acme.example", "Ann", "ann")


@pytest.mark.parametrize("name", list(NOT_VISIBLE))
async def test_an_id_that_is_no_visible_node_answers_null(
    db: Any, ann: PersonRecord, name: str
) -> None:
    value = NOT_VISIBLE[name]()
    assert await gql(db, ann, NODE, {"id": value}) == {"node": None}
    assert await gql(db, ann, NODES, {"ids": [value, pid(ann)]}) == {
        "nodes": [None, {"__typename": "Person", "id": pid(ann)}]
    }


@pytest.mark.parametrize("name", list(MALFORMED))
async def test_a_malformed_id_is_invalid_id(db: Any, ann: PersonRecord, name: str) -> None:
    value = MALFORMED[name]
    (error,) = await gql_errors(db, ann, NODE, {"id": value})
    assert error.extensions == {"code": "INVALID_ID", "field": ["id"]}
    (error,) = await gql_errors(db, ann, NODES, {"ids": [pid(ann), value]})
    assert error.extensions == {"code": "INVALID_ID", "field": ["ids", "1"]}


ARGUMENTS = {
    "app(id:)": (APP, ["id"]),
    "technicalContactLoad(personId:)": (LOAD, ["personId"]),
    "apps(filter: {technicalContactId:})": (
        "query ($id: ID!) { apps(first: 5, filter: {technicalContactId: $id}) { totalCount } }",
        ["filter", "technicalContactId"],
    ),
    "notifications(filter: {recipientId:})": (
        "query ($id: ID!) { notifications(first: 5, filter: {recipientId: $id}) { totalCount } }",
        ["filter", "recipientId"],
    ),
}


@pytest.mark.parametrize("name", ["empty", "not base64", "base64 without a type"])
@pytest.mark.parametrize("argument", list(ARGUMENTS))
async def test_a_malformed_id_argument_is_invalid_id(
    db: Any, ann: PersonRecord, name: str, argument: str
) -> None:
    document, field = ARGUMENTS[argument]
    (error,) = await gql_errors(db, ann, document, {"id": MALFORMED[name]})
    assert error.extensions["code"] == "INVALID_ID"
    assert error.extensions["field"] == field


async def test_a_malformed_environment_id_on_app_alerts_is_invalid_id(
    db: Any, support: PersonRecord, ann: PersonRecord
) -> None:
    app = await create_app(db, support, ann, "MENDIX_CLOUD", "alerting")
    document = (
        "query ($id: ID!, $env: ID) { app(id: $id) { alerts(environmentId: $env) { totalCount } } }"
    )
    for value in ("", "nope", gid("App", ObjectId())):
        (error,) = await gql_errors(db, ann, document, {"id": app["id"], "env": value})
        assert error.extensions["code"] == "INVALID_ID"


async def test_nodes_keeps_order_across_types_and_hides_what_the_viewer_may_not_see(
    db: Any, support: PersonRecord, ann: PersonRecord
) -> None:
    bob = await make_person(db, "bob@acme.example", "Bob", "bob")
    mine = await create_app(db, support, ann, "MENDIX_CLOUD", "mine")
    theirs = await create_app(db, support, bob, "MENDIX_CLOUD", "theirs")
    ids = [theirs["id"], mine["id"], pid(bob), pid(ann), gid("MaintenanceWindow", ObjectId())]
    data = await gql(db, ann, NODES, {"ids": ids})
    assert data["nodes"] == [
        None,
        {"__typename": "App", "id": mine["id"]},
        None,
        {"__typename": "Person", "id": pid(ann)},
        None,
    ]
    data = await gql(db, support, NODES, {"ids": ids})
    assert [node and node["id"] for node in data["nodes"]] == [*ids[:4], None]


async def test_nodes_takes_at_most_a_hundred_ids(db: Any, ann: PersonRecord) -> None:
    (error,) = await gql_errors(db, ann, NODES, {"ids": [pid(ann)] * 101})
    # refused before execution by the list-argument limit (graph/cost.py)
    assert error.extensions == {"code": "LIST_SIZE_EXCEEDED", "argument": "$ids", "size": 101}
    data = await gql(db, ann, NODES, {"ids": [pid(ann)] * 100})
    assert len(data["nodes"]) == 100
