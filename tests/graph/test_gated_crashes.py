"""A request made under a right on its app (store/gated.py) survives a crash between any two
writes (tests/crashing.py): after the periodic task's recovery there is one request, one
audit event (and for an expansion one email) and nothing pending, or nothing at all. While
a crash leaves it pending in the app, the app reads, versions and rollups are as before."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from ownership.tasks import recover
from resolvers import support as support_cases
from resolvers.ids import decode
from store import rollup_reads
from store.people import PersonRecord
from tests.crashing import Crash, CrashingDatabase, writes_made
from tests.graph.test_gated_requests import World, make_world, state
from tests.graph.test_record_crashes import no_pending
from tests.helpers import gql, pid, run

READ = """
query ($id: ID!) {
  app(id: $id) {
    name version hosting status technicalContacts { id } teamMembers { id }
    licenses { licenseId namedUsers } viewerCan { submitSupportRequest }
  }
  apps(first: 10) { totalCount nodes { id version teamMembers { id } } }
}"""


@pytest.fixture
async def world(db: Any, support: PersonRecord) -> World:
    return await make_world(db, support)


def question(world: World, subject: str) -> dict[str, Any]:
    return {
        "kind": "QUESTION",
        "app_id": world.app["id"],
        "subject": subject,
        "body": "?",
        "impact": "LOW",
        "urgency": "LOW",
    }


async def request_state(world: World, subject: str) -> tuple[list[str], list[str]]:
    """(the requests with ``subject``, the request IDs the SUBMITTED events not about
    another request name)."""
    app = await state(world)
    nodes = app["supportRequests"]["nodes"]
    others = {node["id"] for node in nodes if node["subject"] != subject}
    events = [
        event["after"]["support_request_id"]
        for event in app["auditTrail"]["nodes"]
        if event["action"] == "SUPPORT_REQUEST_SUBMITTED"
        and event["after"]["support_request_id"] not in others
    ]
    return [node["id"] for node in nodes if node["subject"] == subject], events


async def test_support_request_survives_a_crash_between_any_two_writes(world: World) -> None:
    def submit(subject: str) -> Any:
        return lambda target: support_cases.submit(target, world.member, question(world, subject))

    writes = await writes_made(world.db, submit("first"))
    assert writes >= 4  # pushed into the app, moved (insert, pull), its event moved
    for at in range(writes):
        subject = f"try {at}"
        with pytest.raises(Crash):
            await submit(subject)(CrashingDatabase(world.db, at))
        for _ in range(2):  # restart; running the recovery again changes nothing
            await recover(world.db)
            requests, events = await request_state(world, subject)
            if at == 0:  # killed before the first write: nothing happened
                assert (requests, events) == ([], []), at
            else:
                assert len(requests) == 1 and events == requests, at
    for collection in ("apps", "support_requests"):
        assert await no_pending(world.db, collection)


async def test_a_pending_request_disturbs_no_read_and_no_version(world: World) -> None:
    """Killed right after the push: the app carries the request until the recovery moves
    it. Reads of the app (the fast path's included), its version, optimistic checks on it and
    the rollups are exactly as without it."""
    db, app_id = world.db, decode(world.app["id"], "App")
    before = await gql(db, world.member, READ, {"id": world.app["id"]})
    with pytest.raises(Crash):
        await support_cases.submit(CrashingDatabase(db, 1), world.member, question(world, "held"))
    assert await db["apps"].count_documents({"_id": app_id, "pending_records.0": {"$exists": 1}})
    assert await gql(db, world.member, READ, {"id": world.app["id"]}) == before
    assert await rollup_reads.verify(db) == []
    assert await request_state(world, "held") == ([], [])  # shows once moved (documented)
    version = before["app"]["version"]
    _, errors = await run(
        db, world.support, "removeTeamMember",
        appId=world.app["id"], personId=pid(world.member), expectedVersion=version,
    )  # fmt: skip
    assert errors == []  # the version it read is still the app's
    await recover(db)
    requests, events = await request_state(world, "held")
    assert len(requests) == 1 and events == requests
    assert await no_pending(db, "apps") and await rollup_reads.verify(db) == []


async def test_racing_moves_make_a_request_once(world: World) -> None:
    """Killed right after the push; two periodic tasks and the next request (which moves the
    app's pending records too) run at once."""
    db = world.db
    with pytest.raises(Crash):
        await support_cases.submit(CrashingDatabase(db, 1), world.member, question(world, "one"))
    await asyncio.gather(
        recover(db), recover(db), support_cases.submit(db, world.member, question(world, "two"))
    )
    for subject in ("one", "two"):
        requests, events = await request_state(world, subject)
        assert len(requests) == 1 and events == requests
    for collection in ("apps", "support_requests"):
        assert await no_pending(db, collection)
