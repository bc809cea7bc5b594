"""Support requests (S1) and approving a new On-Premises technical contact (A5), on both tiers."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from resolvers.ids import decode
from store.people import PersonRecord
from store.records import now
from store.support import Level, Priority, priority
from tests.helpers import create_app, dump, gql, ids, make_person, pid, run

FIELDS = """
  id kind subject body impact urgency priority status resolution
  createdAt updatedAt resolvedAt
  app { id } requester { email } technicalContact { email }
  comments { body author { email } }
"""


def _doc(name: str, input_type: str) -> str:
    return f"""
mutation ($input: {input_type}!) {{
  {name}(input: $input) {{ supportRequest {{ {FIELDS} }} userErrors {{ field message code }} }}
}}"""


SUBMIT = _doc("submitSupportRequest", "SubmitSupportRequestInput")
COMMENT = _doc("commentOnSupportRequest", "CommentOnSupportRequestInput")
TRIAGE = _doc("triageSupportRequest", "TriageSupportRequestInput")
RESOLVE = _doc("resolveSupportRequest", "CloseSupportRequestInput")
REJECT = _doc("rejectSupportRequest", "CloseSupportRequestInput")
APPROVE = _doc("approveSupportRequest", "CloseSupportRequestInput")
LIST = """
query ($filter: SupportRequestsFilter) {
  supportRequests(first: 50, filter: $filter) { totalCount nodes { subject status } }
}"""
APP = """
query ($id: ID!) {
  app(id: $id) {
    technicalContacts { id } teamMembers { id } version
    supportRequests(first: 10) { totalCount }
    auditTrail(first: 100, orderBy: {field: OCCURRED_AT, direction: ASC}) {
      nodes { action actor { email } after } }
  }
}"""


@dataclass
class World:
    db: Any
    support: PersonRecord
    contact: PersonRecord
    member: PersonRecord
    candidate: PersonRecord
    outsider: PersonRecord
    onprem: dict[str, Any]
    cloud: dict[str, Any]


@pytest.fixture
async def world(db: Any, support: PersonRecord) -> World:
    contact = await make_person(db, "tc@acme.example", "Tess", "tess")
    member = await make_person(db, "mem@acme.example", "Mo", "mo")
    candidate = await make_person(db, "cand@acme.example", "Cat", "cat")
    outsider = await make_person(db, "out@other.example", "Oz", "oz")
    onprem = await create_app(db, support, contact, "ON_PREMISES", "s-onprem")
    cloud = await create_app(db, support, contact, "MENDIX_CLOUD", "s-cloud")
    for app in (onprem, cloud):
        _, errors = await run(db, support, "addTeamMember", appId=app["id"], personId=pid(member))
        assert errors == []
    return World(db, support, contact, member, candidate, outsider, onprem, cloud)


async def call(
    world: World, viewer: PersonRecord, doc: str, **input: Any
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    data = await gql(world.db, viewer, doc, {"input": input})
    (payload,) = data.values()
    return payload["supportRequest"], payload["userErrors"]


async def refused(world: World, viewer: PersonRecord, doc: str, code: str, **input: Any) -> None:
    before = await dump(world.db)
    request, errors = await call(world, viewer, doc, **input)
    assert request is None
    assert [error["code"] for error in errors] == [code], errors
    assert await dump(world.db) == before


def question(app: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    return {
        "kind": "QUESTION",
        "appId": app["id"],
        "subject": "How do I scale?",
        "body": "We need more memory.",
        "impact": "MEDIUM",
        "urgency": "LOW",
        **overrides,
    }


def contact_change(world: World, person: PersonRecord | None = None) -> dict[str, Any]:
    return question(
        world.onprem,
        kind="CHANGE",
        subject="Add Cat as technical contact",
        technicalContactId=pid(person or world.candidate),
    )


@pytest.mark.parametrize(
    ("impact", "urgency", "expected"),
    [
        (Level.HIGH, Level.HIGH, Priority.CRITICAL),
        (Level.HIGH, Level.MEDIUM, Priority.HIGH),
        (Level.MEDIUM, Level.HIGH, Priority.HIGH),
        (Level.HIGH, Level.LOW, Priority.MEDIUM),
        (Level.MEDIUM, Level.MEDIUM, Priority.MEDIUM),
        (Level.LOW, Level.HIGH, Priority.MEDIUM),
        (Level.MEDIUM, Level.LOW, Priority.LOW),
        (Level.LOW, Level.MEDIUM, Priority.LOW),
        (Level.LOW, Level.LOW, Priority.LOW),
    ],
)
def test_priority_matrix(impact: Level, urgency: Level, expected: Priority) -> None:
    assert priority(impact, urgency) is expected


async def test_submit_comment_triage_resolve(world: World) -> None:
    request, errors = await call(world, world.member, SUBMIT, **question(world.cloud))
    assert errors == [] and request is not None
    assert (request["status"], request["priority"]) == ("NEW", "LOW")
    assert request["requester"]["email"] == "mem@acme.example"
    assert request["app"]["id"] == world.cloud["id"]
    rid = request["id"]
    request, errors = await call(world, world.contact, COMMENT, requestId=rid, body="Urgent!")
    assert errors == [] and request is not None
    request, errors = await call(world, world.support, COMMENT, requestId=rid, body="Looking")
    assert errors == [] and request is not None
    assert [(c["author"]["email"], c["body"]) for c in request["comments"]] == [
        ("tc@acme.example", "Urgent!"),
        ("support@mendix.example", "Looking"),
    ]
    request, errors = await call(
        world, world.support, TRIAGE, requestId=rid, impact="HIGH", urgency="HIGH"
    )
    assert errors == [] and request is not None
    assert (request["status"], request["priority"]) == ("TRIAGED", "CRITICAL")
    request, errors = await call(world, world.support, RESOLVE, requestId=rid, resolution="Done")
    assert errors == [] and request is not None
    assert (request["status"], request["resolution"]) == ("RESOLVED", "Done")
    assert request["resolvedAt"] is not None and request["updatedAt"] >= request["createdAt"]
    await refused(world, world.contact, COMMENT, "REQUEST_NOT_OPEN", requestId=rid, body="x")
    await refused(world, world.support, RESOLVE, "REQUEST_NOT_OPEN", requestId=rid)
    trail = (await gql(world.db, world.support, APP, {"id": world.cloud["id"]}))["app"]
    actions = [event["action"] for event in trail["auditTrail"]["nodes"]]
    assert actions[-5:] == [
        "SUPPORT_REQUEST_SUBMITTED",
        "SUPPORT_REQUEST_COMMENTED",
        "SUPPORT_REQUEST_COMMENTED",
        "SUPPORT_REQUEST_TRIAGED",
        "SUPPORT_REQUEST_RESOLVED",
    ]
    assert trail["supportRequests"]["totalCount"] == 1


async def test_who_may_do_what(world: World) -> None:
    await refused(world, world.outsider, SUBMIT, "NOT_FOUND", **question(world.onprem))
    await refused(world, world.support, SUBMIT, "FORBIDDEN", **question(world.onprem))
    request, _ = await call(world, world.contact, SUBMIT, **question(world.onprem))
    assert request is not None
    rid = request["id"]
    await refused(world, world.outsider, COMMENT, "NOT_FOUND", requestId=rid, body="hi")
    for doc in (RESOLVE, REJECT, APPROVE):
        await refused(world, world.contact, doc, "FORBIDDEN", requestId=rid)
    await refused(
        world, world.member, TRIAGE, "FORBIDDEN", requestId=rid, impact="LOW", urgency="LOW"
    )
    # lists are scoped: the outsider sees none, the team sees theirs, Support all
    assert (await gql(world.db, world.outsider, LIST))["supportRequests"]["totalCount"] == 0
    assert (await gql(world.db, world.member, LIST))["supportRequests"]["totalCount"] == 1
    assert (await gql(world.db, world.support, LIST))["supportRequests"]["totalCount"] == 1
    node = """query ($id: ID!) { node(id: $id) { ... on SupportRequest { subject } } }"""
    assert (await gql(world.db, world.outsider, node, {"id": rid}))["node"] is None
    assert (await gql(world.db, world.member, node, {"id": rid}))["node"] is not None


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"subject": " "}, "BLANK", "subject"),
        ({"body": ""}, "BLANK", "body"),
        ({"subject": "x" * 201}, "TOO_LONG", "subject"),
        ({"appId": "bad"}, "INVALID_ID", "appId"),
        ({"technicalContactId": "bad", "kind": "CHANGE"}, "INVALID_ID", "technicalContactId"),
    ],
)
async def test_bad_input_is_refused_typed(
    world: World, overrides: dict[str, Any], code: str, field: str
) -> None:
    before = await dump(world.db)
    request, errors = await call(
        world, world.contact, SUBMIT, **question(world.onprem, **overrides)
    )
    assert request is None
    assert [(e["code"], e["field"]) for e in errors] == [(code, ["input", field])]
    assert await dump(world.db) == before


async def test_contact_requests_only_as_change_on_premises(world: World) -> None:
    await refused(
        world,
        world.contact,
        SUBMIT,
        "WRONG_HOSTING_TYPE",
        **question(world.cloud, kind="CHANGE", technicalContactId=pid(world.candidate)),
    )
    await refused(
        world,
        world.contact,
        SUBMIT,
        "INVALID_INPUT",
        **question(world.onprem, technicalContactId=pid(world.candidate)),
    )
    await refused(
        world,
        world.contact,
        SUBMIT,
        "ALREADY_TECHNICAL_CONTACT",
        **contact_change(world, world.contact),
    )
    request, errors = await call(world, world.member, SUBMIT, **question(world.onprem))
    assert errors == [] and request is not None
    await refused(world, world.support, APPROVE, "NOT_A_CONTACT_REQUEST", requestId=request["id"])


async def test_approval_adds_the_contact_and_tells_the_requester(world: World) -> None:
    request, errors = await call(world, world.member, SUBMIT, **contact_change(world))
    assert errors == [] and request is not None
    assert request["technicalContact"] is None  # Cat is on none of Mo's apps: not disclosed
    approved, errors = await call(
        world, world.support, APPROVE, requestId=request["id"], resolution="Welcome, Cat"
    )
    assert errors == [] and approved is not None
    assert approved["status"] == "APPROVED" and approved["resolvedAt"] is not None
    assert approved["technicalContact"]["email"] == "cand@acme.example"  # Support sees all
    app = (await gql(world.db, world.support, APP, {"id": world.onprem["id"]}))["app"]
    assert ids(app["technicalContacts"]) == [pid(world.contact), pid(world.candidate)]
    assert pid(world.candidate) in ids(app["teamMembers"])
    actions = [event["action"] for event in app["auditTrail"]["nodes"]]
    assert actions[-2:] == ["TECHNICAL_CONTACT_ADDED", "SUPPORT_REQUEST_APPROVED"]
    mine = """{ viewer { notifications(first: 5) { nodes { kind subject body toEmail } } } }"""
    (mail,) = (await gql(world.db, world.member, mine))["viewer"]["notifications"]["nodes"]
    assert mail["kind"] == "SUPPORT_REQUEST_APPROVED"
    assert mail["toEmail"] == "mem@acme.example"
    assert "cand@acme.example" in mail["body"] and "Welcome, Cat" in mail["body"]
    await refused(world, world.support, APPROVE, "REQUEST_NOT_OPEN", requestId=request["id"])


async def test_approval_refused_when_the_app_moved_to_mendix_cloud(world: World) -> None:
    request, _ = await call(world, world.contact, SUBMIT, **contact_change(world))
    assert request is not None
    _, errors = await run(world.db, world.support, "moveAppToMendixCloud", appId=world.onprem["id"])
    assert errors == []
    await refused(world, world.support, APPROVE, "WRONG_HOSTING_TYPE", requestId=request["id"])
    # the request stays open: Support can still reject it
    rejected, errors = await call(world, world.support, REJECT, requestId=request["id"])
    assert errors == [] and rejected is not None and rejected["status"] == "REJECTED"


async def test_approval_refused_when_already_a_contact_or_without_mendix_id(world: World) -> None:
    request, _ = await call(world, world.contact, SUBMIT, **contact_change(world))
    assert request is not None
    _, errors = await run(
        world.db,
        world.support,
        "addTechnicalContact",
        appId=world.onprem["id"],
        personId=pid(world.candidate),
    )
    assert errors == []
    await refused(
        world, world.support, APPROVE, "ALREADY_TECHNICAL_CONTACT", requestId=request["id"]
    )
    newbie = await make_person(world.db, "new@acme.example", "Newbie")
    await world.db["apps"].update_one(
        {"_id": decode(world.onprem["id"], "App")}, {"$set": {"status": "DELIVERED"}}
    )
    request, _ = await call(world, world.contact, SUBMIT, **contact_change(world, newbie))
    assert request is not None
    await refused(
        world,
        world.support,
        APPROVE,
        "TECHNICAL_CONTACT_WITHOUT_MENDIX_ID",
        requestId=request["id"],
    )


async def test_two_approvals_racing_add_the_contact_once(world: World) -> None:
    request, _ = await call(world, world.contact, SUBMIT, **contact_change(world))
    assert request is not None
    results = await asyncio.gather(
        *(call(world, world.support, APPROVE, requestId=request["id"]) for _ in range(4))
    )
    assert sum(1 for approved, _ in results if approved is not None) == 1
    refusals = [errors[0]["code"] for approved, errors in results if approved is None]
    assert refusals == ["REQUEST_NOT_OPEN"] * 3
    app = (await gql(world.db, world.support, APP, {"id": world.onprem["id"]}))["app"]
    assert ids(app["technicalContacts"]) == [pid(world.contact), pid(world.candidate)]
    mails = await world.db["notifications"].count_documents({})
    assert mails == 1


async def test_approval_racing_with_other_contact_changes_keeps_the_rules(world: World) -> None:
    """Approve while the app moves to Mendix Cloud, contacts are removed and added: whatever
    wins, A2-A6 hold, and the request is APPROVED exactly when the candidate was added."""
    extra = await make_person(world.db, "extra@acme.example", "Ext", "ext")
    _, errors = await run(
        world.db,
        world.support,
        "addTechnicalContact",
        appId=world.onprem["id"],
        personId=pid(extra),
    )
    assert errors == []
    request, _ = await call(world, world.contact, SUBMIT, **contact_change(world))
    assert request is not None
    results = await asyncio.gather(
        call(world, world.support, APPROVE, requestId=request["id"]),
        run(
            world.db,
            world.support,
            "removeTechnicalContact",
            appId=world.onprem["id"],
            personId=pid(extra),
        ),
        run(world.db, world.support, "moveAppToMendixCloud", appId=world.onprem["id"]),
        run(
            world.db,
            world.support,
            "addTechnicalContact",
            appId=world.onprem["id"],
            personId=pid(world.candidate),
        ),
        call(world, world.support, APPROVE, requestId=request["id"]),
    )
    for result, errors in results:
        assert (result is None) == bool(errors)
    stored = await world.db["apps"].find_one({"_id": decode(world.onprem["id"], "App")})
    contacts = stored["technical_contact_ids"]
    assert 1 <= len(contacts) == len(set(contacts))
    assert set(contacts) <= set(stored["member_ids"])
    if stored["hosting"] == "MENDIX_CLOUD":
        assert len(contacts) == 1
    saved = await world.db["support_requests"].find_one(
        {"_id": decode(request["id"], "SupportRequest")}
    )
    approvals = [result for result, _ in (results[0], results[4]) if result is not None]
    assert len(approvals) <= 1
    assert saved["status"] in ("APPROVED", "NEW")
    assert (saved["status"] == "APPROVED") == bool(approvals)
    if approvals:
        added = [
            e
            for e in await world.db["audit_events"]
            .find({"action": "TECHNICAL_CONTACT_ADDED"})
            .to_list(None)
        ]
        assert any(world.candidate.id in e["after"]["technical_contact_ids"] for e in added)


async def test_a_claim_left_by_a_crashed_approver_is_taken_over(world: World) -> None:
    request, _ = await call(world, world.contact, SUBMIT, **contact_change(world))
    assert request is not None
    key = decode(request["id"], "SupportRequest")
    fresh_claim = {"status": "APPROVING", "claimed_at": now(), "claimed_from": "NEW"}
    await world.db["support_requests"].update_one({"_id": key}, {"$set": fresh_claim})
    await refused(world, world.support, APPROVE, "REQUEST_NOT_OPEN", requestId=request["id"])
    stale = {"claimed_at": now() - timedelta(minutes=10)}
    await world.db["support_requests"].update_one({"_id": key}, {"$set": stale})
    approved, errors = await call(world, world.support, APPROVE, requestId=request["id"])
    assert errors == [] and approved is not None and approved["status"] == "APPROVED"


async def test_a_refused_approval_reopens_the_request_as_it_was(world: World) -> None:
    request, _ = await call(world, world.contact, SUBMIT, **contact_change(world))
    assert request is not None
    await call(world, world.support, TRIAGE, requestId=request["id"], impact="LOW", urgency="LOW")
    await run(world.db, world.support, "moveAppToMendixCloud", appId=world.onprem["id"])
    await refused(world, world.support, APPROVE, "WRONG_HOSTING_TYPE", requestId=request["id"])
    saved = await world.db["support_requests"].find_one(
        {"_id": decode(request["id"], "SupportRequest")}
    )
    assert saved["status"] == "TRIAGED"
