"""Whether a person exists is not disclosed to whom may not see them: mutations that name a
person (by email or ID) answer alike for someone the caller cannot see and for no one."""

from __future__ import annotations

from typing import Any

from bson import ObjectId

from store import people as people_store
from store.people import PersonRecord
from tests.graph.cloud import GRANT, cloud
from tests.graph.cloud import refused as refused_env
from tests.graph.test_support import APPROVE, SUBMIT, World, call, contact_change, world
from tests.helpers import dump, gid, gql, make_person, pid, run

__all__ = ["world"]  # the fixture

CREATE = """
mutation ($input: CreatePersonInput!) {
  createPerson(input: $input) {
    person { id email name mendixId hasMendixId status isSupport
             accessTokens { totalCount } environmentGrants { right } }
    userErrors { field code }
  }
}"""
NODE = "query ($id: ID!) { node(id: $id) { id } }"


def _without_identity(payload: dict[str, Any]) -> dict[str, Any]:
    person = dict(payload["person"])
    person.pop("id")
    return {**payload, "person": person}


async def _create(db: Any, viewer: PersonRecord, email: str, **more: Any) -> dict[str, Any]:
    data = await gql(db, viewer, CREATE, {"input": {"email": email, "name": "Guess", **more}})
    return data["createPerson"]


async def test_create_person_does_not_tell_an_outsider_who_is_registered(
    db: Any, support: PersonRecord
) -> None:
    hidden = await make_person(db, "hidden@elsewhere.example", "Hidden", mendix_id="hid")
    await people_store.set_status(db, hidden.id, people_store.PersonStatus.INACTIVE)
    prober = await make_person(db, "prober@example.com", "Pat")
    before = await dump(db)
    known = await _create(db, prober, "Hidden@Elsewhere.example")
    assert await dump(db) == before  # nothing written, the stored person untouched
    fresh = await _create(db, prober, "nobody@elsewhere.example")
    assert _without_identity(known) == _without_identity(fresh) | {
        "person": _without_identity(fresh)["person"] | {"email": "hidden@elsewhere.example"}
    }
    assert known["userErrors"] == [] and known["person"]["name"] == "Guess"
    assert known["person"]["status"] == "ACTIVE" and known["person"]["mendixId"] is None
    # afterwards both are alike to the caller: not visible until on one of their apps
    for payload in (known, fresh):
        assert (await gql(db, prober, NODE, {"id": payload["person"]["id"]}))["node"] is None
    # the ID is the registered person's: inviting them to a team reaches them
    assert known["person"]["id"] == pid(hidden)


async def test_a_visible_person_or_support_still_gets_duplicate_email(
    db: Any, support: PersonRecord
) -> None:
    contact = await make_person(db, "tc@acme.example", "Tess", "tess")
    mate = await make_person(db, "mate@acme.example", "Mate")
    app = await _app(db, support, contact)
    await run(db, support, "addTeamMember", appId=app, personId=pid(mate))
    for viewer, email in ((contact, "mate@acme.example"), (support, "tc@acme.example")):
        before = await dump(db)
        payload = await _create(db, viewer, email)
        assert payload["person"] is None
        assert payload["userErrors"] == [{"field": ["input", "email"], "code": "DUPLICATE_EMAIL"}]
        assert await dump(db) == before


async def _app(db: Any, support: PersonRecord, contact: PersonRecord) -> str:
    from tests.helpers import create_app

    return str((await create_app(db, support, contact, "ON_PREMISES", "probe"))["id"])


async def test_only_support_sets_a_mendix_id_when_adding_a_person(
    db: Any, support: PersonRecord
) -> None:
    await make_person(db, "taken@elsewhere.example", "Taken", mendix_id="taken")
    prober = await make_person(db, "prober@example.com", "Pat")
    for mendix_id in ("taken", "free"):  # a taken one would say it exists
        before = await dump(db)
        payload = await _create(db, prober, f"{mendix_id}-new@example.com", mendixId=mendix_id)
        assert payload["person"] is None
        assert payload["userErrors"] == [{"field": ["input", "mendixId"], "code": "FORBIDDEN"}]
        assert await dump(db) == before
    payload = await _create(db, support, "free-new@example.com", mendixId="free")
    assert payload["userErrors"] == [] and payload["person"]["mendixId"] == "free"


async def test_submit_support_request_answers_alike_for_hidden_and_missing_people(
    world: World,
) -> None:
    hidden = await make_person(world.db, "hidden@elsewhere.example", "Hidden")
    missing = gid("Person", ObjectId())
    answers = []
    for person_id in (pid(hidden), missing):
        change = contact_change(world) | {"technicalContactId": person_id}
        request, errors = await call(world, world.member, SUBMIT, **change)
        assert errors == [] and request is not None
        answers.append(
            {k: v for k, v in request.items() if k not in ("id", "createdAt", "updatedAt")}
        )
        if person_id == missing:  # Support cannot approve a person who does not exist
            before = await dump(world.db)
            approved, refusal = await call(world, world.support, APPROVE, requestId=request["id"])
            assert approved is None and [e["code"] for e in refusal] == ["NOT_FOUND"]
            assert await dump(world.db) == before
    assert answers[0] == answers[1]
    assert answers[0]["technicalContact"] is None


async def test_grant_rights_answers_alike_for_hidden_and_missing_people(
    db: Any, support: PersonRecord
) -> None:
    c = await cloud(db, support)
    hidden = await make_person(db, "hidden@elsewhere.example", "Hidden")
    for person_id in (pid(hidden), gid("Person", ObjectId()), pid(c.outsider)):
        for viewer, code in ((c.contact, "NOT_A_TEAM_MEMBER"), (c.member, "MISSING_RIGHT")):
            errors = await refused_env(
                db, viewer, GRANT, "grantEnvironmentRights", code,
                environmentId=c.production, personId=person_id, rights=["VIEW_LOGS"],
            )  # fmt: skip
            assert errors[0]["field"] == (["input", "personId"] if viewer is c.contact else None)
