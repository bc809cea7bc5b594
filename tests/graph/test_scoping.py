"""What each viewer may read: audit events by ID, and the person a support request names."""

from __future__ import annotations

from typing import Any

from resolvers.ids import encode
from store.people import PersonRecord
from tests.graph.cloud import as_node, cloud, grant
from tests.helpers import create_app, gql, make_person, pid, run

TRAIL = """
query ($id: ID!) { app(id: $id) { auditTrail(first: 100) { nodes { id action } } } }"""
EVENT = """
query ($id: ID!) {
  node(id: $id) { ... on AuditEvent { action environmentId before after actor { email } } }
}"""
EVENTS = "query ($ids: [ID!]!) { nodes(ids: $ids) { id } }"
PERSON_EVENTS = """
query ($id: ID!) { node(id: $id) { ... on AuditEvent { action } } }"""
SET_STATUS = """
mutation ($input: SetPersonStatusInput!) {
  setPersonStatus(input: $input) { person { id } userErrors { code } }
}"""


async def trail(db: Any, support: PersonRecord, app_id: str) -> dict[str, str]:
    """The app's audit events, action -> ID (the last of each action)."""
    data = await gql(db, support, TRAIL, {"id": app_id})
    return {event["action"]: event["id"] for event in data["app"]["auditTrail"]["nodes"]}


async def test_an_apps_events_are_visible_exactly_when_the_app_is(
    db: Any, support: PersonRecord
) -> None:
    c = await cloud(db, support)
    # Otto shares another app with Mia, so he may see Mia (the person) but not the shop
    other = await create_app(db, support, c.outsider, "ON_PREMISES", "other")
    _, errors = await run(db, support, "addTeamMember", appId=other["id"], personId=pid(c.member))
    assert errors == []
    assert (await grant(db, c.contact, c.production, c.member, "VIEW_LOGS"))["userErrors"] == []
    revoke = """
    mutation ($input: EnvironmentRightsInput!) {
      revokeEnvironmentRights(input: $input) { userErrors { code } }
    }"""
    input = {"environmentId": c.production, "personId": pid(c.member), "rights": ["VIEW_LOGS"]}
    assert (await gql(db, c.contact, revoke, {"input": input}))["revokeEnvironmentRights"] == {
        "userErrors": []
    }
    events = await trail(db, support, c.app["id"])
    granted = events["ENVIRONMENT_RIGHTS_GRANTED"]
    revoked = events["ENVIRONMENT_RIGHTS_REVOKED"]
    member = events["TEAM_MEMBER_ADDED"]
    person = await gql(
        db, c.outsider, "query ($id: ID!) { node(id: $id) { id } }", {"id": pid(c.member)}
    )
    assert person == {"node": {"id": pid(c.member)}}  # Otto may see Mia ...
    for event in (granted, revoked, member):  # ... but none of the shop's events
        assert await gql(db, c.outsider, EVENT, {"id": event}) == {"node": None}
    assert await gql(db, c.outsider, EVENTS, {"ids": [granted, revoked]}) == {"nodes": [None, None]}
    # the shop's team and Support read them, whoever they are about
    for viewer in (c.member, c.contact, c.manager, support):
        data = await gql(db, viewer, EVENT, {"id": granted})
        assert data["node"]["action"] == "ENVIRONMENT_RIGHTS_GRANTED"
        assert data["node"]["environmentId"] == c.production
    # Mia leaves the team: the shop's events are hidden from her as well
    _, errors = await run(
        db, support, "removeTeamMember", appId=c.app["id"], personId=pid(c.member)
    )
    assert errors == []
    assert await gql(db, c.member, EVENT, {"id": granted}) == {"node": None}


