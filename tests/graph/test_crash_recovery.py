"""A change and its record survive crashes: a failure injected between any two writes, then
a "restart" (the periodic task's recovery, or the next approver), ends in exactly one state:
the change with its events (and email) recorded once, or nothing applied."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from ownership.tasks import recover
from resolvers import approvals
from resolvers import support as support_cases
from resolvers.ids import decode
from store import approvals as approval_store
from store import apps as app_store
from store import audit as audit_store
from store import rollup_reads
from store.people import PersonRecord
from store.records import now
from tests.graph.test_support import APPROVE, SUBMIT, World, call, contact_change
from tests.helpers import create_app, gql, make_person, pid, run

TRAIL = """
query ($id: ID!) {
  app(id: $id) {
    auditTrail(first: 100, orderBy: {field: OCCURRED_AT, direction: ASC}) {
      totalCount nodes { id action }
    }
  }
}"""


class Crash(Exception):
    """The process died here."""


def crash(*_: Any, **__: Any) -> Any:
    raise Crash()


async def stored_events(db: Any, app_id: str) -> list[str]:
    events = await db["audit_events"].find({"app_id": decode(app_id, "App")}).to_list(None)
    return [event["action"] for event in sorted(events, key=lambda e: e["_id"])]


async def pending(db: Any, collection: str, key: Any) -> list[Any]:
    doc = await db[collection].find_one({"_id": key})
    return list((doc or {}).get("pending_events") or [])


async def test_crash_before_the_drain(
    db: Any, support: PersonRecord, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The change committed with its event; the move into the trail did not run. The trail
    reads it anyway (read-your-writes) and recovery moves it, once."""
    owner = await make_person(db, "o@example.com", "O", "o")
    member = await make_person(db, "m@example.com", "M", "m")
    app = await create_app(db, support, owner, "MENDIX_CLOUD")
    with monkeypatch.context() as patch:
        patch.setattr(audit_store, "drain", crash)
        changed, errors = await run(
            db, support, "addTeamMember", appId=app["id"], personId=pid(member)
        )
    assert errors == [] and changed is not None
    key = decode(app["id"], "App")
    assert len(await pending(db, "apps", key)) == 1
    assert await stored_events(db, app["id"]) == ["APP_CREATED"]
    trail = (await gql(db, support, TRAIL, {"id": app["id"]}))["app"]["auditTrail"]
    assert [e["action"] for e in trail["nodes"]] == ["APP_CREATED", "TEAM_MEMBER_ADDED"]
    assert trail["totalCount"] == 2
    assert (await recover(db))[1] == 1
    assert (await recover(db))[1] == 0
    assert await stored_events(db, app["id"]) == ["APP_CREATED", "TEAM_MEMBER_ADDED"]
    assert await pending(db, "apps", key) == []
    again = (await gql(db, support, TRAIL, {"id": app["id"]}))["app"]["auditTrail"]
    assert again == trail
    assert await rollup_reads.verify(db) == []


