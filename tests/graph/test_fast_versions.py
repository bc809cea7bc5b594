"""On dependency versions it was not verified against, graph/fast/ turns itself off: its
modules that mirror internals are never imported, answers come from strawberry's standard
execution (whole documents, no front), and one warning says so at startup."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Runs in a fresh interpreter: importlib.metadata reports an unverified strawberry version
# before anything of the application is imported.
SCRIPT = r"""
import asyncio, importlib.metadata as metadata, json, sys

real = metadata.version
metadata.version = lambda name: "0.999.0" if name == "strawberry-graphql" else real(name)

import httpx
from mongomock_motor import AsyncMongoMockClient

from graph import fast
from graph.app import create_app
from store import tokens
from store.db import Store, ensure_indexes
from store.people import Role
from tests.helpers import create_app as create_mendix_app, make_person

QUERY = "{ apps(first: 5) { totalCount nodes { name technicalContacts { email } } } }"


async def main():
    client = AsyncMongoMockClient(tz_aware=True)
    store = Store(db=client.get_database("versions"), client=client, embedded=True)
    await ensure_indexes(store.db)
    support = await make_person(store.db, "s@example.com", "Support", roles=(Role.SUPPORT,))
    contact = await make_person(store.db, "c@example.com", "Contact", mendix_id="c-1")
    await create_mendix_app(store.db, support, contact, subdomain="shop")
    token = await tokens.create_token(store.db, support.id)

    async def open_store():
        return store

    app = create_app(open_store)
    app.state.store = store
    transport = httpx.ASGITransport(app=app)
    answers = []
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        for _ in range(3):  # the front would have learned the document after the first
            response = await http.post(
                "/graphql", json={"query": QUERY}, headers={"Authorization": f"Bearer {token}"}
            )
            answers.append([response.status_code, response.json()["data"]])
    print(json.dumps({
        "active": fast.ACTIVE,
        "unverified": fast.UNVERIFIED,
                "loaded": sorted(m for m in sys.modules if m.startswith("graph.fast.")),
        "answers": answers,
    }))


asyncio.run(main())
"""


def test_unverified_versions_turn_the_fast_path_off() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OWNERSHIP_")}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["active"] is False
    assert result["unverified"] == {"strawberry-graphql": "0.999.0"}
    # none of the modules that mirror dependency internals was even imported
    assert result["loaded"] == ["graph.fast.off", "graph.fast.switches", "graph.fast.versions"]
    expected = {
        "apps": {
            "totalCount": 1,
            "nodes": [{"name": "App shop", "technicalContacts": [{"email": "c@example.com"}]}],
        }
    }
    assert result["answers"] == [[200, expected]] * 3
    warnings = [line for line in done.stderr.splitlines() if "fast read path off" in line]
    assert len(warnings) == 1, done.stderr
    assert "strawberry-graphql 0.999.0" in warnings[0]
