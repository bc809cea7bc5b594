"""Requests made under a right on their app (store/gated.py): submitSupportRequest (team
member) and requestLicenseExpansion (technical contact or Support) state the right and the
rule in one conditional write on the app, so a right or a rule lost between the read and
the write refuses the request, and nothing is written. On both tiers."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from resolvers import licenses as license_cases
from resolvers import support as support_cases
from store.people import PersonRecord
from tests.graph.test_licenses import ADD, CHANGE, EXPAND
from tests.graph.test_support import SUBMIT
from tests.helpers import create_app, dump, gql, make_person, pid, run

START = datetime(2026, 1, 1, tzinfo=UTC)
STATE = """
query ($id: ID!) {
  app(id: $id) {
    version
    supportRequests(first: 100) { totalCount nodes { id subject } }
    licenseExpansionRequests(first: 100) { totalCount nodes { id namedUsers } }
    auditTrail(first: 100) { nodes { action version actor { id } after } }
  }
}"""
MEMBER_RIGHT = "SUPPORT_REQUEST_SUBMITTED"
CONTACT_RIGHT = "LICENSE_EXPANSION_REQUESTED"


@dataclass
class World:
    db: Any
    support: PersonRecord
    contact: PersonRecord  # stays technical contact
    second: PersonRecord  # a second technical contact: requests expansions
    member: PersonRecord  # a team member: submits support requests
    executive: PersonRecord
    app: dict[str, Any]


async def make_world(db: Any, support: PersonRecord, tag: str = "") -> World:
    def email(name: str) -> str:
        return f"{name}{tag}@acme.example"

    contact = await make_person(db, email("tc"), "Tess", f"tess{tag}")
    second = await make_person(db, email("tc2"), "Theo", f"theo{tag}")
    member = await make_person(db, email("mem"), "Mo", f"mo{tag}")
    executive = await make_person(db, email("ae"), "Ada", f"ada{tag}")
    app = await create_app(db, support, contact, "ON_PREMISES", f"gated{tag}")
    for mutation, person in (
        ("addTeamMember", member),
        ("addTechnicalContact", second),
        ("setAccountExecutive", executive),
    ):
        _, errors = await run(db, support, mutation, appId=app["id"], personId=pid(person))
        assert errors == [], (mutation, errors)
    license = {
        "appId": app["id"],
        "licenseId": "LIC-1",
        "plan": "Standard",
        "namedUsers": 50,
        "concurrentUsers": 10,
        "startsAt": START.isoformat(),
        "expiresAt": (START + timedelta(days=365)).isoformat(),
    }
    assert (await gql(db, support, ADD, {"input": license}))["addLicense"]["userErrors"] == []
    return World(db, support, contact, second, member, executive, app)


@pytest.fixture
async def world(db: Any, support: PersonRecord) -> World:
    return await make_world(db, support)


def question(world: World, **overrides: Any) -> dict[str, Any]:
    return {
        "kind": "QUESTION",
        "appId": world.app["id"],
        "subject": "How do I scale?",
        "body": "We need more memory.",
        "impact": "MEDIUM",
        "urgency": "LOW",
        **overrides,
    }


def expansion(world: World, users: int = 80) -> dict[str, Any]:
    return {"appId": world.app["id"], "licenseId": "LIC-1", "namedUsers": users,
            "concurrentUsers": 10}  # fmt: skip


async def submit(world: World, viewer: PersonRecord, **input: Any) -> tuple[Any, list[str]]:
    data = await gql(world.db, viewer, SUBMIT, {"input": input})
    payload = data["submitSupportRequest"]
    return payload["supportRequest"], [error["code"] for error in payload["userErrors"]]


async def expand(world: World, viewer: PersonRecord, **input: Any) -> tuple[Any, list[str]]:
    data = await gql(world.db, viewer, EXPAND, {"input": input})
    payload = data["requestLicenseExpansion"]
    return payload["expansionRequest"], [error["code"] for error in payload["userErrors"]]


async def state(world: World) -> dict[str, Any]:
    return (await gql(world.db, world.support, STATE, {"id": world.app["id"]}))["app"]


def between_read_and_write(
    monkeypatch: pytest.MonkeyPatch,
    module: Any,
    meanwhile: Callable[[], Awaitable[Any]],
    reader: str = "visible_app",
) -> dict[str, Any]:
    """Run ``meanwhile`` right after the use case's read of the app (``module.reader``, its
    first call only); the returned dict then holds the database as it was once ``meanwhile``
    was done."""
    real = getattr(module, reader)
    seen: dict[str, Any] = {}

    async def read(db: Any, *args: Any, **kwargs: Any) -> Any:
        app = await real(db, *args, **kwargs)
        if not seen:
            seen["busy"] = True  # ``meanwhile`` may read through here too
            await meanwhile()
            seen["after"] = await dump(db)
        return app

    monkeypatch.setattr(module, reader, read)
    return seen


# --- a right or a rule lost between the read and the write ------------------------------------


async def test_member_removed_mid_submit_is_refused(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def remove() -> None:
        _, errors = await run(
            world.db, world.support, "removeTeamMember",
            appId=world.app["id"], personId=pid(world.member),
        )  # fmt: skip
        assert errors == []

    seen = between_read_and_write(monkeypatch, support_cases, remove)
    request, codes = await submit(world, world.member, **question(world))
    assert (request, codes) == (None, ["FORBIDDEN"])
    assert await dump(world.db) == seen["after"]


async def test_contact_removed_mid_expansion_is_refused(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def remove() -> None:
        _, errors = await run(
            world.db, world.support, "removeTechnicalContact",
            appId=world.app["id"], personId=pid(world.second),
        )  # fmt: skip
        assert errors == []

    seen = between_read_and_write(monkeypatch, license_cases, remove)
    request, codes = await expand(world, world.second, **expansion(world))
    assert (request, codes) == (None, ["FORBIDDEN"])
    assert await dump(world.db) == seen["after"]


async def test_contact_added_mid_change_request_is_refused(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A CHANGE naming a person who became a technical contact meanwhile: the rule's code."""
    candidate = await make_person(world.db, "cand@acme.example", "Cat", "cat")

    async def add() -> None:
        _, errors = await run(
            world.db, world.support, "addTechnicalContact",
            appId=world.app["id"], personId=pid(candidate),
        )  # fmt: skip
        assert errors == []

    seen = between_read_and_write(monkeypatch, support_cases, add)
    change = question(world, kind="CHANGE", technicalContactId=pid(candidate))
    request, codes = await submit(world, world.member, **change)
    assert (request, codes) == (None, ["ALREADY_TECHNICAL_CONTACT"])
    assert await dump(world.db) == seen["after"]