async def test_crash_in_the_middle_of_the_drain(
    db: Any, support: PersonRecord, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The events were copied into the trail but not yet pulled from the app: the trail
    shows each once, and recovery neither loses nor doubles them."""
    owner = await make_person(db, "o@example.com", "O", "o")
    member = await make_person(db, "m@example.com", "M", "m")
    app = await create_app(db, support, owner, "MENDIX_CLOUD")
    key = decode(app["id"], "App")

    async def copy_then_crash(db: Any, owner: str, owner_id: Any) -> int:
        for doc in await pending(db, owner, owner_id):
            await db["audit_events"].insert_one(doc)
        raise Crash()

    with monkeypatch.context() as patch:
        patch.setattr(audit_store, "drain", copy_then_crash)
        await run(db, support, "addTeamMember", appId=app["id"], personId=pid(member))
    assert len(await pending(db, "apps", key)) == 1
    trail = (await gql(db, support, TRAIL, {"id": app["id"]}))["app"]["auditTrail"]
    assert [e["action"] for e in trail["nodes"]] == ["APP_CREATED", "TEAM_MEMBER_ADDED"]
    assert trail["totalCount"] == 2
    await recover(db)
    assert await stored_events(db, app["id"]) == ["APP_CREATED", "TEAM_MEMBER_ADDED"]
    assert await pending(db, "apps", key) == []
    assert await rollup_reads.verify(db) == []


async def test_request_cancelled_after_the_write(
    db: Any, support: PersonRecord, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The client went away (task cancelled) right after the change was written."""
    owner = await make_person(db, "o@example.com", "O", "o")
    member = await make_person(db, "m@example.com", "M", "m")
    app = await create_app(db, support, owner, "MENDIX_CLOUD")

    async def cancelled(*_: Any) -> int:
        raise asyncio.CancelledError()

    with monkeypatch.context() as patch:
        patch.setattr(audit_store, "drain", cancelled)
        task = asyncio.ensure_future(
            run(db, support, "addTeamMember", appId=app["id"], personId=pid(member))
        )
        with pytest.raises(asyncio.CancelledError):
            await task
    stored = await app_store.get_app(db, decode(app["id"], "App"))
    assert stored is not None and member.id in stored.member_ids
    await recover(db)
    assert await stored_events(db, app["id"]) == ["APP_CREATED", "TEAM_MEMBER_ADDED"]
    assert await rollup_reads.verify(db) == []


# --- support approval: claim -> app update -> email -> mark APPROVED -> drain ---------------


@pytest.fixture
async def world(db: Any, support: PersonRecord) -> World:
    """An On-Premises app with its contact, a member and a candidate contact."""
    contact = await make_person(db, "tc@acme.example", "Tess", "tess")
    member = await make_person(db, "mem@acme.example", "Mo", "mo")
    candidate = await make_person(db, "cand@acme.example", "Cat", "cat")
    onprem = await create_app(db, support, contact, "ON_PREMISES", "s-onprem")
    await run(db, support, "addTeamMember", appId=onprem["id"], personId=pid(member))
    return World(db, support, contact, member, candidate, member, onprem, onprem)


async def approval_state(world: World, request_id: str) -> dict[str, Any]:
    db = world.db
    key = decode(request_id, "SupportRequest")
    saved = await db["support_requests"].find_one({"_id": key})
    app = await app_store.get_app(db, decode(world.onprem["id"], "App"))
    assert saved is not None and app is not None
    events = await db["audit_events"].find({}).to_list(None)
    mails = await db["notifications"].find({"kind": "SUPPORT_REQUEST_APPROVED"}).to_list(None)
    return {
        "status": saved["status"],
        "candidate_is_contact": world.candidate.id in app.technical_contact_ids,
        "added": sum(1 for e in events if e["action"] == "TECHNICAL_CONTACT_ADDED"),
        "approved": sum(1 for e in events if e["action"] == "SUPPORT_REQUEST_APPROVED"),
        "mails": len(mails),
        "pending": len(await pending(db, "apps", app.id))
        + len(await pending(db, "support_requests", key)),
    }


COMPLETED = {
    "status": "APPROVED",
    "candidate_is_contact": True,
    "added": 1,
    "approved": 1,
    "mails": 1,
    "pending": 0,
}
NOT_APPLIED = {
    "status": "NEW",
    "candidate_is_contact": False,
    "added": 0,
    "approved": 0,
    "mails": 0,
    "pending": 0,
}


async def age_claim(world: World, request_id: str) -> None:
    stale = {"claimed_at": now() - timedelta(minutes=10)}
    key = decode(request_id, "SupportRequest")
    await world.db["support_requests"].update_one({"_id": key}, {"$set": stale})


STEPS = [
    # (where the crash is injected, the state it leaves as seen from outside)
    (app_store, "add_technical_contact"),  # after the claim, before the app update
    (approvals, "send_to"),  # after the app update, before the email
    (approval_store, "finish_approval"),  # after the email, before marking APPROVED
    (audit_store, "drain"),  # after marking APPROVED, before the events are moved
]


@pytest.mark.parametrize("restart", ["periodic task", "next approver"])
@pytest.mark.parametrize("step", range(len(STEPS)))
async def test_approval_survives_a_crash_at_each_step(
    world: World, monkeypatch: pytest.MonkeyPatch, step: int, restart: str
) -> None:
    request, _ = await call(world, world.contact, SUBMIT, **contact_change(world))
    assert request is not None
    module, name = STEPS[step]
    with monkeypatch.context() as patch:
        patch.setattr(module, name, crash)
        if step == len(STEPS) - 1:
            # approved and committed: a failed move of its events leaves them pending for
            # the periodic task; the approver's answer is the approval
            answer = await support_cases.approve(
                world.db, world.support, {"request_id": request["id"]}
            )
            assert answer.status.value == "APPROVED"
        else:
            with pytest.raises(Crash):
                await support_cases.approve(world.db, world.support, {"request_id": request["id"]})
    await age_claim(world, request["id"])  # the crashed approver's claim goes stale
    if restart == "periodic task":
        await recover(world.db)
        expected = NOT_APPLIED if step == 0 else COMPLETED
    else:
        approved, errors = await call(world, world.support, APPROVE, requestId=request["id"])
        if step == 3:  # approved already: only its events were left to move
            assert [e["code"] for e in errors] == ["REQUEST_NOT_OPEN"]
            await recover(world.db)
        else:
            assert errors == [] and approved is not None and approved["status"] == "APPROVED"
        expected = COMPLETED
    assert await approval_state(world, request["id"]) == expected
    await recover(world.db)  # running it again changes nothing
    assert await approval_state(world, request["id"]) == expected
    assert await rollup_reads.verify(world.db) == []


async def test_slow_approver_whose_claim_was_taken_over(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Approver 1 stalls after its claim; its claim goes stale and approver 2 completes the
    approval; approver 1 then resumes: no 500, one contact, one set of events, one email."""
    request, _ = await call(world, world.contact, SUBMIT, **contact_change(world))
    assert request is not None
    resume = asyncio.Event()
    claimed = asyncio.Event()
    real = app_store.request_applied

    async def stalled(db: Any, app_id: Any, request_id: Any) -> bool:
        claimed.set()
        await resume.wait()
        return await real(db, app_id, request_id)

    with monkeypatch.context() as patch:
        patch.setattr(app_store, "request_applied", stalled)
        slow = asyncio.ensure_future(
            support_cases.approve(world.db, world.support, {"request_id": request["id"]})
        )
        await claimed.wait()
    await age_claim(world, request["id"])
    approved, errors = await call(world, world.support, APPROVE, requestId=request["id"])
    assert errors == [] and approved is not None and approved["status"] == "APPROVED"
    resume.set()
    done = await slow
    assert done.status.value == "APPROVED"
    assert await approval_state(world, request["id"]) == COMPLETED


CREATE_PERSON = """
mutation ($input: CreatePersonInput!) {
  createPerson(input: $input) { person { id email } userErrors { code } }
}"""


async def test_person_change_answers_when_its_drain_fails(
    db: Any, support: PersonRecord, monkeypatch: pytest.MonkeyPatch
) -> None:
    """createPerson committed with its event; the move into the trail failed. The answer is
    the new person (not an internal error), the event waits in the person document and
    recovery moves it once."""
    with monkeypatch.context() as patch:
        patch.setattr(audit_store, "drain", crash)
        data = await gql(
            db, support, CREATE_PERSON, {"input": {"email": "n@x.example", "name": "N"}}
        )
    payload = data["createPerson"]
    assert payload["userErrors"] == [] and payload["person"]["email"] == "n@x.example"
    key = decode(payload["person"]["id"], "Person")
    assert [e["action"] for e in await pending(db, "people", key)] == ["PERSON_CREATED"]
    await recover(db)
    await recover(db)
    assert await pending(db, "people", key) == []
    moved = await db["audit_events"].find({"action": "PERSON_CREATED"}).to_list(None)
    assert [e["person_id"] for e in moved] == [key]


async def test_support_request_answers_when_its_drain_fails(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """submitSupportRequest committed with its event; the move into the trail failed. The
    contact gets the request, and recovery moves the event once."""
    with monkeypatch.context() as patch:
        patch.setattr(audit_store, "drain", crash)
        request, errors = await call(world, world.contact, SUBMIT, **contact_change(world))
    assert errors == [] and request is not None
    key = decode(request["id"], "SupportRequest")
    assert len(await pending(world.db, "support_requests", key)) == 1
    await recover(world.db)
    await recover(world.db)
    assert await pending(world.db, "support_requests", key) == []
    moved = (
        await world.db["audit_events"].find({"action": "SUPPORT_REQUEST_SUBMITTED"}).to_list(None)
    )
    assert len(moved) == 1
