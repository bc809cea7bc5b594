"""commentOnSupportRequest states the commenter's right in a conditional write on the app
(store/gated.py) and is then applied to the request only while the request is at the
status its event names: a right lost, or the request closed, between the read and the write
refuses the comment with nothing written; a crash before any write leaves the comment once
or not at all. On both tiers."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from ownership.tasks import recover
from resolvers import support as support_cases
from store import apps as app_store
from store.people import PersonRecord
from tests.crashing import Crash, CrashingDatabase, writes_made
from tests.graph.test_gated_requests import World, between_read_and_write, make_world, submit
from tests.graph.test_record_crashes import no_pending
from tests.graph.test_support import COMMENT, RESOLVE, TRIAGE
from tests.helpers import dump, gql, pid, run

REQUEST = """
query ($id: ID!) {
  node(id: $id) { ... on SupportRequest { status comments { body author { id } } } }
  supportRequests(first: 1) { nodes { app { auditTrail(first: 100) {
    nodes { action version actor { id } after } } } } }
}"""


@pytest.fixture
async def world(db: Any, support: PersonRecord) -> World:
    return await make_world(db, support)


async def opened(world: World) -> str:
    request, codes = await submit(world, world.member, **question_input(world))
    assert codes == []
    return str(request["id"])


def question_input(world: World) -> dict[str, Any]:
    return {"kind": "QUESTION", "appId": world.app["id"], "subject": "Scale?", "body": "?",
            "impact": "LOW", "urgency": "LOW"}  # fmt: skip


async def comment(world: World, viewer: PersonRecord, request_id: str, body: str) -> Any:
    data = await gql(world.db, viewer, COMMENT, {"input": {"requestId": request_id, "body": body}})
    payload = data["commentOnSupportRequest"]
    return payload["supportRequest"], [error["code"] for error in payload["userErrors"]]


async def comments(world: World, request_id: str) -> list[str]:
    data = await gql(world.db, world.support, REQUEST, {"id": request_id})
    return [item["body"] for item in data["node"]["comments"]]


async def commented_events(world: World, request_id: str) -> list[dict[str, Any]]:
    data = await gql(world.db, world.support, REQUEST, {"id": request_id})
    nodes = data["supportRequests"]["nodes"][0]["app"]["auditTrail"]["nodes"]
    return [
        event
        for event in nodes
        if event["action"] == "SUPPORT_REQUEST_COMMENTED"
        and event["after"]["support_request_id"] == request_id
    ]


async def test_member_removed_mid_comment_is_refused(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    request_id = await opened(world)

    async def remove() -> None:
        _, errors = await run(
            world.db, world.support, "removeTeamMember",
            appId=world.app["id"], personId=pid(world.member),
        )  # fmt: skip
        assert errors == []

    seen = between_read_and_write(monkeypatch, app_store, remove, "get_app")
    assert await comment(world, world.member, request_id, "late") == (None, ["FORBIDDEN"])
    assert await dump(world.db) == seen["after"]


async def test_request_resolved_mid_comment_is_refused(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    request_id = await opened(world)

    async def resolve() -> None:
        data = await gql(world.db, world.support, RESOLVE, {"input": {"requestId": request_id}})
        assert data["resolveSupportRequest"]["userErrors"] == []

    seen = between_read_and_write(monkeypatch, app_store, resolve, "get_app")
    assert await comment(world, world.member, request_id, "late") == (None, ["REQUEST_NOT_OPEN"])
    assert await dump(world.db) == seen["after"]


async def test_a_status_change_meanwhile_is_read_again(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Triaged meanwhile (still open): the comment is added once, its event names TRIAGED."""
    request_id = await opened(world)

    async def triage() -> None:
        levels = {"requestId": request_id, "impact": "HIGH", "urgency": "HIGH"}
        data = await gql(world.db, world.support, TRIAGE, {"input": levels})
        assert data["triageSupportRequest"]["userErrors"] == []

    between_read_and_write(monkeypatch, app_store, triage, "get_app")
    request, codes = await comment(world, world.member, request_id, "hello")
    assert codes == [] and request["status"] == "TRIAGED"
    assert await comments(world, request_id) == ["hello"]
    (event,) = await commented_events(world, request_id)
    assert event["after"]["status"] == "TRIAGED"


async def test_a_comment_survives_a_crash_between_any_two_writes(world: World) -> None:
    request_id = await opened(world)
    data = {"request_id": request_id}

    def say(body: str) -> Any:
        return lambda target: support_cases.comment(target, world.member, {**data, "body": body})

    writes = await writes_made(world.db, say("first"))
    assert writes >= 4  # pushed into the app, applied, pulled, its event moved
    for at in range(writes):
        body = f"try {at}"
        with pytest.raises(Crash):
            await say(body)(CrashingDatabase(world.db, at))
        for _ in range(2):  # restart; running the recovery again changes nothing
            await recover(world.db)
            bodies = await comments(world, request_id)
            assert [item for item in bodies if item == body] == ([] if at == 0 else [body]), at
            assert len(await commented_events(world, request_id)) == len(bodies), at
    bodies = await comments(world, request_id)
    assert bodies == ["first"] + [f"try {at}" for at in range(1, writes)]
    assert len(await commented_events(world, request_id)) == len(bodies)
    for collection in ("apps", "support_requests"):
        assert await no_pending(world.db, collection)


async def test_removals_race_comments(db: Any, support: PersonRecord) -> None:
    """The member comments many times while Support removes them from the team: each
    answer that says done is one comment, refused ones none, and every comment's event
    names an app version at which the member was on the team."""
    for index in range(3):
        world = await make_world(db, support, f"-c{index}")
        request_id = await opened(world)
        said = [f"c{n}" for n in range(6)]
        removal = run(
            db, support, "removeTeamMember", appId=world.app["id"], personId=pid(world.member)
        )
        calls = [comment(world, world.member, request_id, body) for body in said]
        calls.insert(index * 2 + 1, removal)  # the removal starts among them, each round later
        answers = await asyncio.gather(*calls)
        assert answers.pop(index * 2 + 1)[1] == []  # the removal went through
        made = []
        for body, (record, codes) in zip(said, answers, strict=True):
            if record is not None:
                assert codes == [] and body in [item["body"] for item in record["comments"]]
                made.append(body)
            else:  # no longer on the team (and so no longer sees the request)
                assert codes in (["FORBIDDEN"], ["NOT_FOUND"]), codes
        assert sorted(await comments(world, request_id)) == sorted(made)
        await assert_comments_made_with_right(world, request_id)


async def assert_comments_made_with_right(world: World, request_id: str) -> None:
    data = await gql(world.db, world.support, REQUEST, {"id": request_id})
    nodes = data["supportRequests"]["nodes"][0]["app"]["auditTrail"]["nodes"]
    members: list[str] = []
    ordered = sorted(
        nodes, key=lambda e: (e["version"] or 0, e["action"].startswith("SUPPORT_REQUEST"))
    )
    for event in ordered:
        after = event["after"] or {}
        if event["action"] == "APP_CREATED":
            members = list(after["technical_contact_ids"])
        members = list(after.get("member_ids", members))
        if event["action"] == "SUPPORT_REQUEST_COMMENTED":
            assert event["actor"]["id"] in members, (event, members)
