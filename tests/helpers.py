"""Test helpers: run GraphQL documents against the schema, read the whole database."""

from __future__ import annotations

from typing import Any

from bson import ObjectId

from graph.context import Context, Loaders
from graph.schema import schema
from resolvers.ids import encode
from store import people as people_store
from store.people import PersonRecord, Role


async def gql(
    db: Any, viewer: PersonRecord, document: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Execute a document as ``viewer``; fails the test on any GraphQL error."""
    result = await schema.execute(
        document,
        variable_values=variables,
        context_value=Context(db=db, viewer=viewer, loaders=Loaders.create(db)),
    )
    assert result.errors is None, result.errors
    assert result.data is not None
    return result.data


async def gql_errors(
    db: Any, viewer: PersonRecord, document: str, variables: dict[str, Any] | None = None
) -> list[Any]:
    """Execute a document that must fail with GraphQL errors; returns them."""
    result = await schema.execute(
        document,
        variable_values=variables,
        context_value=Context(db=db, viewer=viewer, loaders=Loaders.create(db)),
    )
    assert result.errors, result.data
    return list(result.errors)


async def dump(db: Any) -> dict[str, list[dict[str, Any]]]:
    """Every document of every collection, for "nothing changed" assertions: the rate
    limits' spent points aside (a request that changes nothing still spends them), and a
    token's ``last_used_at`` (authenticating a request records it at most once a minute,
    store/tokens.py: bookkeeping of the request, not a change it made)."""
    names = sorted(set(await db.list_collection_names()) - {"rate_limits"})
    every = {name: await db[name].find({}).sort("_id", 1).to_list(None) for name in names}
    for token in every.get("tokens", []):
        token.pop("last_used_at", None)
    return every


async def make_person(
    db: Any,
    email: str,
    name: str = "Someone",
    mendix_id: str | None = None,
    roles: tuple[Role, ...] = (),
) -> PersonRecord:
    return await people_store.create_person(
        db, email=email, name=name, mendix_id=mendix_id, roles=roles
    )


def gid(type_name: str, key: ObjectId) -> str:
    return encode(type_name, key)


def pid(person: PersonRecord) -> str:
    return encode("Person", person.id)


APP_FIELDS = """
  id name subdomain hosting status version deliveredAt
  technicalContacts { id } teamMembers { id } accountExecutive { id }
"""

CREATE_APP = f"""
mutation ($input: CreateAppInput!) {{
  createApp(input: $input) {{ app {{ {APP_FIELDS} }} userErrors {{ field message code }} }}
}}"""


def app_mutation(name: str, input_type: str = "AppPersonInput") -> str:
    """The document for one of the app mutations, returning the app and userErrors."""
    return f"""
mutation ($input: {input_type}!) {{
  {name}(input: $input) {{ app {{ {APP_FIELDS} }} userErrors {{ field message code }} }}
}}"""


async def create_app(
    db: Any,
    support: PersonRecord,
    contact: PersonRecord,
    hosting: str = "MENDIX_CLOUD",
    subdomain: str | None = None,
) -> dict[str, Any]:
    subdomain = subdomain or f"app-{ObjectId()}"
    data = await gql(
        db,
        support,
        CREATE_APP,
        {
            "input": {
                "name": f"App {subdomain}",
                "subdomain": subdomain,
                "hosting": hosting,
                "technicalContactId": pid(contact),
            }
        },
    )
    assert data["createApp"]["userErrors"] == []
    return data["createApp"]["app"]


async def run(
    db: Any, viewer: PersonRecord, mutation: str, **input: Any
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """Run an app mutation by name with ``input``; returns (app, userErrors)."""
    input_type = (
        "AppInput" if mutation in ("deliverApp", "moveAppToMendixCloud") else "AppPersonInput"
    )
    data = await gql(db, viewer, app_mutation(mutation, input_type), {"input": input})
    payload = data[mutation]
    return payload["app"], payload["userErrors"]


def ids(people: list[dict[str, Any]]) -> list[str]:
    return [person["id"] for person in people]


async def refused(
    db: Any, viewer: PersonRecord, mutation: str, code: str, **input: Any
) -> list[dict[str, Any]]:
    """Run a mutation that must be refused with ``code`` and must leave the database as it was."""
    before = await dump(db)
    app, errors = await run(db, viewer, mutation, **input)
    assert app is None
    assert [error["code"] for error in errors] == [code], errors
    assert await dump(db) == before
    return errors
