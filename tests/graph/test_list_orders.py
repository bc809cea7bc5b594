"""orderBy on people, support requests, notifications and audit trails through GraphQL: each
order read whole and walked page by page both ways must be the independently sorted list."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from bson import ObjectId

from store import apps as app_store
from store import notifications as outbox
from store import support as support_store
from store.apps import Hosting
from store.gated import Gate
from store.people import PersonRecord
from store.support import Level, RequestKind, RequestStatus
from tests.helpers import gid, gql, gql_errors, make_person

PEOPLE = """
query ($first: Int, $after: String, $last: Int, $before: String, $order: PersonOrder) {
  people(first: $first, after: $after, last: $last, before: $before, orderBy: $order) {
    totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    nodes { id email name }
  }
}"""
REQUESTS = """
query ($first: Int, $after: String, $last: Int, $before: String,
       $order: SupportRequestOrder) {
  supportRequests(first: $first, after: $after, last: $last, before: $before, orderBy: $order) {
    totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    nodes { id subject priority }
  }
}"""
NOTIFICATIONS = """
query ($order: NotificationOrder, $person: ID!) {
  notifications(orderBy: $order) { nodes { subject } }
  node(id: $person) { ... on Person { notifications(orderBy: $order) { nodes { subject } } } }
}"""


async def _walk(db: Any, viewer: PersonRecord, document: str, root: str, order: Any) -> tuple:
    """The list read forwards two at a time, then backwards two at a time."""
    forwards: list[dict[str, Any]] = []
    after = None
    while True:
        variables = {"first": 2, "after": after, "order": order}
        page = (await gql(db, viewer, document, variables))[root]
        forwards += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    backwards: list[dict[str, Any]] = []
    before = None
    while True:
        variables = {"last": 2, "before": before, "order": order}
        page = (await gql(db, viewer, document, variables))[root]
        backwards = page["nodes"] + backwards
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before = page["pageInfo"]["startCursor"]
    return forwards, backwards


@pytest.mark.parametrize("field", ["NAME", "EMAIL"])
@pytest.mark.parametrize("direction", ["ASC", "DESC"])
async def test_people_in_order(db: Any, support: PersonRecord, field: str, direction: str) -> None:
    people = [("zed@x.example", "Ann"), ("bob@x.example", "Zoe"), ("al@x.example", "Ann")]
    for email, name in people:
        await make_person(db, email, name)
    whole = (await gql(db, support, PEOPLE, {"first": 100}))["people"]["nodes"]
    key = "name" if field == "NAME" else "email"
    expected = sorted(whole, key=lambda node: (node[key], ObjectId(_key(node["id"]))))
    if direction == "DESC":
        expected.reverse()
    order = {"field": field, "direction": direction}
    forwards, backwards = await _walk(db, support, PEOPLE, "people", order)
    assert forwards == backwards == expected


def _key(global_id: str) -> str:
    from resolvers.ids import decode

    key = decode(global_id, "Person")
    assert key is not None
    return str(key)


async def _requests(db: Any, support: PersonRecord) -> list[str]:
    tess = await make_person(db, "tess@x.example", "Tess", "tess")
    app = await app_store.create_app(
        db, name="A", subdomain="a", hosting=Hosting.ON_PREMISES, technical_contact_id=tess.id
    )
    levels = [(Level.LOW, Level.LOW), (Level.HIGH, Level.HIGH), (Level.MEDIUM, Level.LOW)]
    levels += [(Level.HIGH, Level.MEDIUM), (Level.LOW, Level.LOW), (Level.HIGH, Level.HIGH)]
    subjects = []
    for index, (impact, urgency) in enumerate(levels):
        await support_store.create_request(
            db, kind=RequestKind.QUESTION, app_id=app.id, requester_id=tess.id,
            subject=f"r{index}", body="?", impact=impact, urgency=urgency,
            gate=Gate(app.version),
        )  # fmt: skip
        subjects.append(f"r{index}")
    return subjects


@pytest.mark.parametrize("direction", ["ASC", "DESC"])
async def test_support_requests_by_priority(db: Any, support: PersonRecord, direction: str) -> None:
    await _requests(db, support)
    # priorities: r0 LOW, r1 CRITICAL, r2 LOW, r3 HIGH, r4 LOW, r5 CRITICAL; ties by id
    expected = ["r0", "r2", "r4", "r3", "r1", "r5"]
    if direction == "DESC":
        expected.reverse()
    order = {"field": "PRIORITY", "direction": direction}
    forwards, backwards = await _walk(db, support, REQUESTS, "supportRequests", order)
    assert [node["subject"] for node in forwards] == expected
    assert forwards == backwards


async def test_support_requests_by_update(db: Any, support: PersonRecord) -> None:
    await _requests(db, support)
    oldest = (await gql(db, support, REQUESTS, {"first": 1}))["supportRequests"]["nodes"][0]
    from resolvers.ids import decode

    key = decode(oldest["id"], "SupportRequest")
    assert key is not None
    await asyncio.sleep(0.01)  # stored times have millisecond precision: update a later one
    assert await support_store.add_comment(
        db, key, support.id, "Looking into it", RequestStatus.NEW
    )
    order = {"field": "UPDATED_AT", "direction": "DESC"}
    data = (await gql(db, support, REQUESTS, {"order": order}))["supportRequests"]
    assert [node["subject"] for node in data["nodes"]] == ["r0", "r5", "r4", "r3", "r2", "r1"]
    created = {"field": "CREATED_AT", "direction": "DESC"}
    data = (await gql(db, support, REQUESTS, {"order": created}))["supportRequests"]
    assert [node["subject"] for node in data["nodes"]] == ["r5", "r4", "r3", "r2", "r1", "r0"]


async def test_notifications_newest_first_by_default(db: Any, support: PersonRecord) -> None:
    tess = await make_person(db, "tess@x.example", "Tess", "tess")
    for index in range(4):
        await outbox.enqueue(
            db, kind=outbox.NotificationKind.MAINTENANCE, dedupe_key=f"m{index}",
            recipient_id=tess.id, to_email=tess.email, subject=f"m{index}", body=".",
        )  # fmt: skip
    variables: dict[str, Any] = {"person": gid("Person", tess.id)}
    data = await gql(db, tess, NOTIFICATIONS, variables)
    newest = ["m3", "m2", "m1", "m0"]
    assert [node["subject"] for node in data["notifications"]["nodes"]] == newest
    assert [node["subject"] for node in data["node"]["notifications"]["nodes"]] == newest
    variables["order"] = {"field": "CREATED_AT", "direction": "ASC"}
    data = await gql(db, tess, NOTIFICATIONS, variables)
    assert [node["subject"] for node in data["notifications"]["nodes"]] == newest[::-1]
    variables["order"] = {"field": "CREATED_AT"}  # the direction defaults to DESC
    data = await gql(db, tess, NOTIFICATIONS, variables)
    assert [node["subject"] for node in data["notifications"]["nodes"]] == newest


async def test_an_unknown_order_field_is_a_validation_error(db: Any, support: PersonRecord) -> None:
    errors = await gql_errors(db, support, PEOPLE, {"order": {"field": "AGE"}})
    assert "AGE" in errors[0].message
