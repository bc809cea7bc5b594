"""Shared setup for the Mendix Cloud tests: a cloud app with a team and two environments."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bson import ObjectId

from graph.context import Context, Loaders
from graph.schema import schema
from resolvers.ids import decode
from store.people import PersonRecord
from tests.helpers import create_app, dump, gql, make_person, pid, run

ADD_ENVIRONMENT = """
mutation ($input: AddEnvironmentInput!) {
  addEnvironment(input: $input) {
    environment { id name production state app { id version } }
    userErrors { field message code }
  }
}"""

ENV_FIELDS = """
  id name state
  grants { right person { id } grantedBy { id } }
  viewerPermissions { rights canGrantRights canGrantManagePermissions canStartStop
                      canConfigureAlerts canConnectProject isTechnicalContact }
  alertSettings { emailEnabled recipients { id }
                  thresholds { category warning critical unit lowerIsWorse } }
  alertStatus { category status }
"""


def env_mutation(name: str, input_type: str) -> str:
    return f"""
mutation ($input: {input_type}!) {{
  {name}(input: $input) {{ environment {{ {ENV_FIELDS} }} userErrors {{ field message code }} }}
}}"""


GRANT = env_mutation("grantEnvironmentRights", "EnvironmentRightsInput")
REVOKE = env_mutation("revokeEnvironmentRights", "EnvironmentRightsInput")
SET_STATE = env_mutation("setEnvironmentState", "SetEnvironmentStateInput")
ALERT_SETTINGS = env_mutation("updateAlertSettings", "UpdateAlertSettingsInput")

ENVIRONMENT = f"""
query ($id: ID!) {{ node(id: $id) {{ ... on Environment {{ {ENV_FIELDS} }} }} }}"""


@dataclass
class Cloud:
    support: PersonRecord
    contact: PersonRecord  # the technical contact
    manager: PersonRecord  # a member who will hold Manage permissions
    member: PersonRecord  # a plain member
    outsider: PersonRecord  # on no team
    app: dict[str, Any]
    production: str  # environment IDs
    acceptance: str


async def add_environment(
    db: Any, viewer: PersonRecord, app_id: str, name: str, production: bool = False
) -> dict[str, Any]:
    data = await gql(
        db,
        viewer,
        ADD_ENVIRONMENT,
        {"input": {"appId": app_id, "name": name, "production": production}},
    )
    return data["addEnvironment"]


async def cloud(db: Any, support: PersonRecord, subdomain: str = "shop") -> Cloud:
    contact = await make_person(db, f"tc@{subdomain}.example", "Tess", f"tess-{subdomain}")
    manager = await make_person(db, f"mgr@{subdomain}.example", "Max", f"max-{subdomain}")
    member = await make_person(db, f"mem@{subdomain}.example", "Mia")
    outsider = await make_person(db, f"out@{subdomain}.example", "Otto")
    app = await create_app(db, support, contact, "MENDIX_CLOUD", subdomain)
    for person in (manager, member):
        await run(db, support, "addTeamMember", appId=app["id"], personId=pid(person))
    production = await add_environment(db, support, app["id"], "Production", True)
    acceptance = await add_environment(db, support, app["id"], "Acceptance")
    return Cloud(
        support,
        contact,
        manager,
        member,
        outsider,
        app,
        production["environment"]["id"],
        acceptance["environment"]["id"],
    )


async def grant(
    db: Any, viewer: PersonRecord, env: str, person: PersonRecord, *rights: str
) -> dict[str, Any]:
    data = await gql(
        db,
        viewer,
        GRANT,
        {"input": {"environmentId": env, "personId": pid(person), "rights": list(rights)}},
    )
    return data["grantEnvironmentRights"]


async def refused(
    db: Any, viewer: PersonRecord, document: str, field: str, code: str, **input: Any
) -> list[dict[str, Any]]:
    """A mutation refused with ``code`` that leaves every collection as it was."""
    before = await dump(db)
    payload = (await gql(db, viewer, document, {"input": input}))[field]
    assert [error["code"] for error in payload["userErrors"]] == [code], payload
    assert all(value is None for key, value in payload.items() if key != "userErrors")
    assert await dump(db) == before
    return payload["userErrors"]


async def as_node(db: Any, app_id: str | ObjectId, document: str, variables: dict[str, Any]) -> Any:
    """Execute as the cloud node of ``app_id`` (what a node token gives over HTTP)."""
    from graph.http import node_viewer

    key = decode(app_id, "App") if isinstance(app_id, str) else app_id
    result = await schema.execute(
        document,
        variable_values=variables,
        context_value=Context(
            db=db, viewer=node_viewer(), loaders=Loaders.create(db), node_app_id=key
        ),
    )
    assert result.errors is None, result.errors
    return result.data


REPORT = """
mutation ($input: ReportMetricsInput!) {
  reportMetrics(input: $input) {
    alerts { id category status previousStatus sequence value emailRecipients recovered }
    userErrors { field message code }
  }
}"""


async def report(db: Any, app_id: str, env: str, **samples: float) -> dict[str, Any]:
    data = await as_node(
        db,
        app_id,
        REPORT,
        {
            "input": {
                "environmentId": env,
                "samples": [{"category": k, "value": v} for k, v in samples.items()],
            }
        },
    )
    return data["reportMetrics"]
