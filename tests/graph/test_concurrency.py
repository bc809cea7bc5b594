"""A7: racing requests never break a rule, every refusal is typed, the audit trail adds up."""

from __future__ import annotations

import asyncio
import random
from typing import Any

from bson import ObjectId

from resolvers.ids import decode
from store import rollup_reads
from store.people import PersonRecord
from tests.helpers import create_app, gql, make_person, pid, run

TRAIL = """
query ($id: ID!) {
  app(id: $id) {
    auditTrail(first: 100, orderBy: {field: OCCURRED_AT, direction: ASC}) {
      totalCount nodes { action version before after } }
  }
}"""

EXPECTED_REFUSALS = {
    "LAST_TECHNICAL_CONTACT",
    "NOT_A_TECHNICAL_CONTACT",
    "ALREADY_TECHNICAL_CONTACT",
    "NOT_A_TEAM_MEMBER",
    "TECHNICAL_CONTACT_IN_TEAM",
    "WRONG_HOSTING_TYPE",
    "MULTIPLE_TECHNICAL_CONTACTS",
    "CONCURRENT_CHANGE",
}


async def _stored(db: Any, app_id: str) -> dict[str, Any]:
    key = decode(app_id, "App")
    assert key is not None
    doc = await db["apps"].find_one({"_id": key})
    assert doc is not None
    return doc


async def _assert_trail_replays(db: Any, viewer: PersonRecord, app_id: str) -> None:
    """One event per version; each `before` is the state the previous one left; the end is
    what is stored. (Events are listed in recording order; racing requests may record out of
    version order, so they are replayed by version.)"""
    trail = (await gql(db, viewer, TRAIL, {"id": app_id}))["app"]["auditTrail"]
    events = sorted(trail["nodes"], key=lambda event: event["version"])
    versions = [event["version"] for event in events]
    assert versions == list(range(1, len(events) + 1)), versions
    state: dict[str, Any] = dict(events[0]["after"])
    state["member_ids"] = list(state["technical_contact_ids"])
    for event in events[1:]:
        for key, value in event["before"].items():
            assert state.get(key, value) == value, (event, state)
        state.update(event["after"])
    stored = await _stored(db, app_id)
    assert state["technical_contact_ids"] == [
        pid_of(key) for key in stored["technical_contact_ids"]
    ]
    assert state["member_ids"] == [pid_of(key) for key in stored["member_ids"]]
    assert stored["version"] == len(events)
    assert await rollup_reads.verify(db) == []  # each change counted once (docs/rollups.md)


def pid_of(key: ObjectId) -> str:
    from resolvers.ids import encode

    return encode("Person", key)


async def test_racing_contact_changes_on_premises(db: Any, support: PersonRecord) -> None:
    first = await make_person(db, "a@example.com", "A", "a")
    second = await make_person(db, "b@example.com", "B", "b")
    others = [await make_person(db, f"p{i}@example.com", f"P{i}", f"p{i}") for i in range(4)]
    app = await create_app(db, support, first, "ON_PREMISES", "racing-onprem")
    await run(db, support, "addTechnicalContact", appId=app["id"], personId=pid(second))
    for person in others:
        await run(db, support, "addTeamMember", appId=app["id"], personId=pid(person))
    setup_events = 1 + len(others)

    rng = random.Random(50)
    people = [first, second, *others]
    calls = []
    for _ in range(60):
        kind = rng.choices(
            [
                "removeTechnicalContact",
                "addTechnicalContact",
                "removeTeamMember",
                "moveAppToMendixCloud",
            ],
            weights=[35, 30, 30, 5],
        )[0]
        person = rng.choice(people)
        if kind == "moveAppToMendixCloud":
            calls.append(run(db, support, kind, appId=app["id"]))
        else:
            calls.append(run(db, support, kind, appId=app["id"], personId=pid(person)))
    results = await asyncio.gather(*calls)

    successes = 0
    for changed, errors in results:
        if changed is None:
            assert len(errors) == 1 and errors[0]["code"] in EXPECTED_REFUSALS, errors
        else:
            assert errors == []
            successes += 1
    stored = await _stored(db, app["id"])
    contacts, members = stored["technical_contact_ids"], stored["member_ids"]
    assert len(contacts) >= 1  # A2: never zero
    assert len(set(contacts)) == len(contacts)
    assert set(contacts) <= set(members)  # contacts never leave the team
    if stored["hosting"] == "MENDIX_CLOUD":
        assert len(contacts) == 1  # A4/A6
    assert successes > 0 and successes < len(results)
    await _assert_trail_replays(db, support, app["id"])
    assert stored["version"] == 1 + setup_events + successes


