"""App.viewerCan is the mutations' own authority: wherever it says no the mutation is refused
for authority, wherever it says yes the mutation is never refused for authority (only, maybe,
by a rule)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from resolvers.rights import APP_RIGHTS
from store.people import PersonRecord
from tests.helpers import create_app, gql, make_person, pid, run

CAN = """
query ($id: ID!) { app(id: $id) { viewerCan {
  setAccountExecutive addTeamMember removeTeamMember changeTechnicalContact
  addTechnicalContact removeTechnicalContact deliverApp moveAppToMendixCloud connectProject
  addEnvironment addLicense renewLicense changeLicense requestLicenseExpansion
  submitSupportRequest
} } }"""
AUTHORITY_CODES = {"FORBIDDEN", "TECHNICAL_CONTACT_ONLY"}
LICENSE = "L-1"


def inputs(app: str, people: dict[str, PersonRecord]) -> dict[str, tuple[str, dict[str, Any]]]:
    """Each app mutation with an input that its rules could accept."""
    person = {"appId": app, "personId": pid(people["newbie"])}
    dates = {"startsAt": "2030-01-01T00:00:00Z", "expiresAt": "2031-01-01T00:00:00Z"}
    return {
        "setAccountExecutive": ("AppPersonInput", person),
        "addTeamMember": ("AppPersonInput", person),
        "removeTeamMember": ("AppPersonInput", {"appId": app, "personId": pid(people["other"])}),
        "changeTechnicalContact": (
            "AppPersonInput",
            {"appId": app, "personId": pid(people["member"])},
        ),
        "addTechnicalContact": ("AppPersonInput", person),
        "removeTechnicalContact": (
            "AppPersonInput",
            {"appId": app, "personId": pid(people["second"])},
        ),
        "deliverApp": ("AppInput", {"appId": app}),
        "moveAppToMendixCloud": ("AppInput", {"appId": app}),
        "connectProject": ("ConnectProjectInput", {"appId": app, "projectId": "p-1"}),
        "addEnvironment": ("AddEnvironmentInput", {"appId": app, "name": "Test"}),
        "addLicense": (
            "AddLicenseInput",
            {
                "appId": app,
                "licenseId": "L-2",
                "plan": "Pro",
                "namedUsers": 5,
                "concurrentUsers": 5,
                **dates,
            },
        ),
        "renewLicense": (
            "RenewLicenseInput",
            {"appId": app, "licenseId": LICENSE, "expiresAt": "2040-01-01T00:00:00Z"},
        ),
        "changeLicense": ("ChangeLicenseInput", {"appId": app, "licenseId": LICENSE, "plan": "X"}),
        "requestLicenseExpansion": (
            "RequestLicenseExpansionInput",
            {"appId": app, "licenseId": LICENSE, "namedUsers": 500, "concurrentUsers": 500},
        ),
        "submitSupportRequest": (
            "SubmitSupportRequestInput",
            {
                "kind": "QUESTION",
                "appId": app,
                "subject": "Hi",
                "body": "A question",
                "impact": "LOW",
                "urgency": "LOW",
            },
        ),
    }


async def codes_of(db: Any, viewer: PersonRecord, name: str, kind: str, data: Any) -> list[str]:
    document = f"mutation ($input: {kind}!) {{ {name}(input: $input) {{ userErrors {{ code }} }} }}"
    payload = (await gql(db, viewer, document, {"input": data}))[name]
    return [error["code"] for error in payload["userErrors"]]


Setup = Callable[..., Any]


@pytest.mark.parametrize("hosting", ["MENDIX_CLOUD", "ON_PREMISES"])
@pytest.mark.parametrize("role", ["support", "contact", "member", "executive"])
async def test_viewer_can_is_what_the_mutation_checks(
    db: Any, support: PersonRecord, hosting: str, role: str
) -> None:
    people = {
        name: await make_person(db, f"{name}@x.example", name.title(), name)
        for name in ("contact", "member", "other", "second", "newbie", "executive")
    }
    people["support"] = support
    app = await create_app(db, support, people["contact"], hosting)
    for name in ("member", "other", "second"):
        await run(db, support, "addTeamMember", appId=app["id"], personId=pid(people[name]))
    if hosting == "ON_PREMISES":
        await run(
            db, support, "addTechnicalContact", appId=app["id"], personId=pid(people["second"])
        )
    await run(
        db, support, "setAccountExecutive", appId=app["id"], personId=pid(people["executive"])
    )
    license = inputs(app["id"], people)["addLicense"][1] | {"licenseId": LICENSE}
    assert await codes_of(db, support, "addLicense", "AddLicenseInput", license) == []

    viewer = people[role]
    said: dict[str, bool] = {}
    for name, (kind, data) in inputs(app["id"], people).items():
        can = (await gql(db, viewer, CAN, {"id": app["id"]}))["app"]["viewerCan"][name]
        said[name] = can
        refused = await codes_of(db, viewer, name, kind, data)
        if can:
            assert not set(refused) & AUTHORITY_CODES, (name, refused)
        else:
            assert refused and refused[0] in AUTHORITY_CODES, (name, refused)
    assert set(said) == set(APP_RIGHTS)
    if role == "support":
        assert said["deliverApp"] and not said["connectProject"]
    if role == "member":
        assert said["submitSupportRequest"] and not said["addTeamMember"]