async def test_license_grown_mid_expansion_is_refused(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def grow() -> None:
        changed = {"appId": world.app["id"], "licenseId": "LIC-1", "namedUsers": 200}
        data = await gql(world.db, world.support, CHANGE, {"input": changed})
        assert data["changeLicense"]["userErrors"] == []

    seen = between_read_and_write(monkeypatch, license_cases, grow)
    request, codes = await expand(world, world.second, **expansion(world, 80))
    assert (request, codes) == (None, ["NOT_AN_EXPANSION"])
    assert await dump(world.db) == seen["after"]


async def test_an_unrelated_change_meanwhile_is_read_again(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The app changed (a new Account Executive) but the right and the rule still hold: the
    request is made on the fresh app, and its email goes to the new Account Executive."""
    newcomer = await make_person(world.db, "ae2@acme.example", "Abe", "abe")

    async def replace() -> None:
        _, errors = await run(
            world.db, world.support, "setAccountExecutive",
            appId=world.app["id"], personId=pid(newcomer),
        )  # fmt: skip
        assert errors == []

    between_read_and_write(monkeypatch, license_cases, replace)
    request, codes = await expand(world, world.second, **expansion(world))
    assert codes == [] and request["accountExecutive"]["email"] == "ae2@acme.example"
    after = await state(world)
    (event,) = [e for e in after["auditTrail"]["nodes"] if e["action"] == CONTACT_RIGHT]
    assert event["version"] == after["version"]  # made on the app as it is now
    mails = (
        await world.db["notifications"].find({"kind": "LICENSE_EXPANSION_REQUEST"}).to_list(None)
    )
    assert [mail["to_email"] for mail in mails] == ["ae2@acme.example"]


@pytest.mark.parametrize(
    ("who", "mutation", "overrides", "code"),
    [
        ("member", "expand", {}, "FORBIDDEN"),
        ("outsider", "expand", {}, "NOT_FOUND"),
        ("outsider", "submit", {}, "NOT_FOUND"),
        ("second", "expand", {"namedUsers": 40}, "NOT_AN_EXPANSION"),
        ("member", "submit", {"kind": "CHANGE", "technicalContactId": "second"},
         "ALREADY_TECHNICAL_CONTACT"),
    ],
)  # fmt: skip
async def test_refused_requests_change_nothing(
    world: World, who: str, mutation: str, overrides: dict[str, Any], code: str
) -> None:
    outsider = await make_person(world.db, "out@other.example", "Oz", "oz")
    viewer = {"member": world.member, "second": world.second, "outsider": outsider}[who]
    if overrides.get("technicalContactId") == "second":
        overrides = {**overrides, "technicalContactId": pid(world.second)}
    before = await dump(world.db)
    if mutation == "expand":
        request, codes = await expand(world, viewer, **{**expansion(world), **overrides})
    else:
        request, codes = await submit(world, viewer, **question(world, **overrides))
    assert (request, codes) == (None, [code])
    assert await dump(world.db) == before


# --- many removals racing many requests -------------------------------------------------------


async def assert_made_with_right(world: World) -> None:
    """Replay the app's trail by version: each request was made on a version of the app at
    which its requester held the right (a request's event names the version it was made on;
    a change's event the version it made)."""
    nodes = (await state(world))["auditTrail"]["nodes"]
    contacts: list[str] = []
    members: list[str] = []
    changes = [e for e in nodes if e["action"] not in (MEMBER_RIGHT, CONTACT_RIGHT)]
    requests = [e for e in nodes if e["action"] in (MEMBER_RIGHT, CONTACT_RIGHT)]
    ordered = sorted([(e["version"], 0, e) for e in changes] + [(e["version"], 1, e) for e in
                     requests], key=lambda item: (item[0], item[1]))  # fmt: skip
    for _, is_request, event in ordered:
        after = event["after"] or {}
        if event["action"] == "APP_CREATED":
            members = list(after["technical_contact_ids"])
        contacts = list(after.get("technical_contact_ids", contacts))
        members = list(after.get("member_ids", members))
        if is_request:
            holders = members if event["action"] == MEMBER_RIGHT else contacts
            assert event["actor"]["id"] in holders, (event, holders)


ROUNDS = 3
EACH = 5


async def test_removals_race_requests(db: Any, support: PersonRecord) -> None:
    """The member submits and the second contact asks for expansions while Support removes
    both, all at once, in a different order each round."""
    shuffle = random.Random(7)
    for index in range(ROUNDS):
        world = await make_world(db, support, f"-{index}")
        calls: list[tuple[str, Awaitable[Any]]] = [
            ("submit", submit(world, world.member, **question(world, subject=f"q{n}")))
            for n in range(EACH)
        ]
        calls += [("expand", expand(world, world.second, **expansion(world, 60 + n)))
                  for n in range(EACH)]  # fmt: skip
        calls += [
            ("remove", run(db, support, "removeTeamMember", appId=world.app["id"],
                           personId=pid(world.member))),
            ("remove", run(db, support, "removeTechnicalContact", appId=world.app["id"],
                           personId=pid(world.second))),
        ]  # fmt: skip
        shuffle.shuffle(calls)
        answers = await asyncio.gather(*(call for _, call in calls))
        made: dict[str, list[str]] = {"submit": [], "expand": []}
        for (kind, _), (record, codes) in zip(calls, answers, strict=True):
            if kind == "remove":
                assert codes == [], codes
            elif record is not None:
                assert codes == []
                made[kind].append(record["id"])
            else:  # refused: no longer on the team / a contact (the member no longer sees it)
                assert codes in (["FORBIDDEN"], ["NOT_FOUND"]), codes
        after = await state(world)
        assert sorted(n["id"] for n in after["supportRequests"]["nodes"]) == sorted(made["submit"])
        expansions = after["licenseExpansionRequests"]["nodes"]
        assert sorted(n["id"] for n in expansions) == sorted(made["expand"])
        events = [e for e in after["auditTrail"]["nodes"] if e["action"] == CONTACT_RIGHT]
        assert len(events) == len(made["expand"])
        await assert_made_with_right(world)
    assert await db["apps"].count_documents({"pending_records.0": {"$exists": True}}) == 0
