"""The dashboard page is served self-contained, and its GraphQL operations
(graph/operations/<Name>.graphql) are whole named documents that validate against the
schema, so a server can register them as trusted documents."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from graphql import OperationDefinitionNode, parse, validate

from graph.schema import schema

OPERATIONS = Path(__file__).parents[1] / "graph" / "operations"
STATIC = Path(__file__).parents[1] / "graph" / "static"


def operations() -> dict[str, str]:
    found = {path.stem: path.read_text(encoding="utf-8") for path in OPERATIONS.glob("*.graphql")}
    assert found, "no operations in graph/operations/"
    return found


def test_every_operation_is_one_named_document_valid_against_the_schema() -> None:
    for name, document in operations().items():
        ast = parse(document)
        ops = [d for d in ast.definitions if isinstance(d, OperationDefinitionNode)]
        assert len(ops) == 1 and ops[0].name and ops[0].name.value == name, name
        errors = validate(schema._schema, ast)
        assert not errors, f"{name}: {[error.message for error in errors]}"


def test_the_page_sends_exactly_these_operations_and_no_query_text_of_its_own() -> None:
    used = set()
    for path in STATIC.glob("*.js"):
        text = path.read_text(encoding="utf-8")
        used |= set(re.findall(r'\bgql\("(\w+)"', text))
        assert not re.search(r"\b(query|mutation|subscription)\s+\w+\s*[({]", text), path
    assert used == set(operations())


async def test_the_page_and_its_assets_are_served_and_self_contained() -> None:
    import httpx

    from graph.app import STATIC, create_app

    async def no_store() -> Any:
        raise AssertionError("not needed")

    transport = httpx.ASGITransport(app=create_app(no_store))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        index = await client.get("/")
        assert index.status_code == 200
        assert index.headers["content-type"].startswith("text/html")
        assets = re.findall(r'(?:src|href)="([^"#]+)"', index.text)
        assert len(assets) >= 7
        for asset in assets:
            assert asset.startswith("/static/"), asset  # nothing from elsewhere
            assert (await client.get(asset)).status_code == 200
        assert (await client.get("/static/nope.js")).status_code == 404
        for name, document in operations().items():  # the page's documents, as registered
            served = await client.get(f"/operations/{name}.graphql")
            assert served.status_code == 200 and served.text == document
    for path in STATIC.iterdir():
        if path.is_file():
            assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", path.read_text()), path
