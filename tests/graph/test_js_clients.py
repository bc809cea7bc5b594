"""The graphql-ws JavaScript client (the one under Apollo Client, urql and GraphiQL), run by
node against the app served by uvicorn: it connects with the token in connection_init,
subscribes, and receives an alert. graphql-ws drops binary frames ("Message is missing the
'type' property"), so this fails unless every frame is text. Its npm packages are in
tests/js/ (package.json, package-lock.json), installed by `make test`."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from store import tokens as token_store
from store.db import Store
from store.people import PersonRecord
from tests.graph.cloud import cloud
from tests.graph.test_subscriptions import SUBSCRIBE, WAIT, post_metrics, served, until

JS = Path(__file__).resolve().parents[1] / "js"
NODE = shutil.which("node")


def _node() -> str:
    if NODE is None:
        pytest.skip("node is not installed: the graphql-ws JavaScript client cannot run")
    if not (JS / "node_modules" / "graphql-ws").is_dir():
        pytest.fail(f"{JS}/node_modules is missing: run `make test` (it runs npm ci there)")
    return NODE


async def _line(process: asyncio.subprocess.Process) -> dict[str, Any] | str:
    assert process.stdout is not None
    async with asyncio.timeout(WAIT):
        raw = await process.stdout.readline()
    text = raw.decode().strip()
    return text if text == "connected" else json.loads(text or "{}")


async def test_graphql_ws_client_receives_an_alert(
    store: Store, db: Any, support: PersonRecord
) -> None:
    node = _node()
    c = await cloud(db, support)
    token = await token_store.create_token(db, c.contact.id)
    key = (await db["apps"].find_one({"subdomain": "shop"}))["_id"]
    node_token = await token_store.create_node_token(db, key)
    async with served(store) as (app, address):
        hub = app.state.hub
        before = hub.subscribers
        process = await asyncio.create_subprocess_exec(
            node,
            str(JS / "subscribe.mjs"),
            f"ws://{address}/graphql",
            token,
            SUBSCRIBE,
            json.dumps({"appId": c.app["id"]}),
            stdout=asyncio.subprocess.PIPE,
            cwd=JS,
        )
        try:
            assert await _line(process) == "connected"
            await until(lambda: hub.subscribers > before)
            response = await post_metrics(address, node_token, c.production, APP_CPU=97)
            assert response.status_code == 200
            result = await _line(process)
            assert isinstance(result, dict) and "errors" not in result, result
            alert = result["data"]["alertRaised"]
            assert (alert["category"], alert["status"]) == ("APP_CPU", "CRITICAL")
            assert alert["app"]["id"] == c.app["id"]
            async with asyncio.timeout(WAIT):
                assert await process.wait() == 0
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()


async def test_graphql_ws_client_with_a_bad_token_is_refused(
    store: Store, db: Any, support: PersonRecord
) -> None:
    node = _node()
    await cloud(db, support)
    async with served(store) as (_, address):
        process = await asyncio.create_subprocess_exec(
            node,
            str(JS / "subscribe.mjs"),
            f"ws://{address}/graphql",
            "mxo_not_a_token",
            SUBSCRIBE,
            stdout=asyncio.subprocess.PIPE,
            cwd=JS,
        )
        result = await _line(process)
        async with asyncio.timeout(WAIT):
            assert await process.wait() == 1
    assert isinstance(result, dict) and "4403" in result["failed"], result
