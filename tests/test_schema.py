"""schema.graphql is the exported SDL; this fails when the code and the file drift apart."""

from __future__ import annotations

from pathlib import Path

from graph.schema import schema

SDL = Path(__file__).resolve().parent.parent / "schema.graphql"


def test_committed_schema_matches_the_code() -> None:
    assert SDL.read_text(encoding="utf-8") == schema.as_str() + "\n", (
        "schema.graphql is stale: run `make schema` and commit it"
    )


def test_schema_follows_the_api_conventions() -> None:
    text = SDL.read_text(encoding="utf-8")
    assert "interface Node" in text
    for payload in ("AppPayload", "PersonPayload"):
        block = text.split(f"type {payload} {{", 1)[1].split("}", 1)[0]
        assert "userErrors: [UserError!]!" in block
    for connection in ("AppConnection", "PersonConnection", "AuditEventConnection"):
        block = text.split(f"type {connection} {{", 1)[1].split("}", 1)[0]
        for field in ("edges", "nodes", "pageInfo", "totalCount"):
            assert field in block
