"""Who may do what, as data, checked over HTTP for every mutation and root field and every
kind of viewer (docs/tokens-and-permissions.md shows the same table; a test compares them).

The mutations and root fields are read from the schema: a new one without a row here fails
``test_every_operation_has_a_row``. Each cell is what that viewer gets: ``ok`` (done, no
userErrors), a userError code (and then nothing in the database changed), or for the token
columns an HTTP refusal (``401`` UNAUTHENTICATED, ``403`` INSUFFICIENT_SCOPE, nothing changed).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import graphql
import httpx
import pytest

from graph.app import create_app
from graph.schema import schema
from resolvers.ids import encode
from store import tokens as token_store
from store.db import Store
from store.people import PersonRecord
from store.records import now
from store.tokens import TokenScope
from tests.graph.cloud import add_environment, grant
from tests.helpers import create_app as make_app
from tests.helpers import dump, gql, make_person, pid, run

DOCS = Path(__file__).resolve().parents[2] / "docs" / "tokens-and-permissions.md"

# viewer kinds: five people (relative to the world's apps) and three kinds of token
PEOPLE = ("support", "contact", "member", "executive", "outsider")
TOKENS = ("inactive", "read_only", "metrics")
VIEWERS = PEOPLE + TOKENS

OK, FORBIDDEN, NOT_FOUND = "ok", "FORBIDDEN", "NOT_FOUND"
MISSING_RIGHT, CONTACT_ONLY = "MISSING_RIGHT", "TECHNICAL_CONTACT_ONLY"
SEES, HIDDEN = "sees", "hidden"  # root fields: the world's app shows, or doesn't
UNAUTHENTICATED, INSUFFICIENT_SCOPE = "401", "403"


def row(support: str, contact: str, member: str, executive: str, outsider: str) -> dict[str, str]:
    """One operation's cells for the five people; the token columns follow the scope rules:
    an INACTIVE person's token 401, a METRICS token 403 on /graphql, a READ_ONLY token (the
    technical contact's) 403 for a mutation and as its person for a query."""
    return dict(zip(PEOPLE, (support, contact, member, executive, outsider), strict=True))