async def test_an_event_about_a_person_alone_is_theirs_and_supports(
    db: Any, support: PersonRecord
) -> None:
    ann = await make_person(db, "ann@acme.example", "Ann", "ann")
    bob = await make_person(db, "bob@acme.example", "Bob", "bob")
    app = await create_app(db, support, ann, "MENDIX_CLOUD", "shared")
    _, errors = await run(db, support, "addTeamMember", appId=app["id"], personId=pid(bob))
    assert errors == []
    input = {"personId": pid(bob), "status": "INACTIVE"}
    assert (await gql(db, support, SET_STATUS, {"input": input}))["setPersonStatus"] == {
        "person": {"id": pid(bob)},
        "userErrors": [],
    }
    event = await db["audit_events"].find_one({"action": "PERSON_STATUS_CHANGED"})
    event_id = encode("AuditEvent", event["_id"])
    # Ann may see Bob (they share an app) but not what happened to him as a person
    assert (await gql(db, ann, PERSON_EVENTS, {"id": event_id})) == {"node": None}
    for viewer in (bob, support):
        data = await gql(db, viewer, PERSON_EVENTS, {"id": event_id})
        assert data == {"node": {"action": "PERSON_STATUS_CHANGED"}}


SUBMIT = """
mutation ($input: SubmitSupportRequestInput!) {
  submitSupportRequest(input: $input) {
    supportRequest { id technicalContact { id email name mendixId status } }
    userErrors { field message code }
  }
}"""
REQUEST = """
query ($id: ID!) {
  node(id: $id) { ... on SupportRequest { technicalContact { email name mendixId } } }
}"""
REQUESTS = "{ supportRequests(first: 10) { nodes { technicalContact { email } } } }"


async def test_a_support_request_never_discloses_a_person_the_viewer_may_not_see(
    db: Any, support: PersonRecord
) -> None:
    tess = await make_person(db, "tess@acme.example", "Tess", "tess")
    stranger = await make_person(db, "secret@elsewhere.example", "Secret Name", "secret-id")
    colleague = await make_person(db, "col@acme.example", "Col", "col")
    app = await create_app(db, support, tess, "ON_PREMISES", "onprem")
    other = await create_app(db, support, tess, "MENDIX_CLOUD", "cloudy")
    _, errors = await run(db, support, "addTeamMember", appId=other["id"], personId=pid(colleague))
    assert errors == []
    base = {
        "kind": "CHANGE",
        "appId": app["id"],
        "subject": "Add a contact",
        "body": "Please add them.",
        "impact": "LOW",
        "urgency": "LOW",
    }
    data = await gql(db, tess, SUBMIT, {"input": {**base, "technicalContactId": pid(stranger)}})
    payload = data["submitSupportRequest"]
    assert payload["userErrors"] == []
    assert payload["supportRequest"]["technicalContact"] is None  # not in the payload ...
    request_id = payload["supportRequest"]["id"]
    read = await gql(db, tess, REQUEST, {"id": request_id})
    assert read == {"node": {"technicalContact": None}}  # ... nor on a later read
    listed = await gql(db, tess, REQUESTS)
    assert listed["supportRequests"]["nodes"] == [{"technicalContact": None}]
    # Support sees who it is (to approve); someone Tess may see is shown to her
    seen = await gql(db, support, REQUEST, {"id": request_id})
    assert seen["node"]["technicalContact"]["email"] == "secret@elsewhere.example"
    data = await gql(db, tess, SUBMIT, {"input": {**base, "technicalContactId": pid(colleague)}})
    contact = data["submitSupportRequest"]["supportRequest"]["technicalContact"]
    assert contact["email"] == "col@acme.example" and contact["mendixId"] == "col"


NODE_REPORT = """
mutation ($input: ReportMetricsInput!) {
  reportMetrics(input: $input) {
    alerts { id status emailRecipients recipients { id email } app { id } }
    userErrors { code }
  }
}"""


async def test_a_node_tokens_metric_report_discloses_no_person(
    db: Any, support: PersonRecord
) -> None:
    c = await cloud(db, support)
    samples = [{"category": "APP_DISK", "value": 95.0}]
    data = await as_node(
        db, c.app["id"], NODE_REPORT, {"input": {"environmentId": c.production, "samples": samples}}
    )
    (alert,) = data["reportMetrics"]["alerts"]
    assert alert["status"] == "CRITICAL"
    assert (alert["emailRecipients"], alert["recipients"], alert["app"]) == ([], [], None)
    # the app's technical contact reads who was emailed
    read = """query ($id: ID!) { node(id: $id) { ... on Alert { emailRecipients } } }"""
    seen = await gql(db, c.contact, read, {"id": alert["id"]})
    assert seen == {"node": {"emailRecipients": [c.contact.email]}}
