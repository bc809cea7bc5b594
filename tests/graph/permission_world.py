"""The world the permission table is checked in: three apps where the same people hold
the same roles, one token per kind of viewer, and for each operation an input that the
allowed viewers carry out (tests/graph/test_permissions.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import graphql

from graph.schema import schema
from resolvers.ids import encode
from store import tokens as token_store
from store.people import PersonRecord
from store.records import now
from store.tokens import TokenScope
from tests.graph.cloud import add_environment, grant
from tests.graph.permission_table import PEOPLE
from tests.helpers import create_app as make_app
from tests.helpers import gql, make_person, pid, run


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
    "appRegions": ("{ appRegions }", lambda w: {}, None),
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
