"""Text that ends up in email headers is single-line: a line break or other control character is
refused at input (INVALID_INPUT with the field), and nothing changes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from store.people import PersonRecord
from store.records import now
from tests.helpers import create_app, dump, gql, make_person, pid

BAD = {
    "a line feed": "Ann\nBcc: all@acme.example",
    "a carriage return": "Ann\r",
    "CRLF in the middle": "Ann\r\nSubject: spam",
    "a NUL": "Ann\x00",
    "an escape": "Ann\x1b[31m",
    "DEL": "Ann\x7f",
    "a Unicode line separator": "Ann\u2028Bcc: x",
    "a tab": "Ann\tHenderson",
}


def doc(mutation: str, input_type: str) -> str:
    return f"""
mutation ($input: {input_type}!) {{
  {mutation}(input: $input) {{ userErrors {{ field message code }} }}
}}"""


def soon(days: int) -> str:
    return (now() + timedelta(days=days)).isoformat()


@pytest.fixture
async def setup(db: Any, support: PersonRecord) -> dict[str, Any]:
    tess = await make_person(db, "tess@acme.example", "Tess", "tess")
    onprem = await create_app(db, support, tess, "ON_PREMISES", "onprem")
    cloud = await create_app(db, support, tess, "MENDIX_CLOUD", "cloud")
    return {"tess": tess, "onprem": onprem["id"], "cloud": cloud["id"]}


def cases(setup: dict[str, Any]) -> dict[str, tuple[str, str, dict[str, Any], str]]:
    """mutation -> (document, viewer, a valid input, the text field to spoil)."""
    request = {
        "kind": "QUESTION",
        "appId": setup["onprem"],
        "subject": "Scaling",
        "body": "Line one\nLine two",
        "impact": "LOW",
        "urgency": "LOW",
    }
    license = {
        "appId": setup["onprem"],
        "licenseId": "L-1",
        "plan": "Standard",
        "namedUsers": 10,
        "concurrentUsers": 5,
        "startsAt": soon(-1),
        "expiresAt": soon(300),
    }
    return {
        "createPerson": (
            doc("createPerson", "CreatePersonInput"),
            "support",
            {"email": "new@acme.example", "name": "New Person"},
            "name",
        ),
        "createPerson email": (
            doc("createPerson", "CreatePersonInput"),
            "support",
            {"email": "new@acme.example", "name": "New Person"},
            "email",
        ),
        "createApp": (
            doc("createApp", "CreateAppInput"),
            "support",
            {
                "name": "Shop",
                "subdomain": "shop",
                "hosting": "MENDIX_CLOUD",
                "technicalContactId": pid(setup["tess"]),
            },
            "name",
        ),
        "submitSupportRequest": (
            doc("submitSupportRequest", "SubmitSupportRequestInput"),
            "tess",
            request,
            "subject",
        ),
        "postMaintenanceWindow": (
            doc("postMaintenanceWindow", "PostMaintenanceWindowInput"),
            "support",
            {
                "title": "Database upgrade",
                "description": "Two lines\nof detail",
                "startsAt": soon(2),
                "endsAt": soon(3),
                "appIds": [setup["cloud"]],
            },
            "title",
        ),
        "addLicense": (doc("addLicense", "AddLicenseInput"), "support", license, "plan"),
        "addEnvironment": (
            doc("addEnvironment", "AddEnvironmentInput"),
            "support",
            {"appId": setup["cloud"], "name": "Test"},
            "name",
        ),
    }


CASES = [
    "createPerson",
    "createPerson email",
    "createApp",
    "submitSupportRequest",
    "postMaintenanceWindow",
    "addLicense",
    "addEnvironment",
]


@pytest.mark.parametrize("bad", list(BAD))
@pytest.mark.parametrize("case", CASES)
async def test_a_control_character_in_a_text_input_is_refused_and_nothing_changes(
    db: Any, support: PersonRecord, setup: dict[str, Any], case: str, bad: str
) -> None:
    document, viewer_name, valid, field = cases(setup)[case]
    viewer = support if viewer_name == "support" else setup[viewer_name]
    spoiled = BAD[bad] if field != "email" else BAD[bad].replace("Ann", "ann@acme.example")
    before = await dump(db)
    data = await gql(db, viewer, document, {"input": {**valid, field: spoiled}})
    (payload,) = data.values()
    assert payload["userErrors"] == [
        {
            "field": ["input", field],
            "message": f"{field}: must not contain line breaks or control characters",
            "code": "INVALID_INPUT",
        }
    ]
    assert await dump(db) == before
    # the same input without the bad character is accepted
    data = await gql(db, viewer, document, {"input": valid})
    (payload,) = data.values()
    assert payload["userErrors"] == []


@pytest.mark.parametrize("text", ["Line one\r\nLine two\n\n\tindented", "one line"])
async def test_bodies_keep_line_breaks_and_tabs(db: Any, setup: dict[str, Any], text: str) -> None:
    document, _, valid, _ = cases(setup)["submitSupportRequest"]
    data = await gql(db, setup["tess"], document, {"input": {**valid, "body": text}})
    assert data["submitSupportRequest"]["userErrors"] == []


@pytest.mark.parametrize("text", ["NUL\x00here", "bell\x07", "escape\x1b[2J"])
async def test_bodies_refuse_other_control_characters(
    db: Any, setup: dict[str, Any], text: str
) -> None:
    document, _, valid, _ = cases(setup)["submitSupportRequest"]
    before = await dump(db)
    data = await gql(db, setup["tess"], document, {"input": {**valid, "body": text}})
    (error,) = data["submitSupportRequest"]["userErrors"]
    assert (error["field"], error["code"]) == (["input", "body"], "INVALID_INPUT")
    assert await dump(db) == before