# README "Who may do what" and the rule tables of each area, plus tokens. "member" is on the
# app's team, "executive" its account executive, "outsider" on no team of the world's apps.
MUTATIONS: dict[str, dict[str, str]] = {
    "createPerson": row(OK, OK, OK, OK, OK),
    "registerMendixId": row(OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),  # someone else's
    "setPersonStatus": row(OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "createApp": row(OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "setAccountExecutive": row(OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, NOT_FOUND),
    "addTeamMember": row(OK, OK, FORBIDDEN, FORBIDDEN, NOT_FOUND),
    "removeTeamMember": row(OK, OK, FORBIDDEN, FORBIDDEN, NOT_FOUND),
    "changeTechnicalContact": row(OK, OK, FORBIDDEN, FORBIDDEN, NOT_FOUND),
    "addTechnicalContact": row(OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, NOT_FOUND),
    "removeTechnicalContact": row(OK, OK, FORBIDDEN, FORBIDDEN, NOT_FOUND),
    "deliverApp": row(OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, NOT_FOUND),
    "moveAppToMendixCloud": row(OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, NOT_FOUND),
    "connectProject": row(CONTACT_ONLY, OK, CONTACT_ONLY, CONTACT_ONLY, NOT_FOUND),
    "addLicense": row(OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, NOT_FOUND),
    "renewLicense": row(OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, NOT_FOUND),
    "changeLicense": row(OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, NOT_FOUND),
    "requestLicenseExpansion": row(OK, OK, FORBIDDEN, FORBIDDEN, NOT_FOUND),
    "postMaintenanceWindow": row(OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "submitSupportRequest": row(FORBIDDEN, OK, OK, FORBIDDEN, NOT_FOUND),
    "commentOnSupportRequest": row(OK, OK, OK, FORBIDDEN, NOT_FOUND),
    "triageSupportRequest": row(OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, NOT_FOUND),
    "resolveSupportRequest": row(OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, NOT_FOUND),
    "rejectSupportRequest": row(OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, NOT_FOUND),
    "approveSupportRequest": row(OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, NOT_FOUND),
    "addEnvironment": row(OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, NOT_FOUND),
    "setEnvironmentState": row(MISSING_RIGHT, OK, MISSING_RIGHT, MISSING_RIGHT, NOT_FOUND),
    "grantEnvironmentRights": row(MISSING_RIGHT, OK, MISSING_RIGHT, MISSING_RIGHT, NOT_FOUND),
    "revokeEnvironmentRights": row(MISSING_RIGHT, OK, MISSING_RIGHT, MISSING_RIGHT, NOT_FOUND),
    "updateAlertSettings": row(MISSING_RIGHT, OK, MISSING_RIGHT, MISSING_RIGHT, NOT_FOUND),
    "reportMetrics": row(FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),  # POST /metrics
    "createAccessToken": row(OK, OK, OK, OK, OK),
    "revokeAccessToken": row(OK, OK, NOT_FOUND, NOT_FOUND, NOT_FOUND),  # the contact's token
}
QUERIES: dict[str, dict[str, str]] = {
    "node": row(SEES, SEES, SEES, SEES, HIDDEN),
    "nodes": row(SEES, SEES, SEES, SEES, HIDDEN),
    "viewer": row(OK, OK, OK, OK, OK),
    "people": row(SEES, SEES, SEES, SEES, HIDDEN),  # the world's technical contact
    "app": row(SEES, SEES, SEES, SEES, HIDDEN),
    "apps": row(SEES, SEES, SEES, SEES, HIDDEN),
    "notifications": row(OK, OK, OK, OK, OK),
    "maintenanceWindows": row(OK, OK, OK, OK, OK),
    "supportRequests": row(SEES, SEES, SEES, SEES, HIDDEN),
    "ownershipSummary": row(SEES, SEES, SEES, SEES, HIDDEN),
    "topTechnicalContacts": row(SEES, SEES, SEES, SEES, HIDDEN),
    "technicalContactLoad": row(SEES, SEES, SEES, SEES, HIDDEN),
    "appsWithInactiveTechnicalContact": row(OK, OK, OK, OK, OK),
    "appsWithTechnicalContactWithoutMendixId": row(OK, OK, OK, OK, OK),
    "mendixCloudAppsWithoutAlerts": row(OK, OK, OK, OK, OK),
    "appsWithProductionManagePermissionsGrantedToOthers": row(OK, OK, OK, OK, OK),
    "appsWithLicensesExpiring": row(SEES, SEES, SEES, SEES, HIDDEN),
    "licenseExpiryTimeline": row(SEES, SEES, SEES, SEES, HIDDEN),
}
# over WebSocket (tests/graph/test_tokens.py and test_subscriptions.py run them live)
SUBSCRIPTIONS: dict[str, dict[str, str]] = {
    "alertRaised": row(OK, OK, OK, OK, NOT_FOUND),  # appId: the world's cloud app
}


def token_cells(operation: str, kind: str) -> dict[str, str]:
    """The token columns: what an INACTIVE person's, a READ_ONLY and a METRICS token get."""
    as_person = QUERIES.get(operation, SUBSCRIPTIONS.get(operation, {})).get("contact")
    read_only = INSUFFICIENT_SCOPE if kind == "mutation" else as_person
    return {"inactive": UNAUTHENTICATED, "read_only": read_only, "metrics": INSUFFICIENT_SCOPE}


def table() -> dict[str, dict[str, str]]:
    """Every operation's row with all eight columns."""
    full: dict[str, dict[str, str]] = {}
    for kind, rows in (
        ("mutation", MUTATIONS),
        ("query", QUERIES),
        ("subscription", SUBSCRIPTIONS),
    ):
        for name, cells in rows.items():
            full[name] = {**cells, **token_cells(name, kind)}  # type: ignore[dict-item]
    return full


def test_every_operation_has_a_row() -> None:
    graphql_schema = schema._schema
    roots = (
        (graphql_schema.mutation_type, MUTATIONS),
        (graphql_schema.query_type, QUERIES),
        (graphql_schema.subscription_type, SUBSCRIPTIONS),
    )
    for root, rows in roots:
        assert root is not None
        assert sorted(root.fields) == sorted(rows), f"{root.name}: add a row for each field"
        assert all(set(cells) == set(PEOPLE) for cells in rows.values())


def test_the_docs_show_this_table() -> None:
    """docs/tokens-and-permissions.md's permission table is this table, cell for cell."""
    lines = DOCS.read_text(encoding="utf-8").splitlines()
    start = lines.index("<!-- permission table: tests/graph/test_permissions.py -->")
    rows = {}
    for line in lines[start + 3 :]:
        if not line.startswith("|"):
            break
        cells = [cell.strip().strip("`") for cell in line.strip("|").split("|")]
        rows[cells[0]] = dict(zip(VIEWERS, cells[1:], strict=True))
    assert rows == table()


# ---------------------------------------------------------------------------------------
# The world: three apps with the same people in the same roles, a license, environments,
# a grant, two support requests; one token per viewer kind.


@dataclass
class World:
    people: dict[str, PersonRecord]
    tokens: dict[str, str]
    ids: dict[str, str]  # global IDs: cloud, onprem, onprem2, production, acceptance, ...


async def build(db: Any, support: PersonRecord) -> World:
    contact = await make_person(db, "contact@x.example", "Cleo", "cleo")
    member = await make_person(db, "member@x.example", "Mo", "mo")
    second = await make_person(db, "second@x.example", "Sid", "sid")
    executive = await make_person(db, "ae@x.example", "Abe")
    outsider = await make_person(db, "out@x.example", "Otto")
    inactive = await make_person(db, "gone@x.example", "Ivo")
    newbie = await make_person(db, "new@x.example", "Nia")
    ids: dict[str, str] = {}
    for key, hosting in (
        ("cloud", "MENDIX_CLOUD"),
        ("onprem", "ON_PREMISES"),
        ("onprem2", "ON_PREMISES"),
    ):
        app = await make_app(db, support, contact, hosting, key)
        ids[key] = app["id"]
        for person in (member, second, inactive):
            _, errors = await run(
                db, support, "addTeamMember", appId=app["id"], personId=pid(person)
            )
            assert errors == []
        _, errors = await run(
            db, support, "setAccountExecutive", appId=app["id"], personId=pid(executive)
        )
        assert errors == []
    _, errors = await run(
        db, support, "addTechnicalContact", appId=ids["onprem2"], personId=pid(second)
    )
    assert errors == []
    for name, production in (("production", True), ("acceptance", False)):
        env = await add_environment(db, support, ids["cloud"], name.title(), production)
        ids[name] = env["environment"]["id"]
    assert (await grant(db, contact, ids["acceptance"], member, "VIEW_LOGS"))["userErrors"] == []
    license = {
        "appId": ids["cloud"],
        "licenseId": "L1",
        "plan": "Standard",
        "namedUsers": 10,
        "concurrentUsers": 5,
        "startsAt": (now() - timedelta(days=10)).isoformat(),
        "expiresAt": (now() + timedelta(days=20)).isoformat(),
    }
    data = await gql(db, support, ADD_LICENSE, {"input": license})
    assert data["addLicense"]["userErrors"] == []
    for key, kind, app, extra in (
        ("question", "QUESTION", "cloud", {}),
        ("change", "CHANGE", "onprem", {"technicalContactId": pid(second)}),
    ):
        request = {
            "kind": kind,
            "appId": ids[app],
            "subject": f"A {kind.lower()}",
            "body": "Please",
            "impact": "LOW",
            "urgency": "LOW",
            **extra,
        }
        submitted = (await gql(db, contact, SUBMIT, {"input": request}))["submitSupportRequest"]
        assert submitted["userErrors"] == []
        ids[key] = submitted["supportRequest"]["id"]
    people = {
        "support": support,
        "contact": contact,
        "member": member,
        "executive": executive,
        "outsider": outsider,
        "inactive": inactive,
        "second": second,
        "newbie": newbie,
    }
    tokens = {kind: await token_store.create_token(db, people[kind].id) for kind in PEOPLE}
    tokens["inactive"] = await token_store.create_token(db, inactive.id)
    await gql(db, support, SET_STATUS, {"id": pid(inactive)})
    tokens["read_only"] = await token_store.create_token(db, contact.id, scope=TokenScope.READ_ONLY)
    cloud_key = (await db["apps"].find_one({"subdomain": "cloud"}))["_id"]
    tokens["metrics"] = await token_store.create_node_token(db, cloud_key)
    _secret, spare = await token_store.issue_token(
        db, scope=TokenScope.FULL, label="spare", person_id=contact.id
    )
    ids["spare_token"] = encode("AccessToken", spare.key)
    return World(people=people, tokens=tokens, ids=ids)


ADD_LICENSE = """
mutation ($input: AddLicenseInput!) { addLicense(input: $input) { userErrors { code } } }"""
SUBMIT = """
mutation ($input: SubmitSupportRequestInput!) {
  submitSupportRequest(input: $input) { supportRequest { id } userErrors { code field } }
}"""
SET_STATUS = """
mutation ($id: ID!) {
  setPersonStatus(input: {personId: $id, status: INACTIVE}) { userErrors { code } }
}"""

Inputs = Callable[[World], dict[str, Any]]


def _later(days: int) -> str:
    return (now() + timedelta(days=days)).isoformat()


# one input per mutation that the allowed viewers carry out successfully
INPUTS: dict[str, Inputs] = {
    "createPerson": lambda w: {"email": "fresh@x.example", "name": "Fresh"},
    "registerMendixId": lambda w: {"personId": pid(w.people["newbie"]), "mendixId": "nia"},
    "setPersonStatus": lambda w: {"personId": pid(w.people["newbie"]), "status": "INACTIVE"},
    "createApp": lambda w: {
        "name": "Fresh",
        "subdomain": "fresh",
        "hosting": "MENDIX_CLOUD",
        "technicalContactId": pid(w.people["contact"]),
    },
    "setAccountExecutive": lambda w: {"appId": w.ids["cloud"], "personId": pid(w.people["newbie"])},
    "addTeamMember": lambda w: {"appId": w.ids["cloud"], "personId": pid(w.people["newbie"])},
    "removeTeamMember": lambda w: {"appId": w.ids["cloud"], "personId": pid(w.people["second"])},
    "changeTechnicalContact": lambda w: {
        "appId": w.ids["cloud"],
        "personId": pid(w.people["second"]),
    },
    "addTechnicalContact": lambda w: {
        "appId": w.ids["onprem"],
        "personId": pid(w.people["second"]),
    },
    "removeTechnicalContact": lambda w: {
        "appId": w.ids["onprem2"],
        "personId": pid(w.people["second"]),
    },
    "deliverApp": lambda w: {"appId": w.ids["cloud"]},
    "moveAppToMendixCloud": lambda w: {"appId": w.ids["onprem"]},
    "connectProject": lambda w: {"appId": w.ids["cloud"], "projectId": "project-1"},
    "addLicense": lambda w: {
        "appId": w.ids["cloud"],
        "licenseId": "L2",
        "plan": "Premium",
        "namedUsers": 5,
        "concurrentUsers": 1,
        "startsAt": _later(0),
        "expiresAt": _later(365),
    },
    "renewLicense": lambda w: {
        "appId": w.ids["cloud"],
        "licenseId": "L1",
        "expiresAt": _later(400),
    },
    "changeLicense": lambda w: {"appId": w.ids["cloud"], "licenseId": "L1", "plan": "Premium"},
    "requestLicenseExpansion": lambda w: {
        "appId": w.ids["cloud"],
        "licenseId": "L1",
        "namedUsers": 20,
        "concurrentUsers": 10,
    },
    "postMaintenanceWindow": lambda w: {
        "title": "Upgrade",
        "description": "Database upgrade",
        "startsAt": _later(3),
        "endsAt": _later(4),
    },
    "submitSupportRequest": lambda w: {
        "kind": "QUESTION",
        "appId": w.ids["cloud"],
        "subject": "How?",
        "body": "Tell me",
        "impact": "LOW",
        "urgency": "MEDIUM",
    },
    "commentOnSupportRequest": lambda w: {"requestId": w.ids["question"], "body": "More"},
    "triageSupportRequest": lambda w: {
        "requestId": w.ids["question"],
        "impact": "HIGH",
        "urgency": "HIGH",
    },
    "resolveSupportRequest": lambda w: {"requestId": w.ids["question"], "resolution": "Done"},
    "rejectSupportRequest": lambda w: {"requestId": w.ids["question"], "resolution": "No"},
    "approveSupportRequest": lambda w: {"requestId": w.ids["change"]},
    "addEnvironment": lambda w: {"appId": w.ids["cloud"], "name": "Test", "production": False},
    "setEnvironmentState": lambda w: {"environmentId": w.ids["acceptance"], "state": "RUNNING"},
    "grantEnvironmentRights": lambda w: {
        "environmentId": w.ids["acceptance"],
        "personId": pid(w.people["member"]),
        "rights": ["ACCESS_TO_MONITORING"],
    },
    "revokeEnvironmentRights": lambda w: {
        "environmentId": w.ids["acceptance"],
        "personId": pid(w.people["member"]),
        "rights": ["VIEW_LOGS"],
    },
    "updateAlertSettings": lambda w: {"environmentId": w.ids["production"], "emailEnabled": False},
    "reportMetrics": lambda w: {
        "environmentId": w.ids["production"],
        "samples": [{"category": "APP_CPU", "value": 5}],
    },
    "createAccessToken": lambda w: {"label": "new"},
    "revokeAccessToken": lambda w: {"id": w.ids["spare_token"]},
}


def mutation_document(name: str) -> str:
    field = schema._schema.mutation_type.fields[name]  # type: ignore[union-attr]
    input_type = graphql.get_named_type(field.args["input"].type).name
    return (
        f"mutation ($input: {input_type}!) {{ {name}(input: $input) {{ "
        "userErrors { code field message } } }"
    )


# root fields: a document, its variables, and whether the world's app (or what is about it)
# shows in the answer
Seen = Callable[[World, dict[str, Any]], bool]
ROOTS: dict[str, tuple[str, Inputs, Seen | None]] = {
    "node": (
        "query ($id: ID!) { node(id: $id) { id } }",
        lambda w: {"id": w.ids["cloud"]},
        lambda w, d: d["node"] is not None,
    ),
    "nodes": (
        "query ($id: ID!) { nodes(ids: [$id]) { id } }",
        lambda w: {"id": w.ids["cloud"]},
        lambda w, d: d["nodes"] == [{"id": w.ids["cloud"]}],
    ),
    "viewer": ("{ viewer { email } }", lambda w: {}, None),
    "people": (
        "{ people(first: 100) { nodes { id } } }",
        lambda w: {},
        lambda w, d: {"id": pid(w.people["contact"])} in d["people"]["nodes"],
    ),
    "app": (
        "query ($id: ID!) { app(id: $id) { id } }",
        lambda w: {"id": w.ids["cloud"]},
        lambda w, d: d["app"] is not None,
    ),
    "apps": (
        "{ apps(first: 100) { nodes { id } } }",
        lambda w: {},
        lambda w, d: {"id": w.ids["cloud"]} in d["apps"]["nodes"],
    ),
    "notifications": ("{ notifications(first: 5) { totalCount } }", lambda w: {}, None),
    "maintenanceWindows": ("{ maintenanceWindows(first: 5) { totalCount } }", lambda w: {}, None),
    "supportRequests": (
        "{ supportRequests(first: 100) { nodes { id } } }",
        lambda w: {},
        lambda w, d: {"id": w.ids["question"]} in d["supportRequests"]["nodes"],
    ),
    "ownershipSummary": (
        "{ ownershipSummary { count } }",
        lambda w: {},
        lambda w, d: sum(item["count"] for item in d["ownershipSummary"]) > 0,
    ),
    "topTechnicalContacts": (
        "{ topTechnicalContacts(first: 5, orderBy: APP_COUNT_DESC) { nodes { person { id } } } }",
        lambda w: {},
        lambda w, d: len(d["topTechnicalContacts"]["nodes"]) > 0,
    ),
    "technicalContactLoad": (
        "query ($id: ID!) { technicalContactLoad(personId: $id) { appCount } }",
        lambda w: {"id": pid(w.people["contact"])},
        lambda w, d: d["technicalContactLoad"] is not None,
    ),
    "appsWithInactiveTechnicalContact": (
        "{ appsWithInactiveTechnicalContact(first: 5) { totalCount } }",
        lambda w: {},
        None,
    ),
    "appsWithTechnicalContactWithoutMendixId": (
        "{ appsWithTechnicalContactWithoutMendixId(first: 5) { totalCount } }",
        lambda w: {},
        None,
    ),
    "mendixCloudAppsWithoutAlerts": (
        "{ mendixCloudAppsWithoutAlerts(first: 5) { totalCount } }",
        lambda w: {},
        None,
    ),
    "appsWithProductionManagePermissionsGrantedToOthers": (
        "{ appsWithProductionManagePermissionsGrantedToOthers(first: 5) { totalCount } }",
        lambda w: {},
        None,
    ),
    "appsWithLicensesExpiring": (
        "{ appsWithLicensesExpiring(days: 30, first: 5) { nodes { id } } }",
        lambda w: {},
        lambda w, d: {"id": w.ids["cloud"]} in d["appsWithLicensesExpiring"]["nodes"],
    ),
    "licenseExpiryTimeline": (
        "{ licenseExpiryTimeline(months: 2) { count } }",
        lambda w: {},
        lambda w, d: sum(item["count"] for item in d["licenseExpiryTimeline"]) > 0,
    ),
}


@pytest.fixture
async def http(store: Store) -> AsyncIterator[httpx.AsyncClient]:
    async def open_store() -> Store:
        return store

    app = create_app(open_store)
    app.state.store = store
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def call(
    http: httpx.AsyncClient, token: str, document: str, variables: dict[str, Any]
) -> httpx.Response:
    return await http.post(
        "/graphql",
        json={"query": document, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
    )


def outcome(response: httpx.Response, field: str) -> str:
    """The cell a response stands for."""
    body = response.json()
    if response.status_code in (401, 403):
        codes = [error["extensions"]["code"] for error in body["errors"]]
        expected = "UNAUTHENTICATED" if response.status_code == 401 else "INSUFFICIENT_SCOPE"
        assert codes == [expected] and body.get("data") is None, body
        return str(response.status_code)
    assert response.status_code == 200 and "errors" not in body, body
    errors = body["data"][field]["userErrors"]
    assert len(errors) <= 1, errors
    return errors[0]["code"] if errors else OK


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
async def test_mutation_rights(
    http: httpx.AsyncClient, db: Any, support: PersonRecord, mutation: str
) -> None:
    """Refusals first, each leaving the database as it was, all in one world; then each
    allowed viewer in a fresh world of its own (an allowed mutation changes it)."""
    expected = table()[mutation]
    document = mutation_document(mutation)
    world = await build(db, support)
    allowed = [viewer for viewer in VIEWERS if expected[viewer] == OK]
    for viewer in VIEWERS:
        if viewer in allowed:
            continue
        await call(http, world.tokens[viewer], "{ viewer { id } }", {})  # last use recorded
        before = await dump(db)
        response = await call(
            http, world.tokens[viewer], document, {"input": INPUTS[mutation](world)}
        )
        assert outcome(response, mutation) == expected[viewer], (viewer, response.text)
        assert await dump(db) == before, viewer
    for viewer in allowed:
        for name in await db.list_collection_names():
            await db[name].delete_many({})
        support = await make_person(
            db, "support@mendix.example", "Sam Support", roles=support.roles
        )
        world = await build(db, support)
        response = await call(
            http, world.tokens[viewer], document, {"input": INPUTS[mutation](world)}
        )
        assert outcome(response, mutation) == OK, (viewer, response.text)


async def test_root_field_rights(http: httpx.AsyncClient, db: Any, support: PersonRecord) -> None:
    world = await build(db, support)
    rows = table()
    for name, (document, variables, seen) in ROOTS.items():
        for viewer in VIEWERS:
            response = await call(http, world.tokens[viewer], document, variables(world))
            expected = rows[name][viewer]
            if expected in (UNAUTHENTICATED, INSUFFICIENT_SCOPE):
                assert outcome(response, name) == expected, (name, viewer)
                continue
            assert response.status_code == 200, (name, viewer, response.text)
            body = response.json()
            assert "errors" not in body, (name, viewer, body)
            if seen is None:
                assert expected == OK, (name, viewer)
            else:
                assert (SEES if seen(world, body["data"]) else HIDDEN) == expected, (
                    name,
                    viewer,
                    body,
                )
    assert set(ROOTS) == set(QUERIES)


def test_inputs_cover_every_mutation() -> None:
    assert set(INPUTS) == set(MUTATIONS)


SUBSCRIBE = "subscription ($id: ID) { alertRaised(appId: $id) { category } }"


async def test_subscription_rights(store: Store, db: Any, support: PersonRecord) -> None:
    """Over a real WebSocket: a refused token closes the socket (4403) at connection_init;
    a person who may not see the app gets a typed error; the others are subscribed."""
    import asyncio
    import json

    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    from tests.graph.test_subscriptions import WAIT, served, until

    world = await build(db, support)
    rows = table()
    async with served(store) as (app, address):
        for name in SUBSCRIPTIONS:
            for viewer in VIEWERS:
                expected = rows[name][viewer]
                async with connect(
                    f"ws://{address}/graphql", subprotocols=["graphql-transport-ws"]
                ) as ws:
                    init = {"Authorization": f"Bearer {world.tokens[viewer]}"}
                    await ws.send(json.dumps({"type": "connection_init", "payload": init}))
                    if expected in (UNAUTHENTICATED, INSUFFICIENT_SCOPE):
                        with pytest.raises(ConnectionClosed) as closed:
                            async with asyncio.timeout(WAIT):
                                await ws.recv()
                        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
                        continue
                    assert json.loads(await ws.recv())["type"] == "connection_ack"
                    payload = {"query": SUBSCRIBE, "variables": {"id": world.ids["cloud"]}}
                    before = app.state.hub.subscribers
                    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
                    if expected == OK:  # subscribed: the hub has one more subscriber
                        await until(lambda: app.state.hub.subscribers > before)  # noqa: B023
                        continue
                    async with asyncio.timeout(WAIT):
                        message = json.loads(await ws.recv())
                    assert message["type"] in ("error", "next"), (viewer, message)
                    errors = message["payload"]
                    errors = errors if message["type"] == "error" else errors["errors"]
                    assert errors[0]["extensions"]["code"] == expected, (viewer, message)