async def test_racing_cloud_replacements_and_removals(db: Any, support: PersonRecord) -> None:
    owner = await make_person(db, "owner@example.com", "Owner", "owner")
    members = [await make_person(db, f"m{i}@example.com", f"M{i}", f"m{i}") for i in range(5)]
    app = await create_app(db, support, owner, "MENDIX_CLOUD", "racing-cloud")
    for person in members:
        await run(db, support, "addTeamMember", appId=app["id"], personId=pid(person))

    calls = []
    for index in range(60):
        person = [owner, *members][index % 6]
        kind = "changeTechnicalContact" if index % 2 == 0 else "removeTeamMember"
        if index % 7 == 3:
            kind = "addTeamMember"
        calls.append(run(db, support, kind, appId=app["id"], personId=pid(person)))
    results = await asyncio.gather(*calls)

    successes = sum(1 for changed, _ in results if changed is not None)
    for changed, errors in results:
        if changed is None:
            assert len(errors) == 1 and (
                errors[0]["code"] in EXPECTED_REFUSALS | {"ALREADY_TEAM_MEMBER"}
            ), errors
    stored = await _stored(db, app["id"])
    assert len(stored["technical_contact_ids"]) == 1  # never zero, never two
    assert stored["technical_contact_ids"][0] in stored["member_ids"]
    await _assert_trail_replays(db, support, app["id"])
    assert stored["version"] == 1 + len(members) + successes


async def test_delivery_races_a_contact_without_mendix_id(db: Any, support: PersonRecord) -> None:
    """A3 under concurrency: delivering while a contact without a MendixID is added never
    leaves a delivered app with such a contact."""
    for index in range(4):
        owner = await make_person(db, f"o{index}@example.com", "O", f"o{index}")
        newbie = await make_person(db, f"n{index}@example.com", "N")
        app = await create_app(db, support, owner, "ON_PREMISES")
        added, delivered = await asyncio.gather(
            run(db, support, "addTechnicalContact", appId=app["id"], personId=pid(newbie)),
            run(db, support, "deliverApp", appId=app["id"]),
        )
        stored = await _stored(db, app["id"])
        both = (added[0] is not None, delivered[0] is not None)
        assert both != (True, True)  # A3: never both
        if stored["status"] == "DELIVERED":
            assert stored["technical_contact_ids"] == [owner.id]
        await _assert_trail_replays(db, support, app["id"])


async def test_move_races_a_second_contact(db: Any, support: PersonRecord) -> None:
    """A6 (and A4): moving to Mendix Cloud while a second contact is added never leaves a
    cloud app with two contacts."""
    for index in range(4):
        owner = await make_person(db, f"o{index}@example.com", "O", f"o{index}")
        other = await make_person(db, f"x{index}@example.com", "X", f"x{index}")
        app = await create_app(db, support, owner, "ON_PREMISES")
        results = await asyncio.gather(
            run(db, support, "moveAppToMendixCloud", appId=app["id"]),
            run(db, support, "addTechnicalContact", appId=app["id"], personId=pid(other)),
        )
        stored = await _stored(db, app["id"])
        assert sum(1 for changed, _ in results if changed is not None) == 1
        if stored["hosting"] == "MENDIX_CLOUD":
            assert len(stored["technical_contact_ids"]) == 1
        await _assert_trail_replays(db, support, app["id"])


async def test_new_contact_removed_from_the_team_meanwhile(db: Any, support: PersonRecord) -> None:
    """A4 under concurrency: the new technical contact must be on the team at the write."""
    for index in range(4):
        owner = await make_person(db, f"o{index}@example.com", "O", f"o{index}")
        member = await make_person(db, f"m{index}@example.com", "M", f"m{index}")
        app = await create_app(db, support, owner, "MENDIX_CLOUD")
        await run(db, support, "addTeamMember", appId=app["id"], personId=pid(member))
        changed, removed = await asyncio.gather(
            run(db, owner, "changeTechnicalContact", appId=app["id"], personId=pid(member)),
            run(db, support, "removeTeamMember", appId=app["id"], personId=pid(member)),
        )
        stored = await _stored(db, app["id"])
        assert set(stored["technical_contact_ids"]) <= set(stored["member_ids"])
        assert len(stored["technical_contact_ids"]) == 1
        assert (changed[0] is None) != (removed[0] is None)  # exactly one wins
        await _assert_trail_replays(db, support, app["id"])
