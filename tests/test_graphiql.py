"""GraphiQL at /graphql in a real headless browser (Debian's chromium through Playwright),
offline: every request the page makes goes to the API's own origin (anything else is
aborted and fails the test). It runs a query with the token the URL fragment put into the
Headers editor, then a subscription over graphql-ws that receives an alert."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from graph import ide
from tests.browser import ARGS, CHROMIUM, served

QUERY = "{ viewer { name isSupport } apps(first: 3) { totalCount } }"
SUBSCRIPTION = "subscription { alertRaised { category status environmentName } }"


@dataclass
class Site:
    url: str
    app: Any = None
    facts: dict[str, Any] = field(default_factory=dict)


async def _seed(db: Any, site: Site) -> None:
    from ownership.demo import SUPPORT_EMAIL, load_demo
    from resolvers.ids import encode
    from store import people as people_store
    from store import tokens

    await load_demo(db)
    support = await people_store.get_person_by_email(db, SUPPORT_EMAIL)
    assert support is not None
    site.facts["token"] = await tokens.create_token(db, support.id)
    site.facts["name"] = support.name
    site.facts["apps"] = await db["apps"].count_documents({})
    app = await db["apps"].find_one({"environments.production": True})
    production = next(env for env in app["environments"] if env["production"])
    site.facts["environment"] = encode("Environment", production["environment_id"])
    site.facts["node_token"] = await tokens.create_node_token(db, app["_id"])


@pytest.fixture
def site() -> Iterator[Site]:
    from graph.app import create_app
    from store.db import connect

    site = Site(url="")

    def make_app(url: str) -> Any:
        site.url = url
        site.app = create_app(
            lambda: connect(None), lambda store: _seed(store.db, site), poll_interval=0.05
        )
        return site.app

    with served(make_app, ws="websockets-sansio", wait=30):
        yield site


def _require_browser_and_assets() -> None:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)")
    if not ide.installed():
        pytest.fail(f"GraphiQL's npm packages are missing in {ide.assets()}: run `make ide`")


def _set_query(page: Any, text: str) -> None:
    """Type into the query editor (a CodeMirror 5 instance) and wait until GraphiQL parsed
    it (debounced), as it has long before a person clicks Run."""
    editor = "document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror"
    page.evaluate(f"(text) => {editor}.setValue(text)", text)
    page.wait_for_function(
        f"(text) => {editor}.documentAST && {editor}.documentAST.loc.source.body === text", arg=text
    )


def _result(page: Any) -> Any:
    text = page.evaluate(
        "() => document.querySelector('.graphiql-response .CodeMirror').CodeMirror.getValue()"
    )
    return json.loads(text) if text.strip() else None


def _wait(condition: Any, what: str) -> None:
    for _ in range(400):  # a guard against a hang, not a speed assertion
        if condition():
            return
        threading.Event().wait(0.05)
    pytest.fail(f"timed out waiting for {what}")


def test_graphiql_offline_query_and_subscription(
    site: Site, request: pytest.FixtureRequest
) -> None:
    _require_browser_and_assets()
    from playwright.sync_api import expect, sync_playwright

    output = Path(request.config.rootpath) / "test-output"
    output.mkdir(exist_ok=True)
    outside: list[str] = []
    seen: list[str] = []
    sockets: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})

            def guard(route: Any) -> None:
                url = route.request.url
                seen.append(url)
                if url.startswith(site.url + "/"):
                    route.continue_()
                else:
                    outside.append(url)
                    route.abort()

            context.route("**/*", guard)
            page = context.new_page()
            page.on("websocket", lambda ws: sockets.append(ws.url))
            page.goto(f"{site.url}/graphql#token={site.facts['token']}")
            expect(page.locator(".graphiql-container")).to_be_visible()
            assert "token=" not in page.url  # the fragment was taken out of the address bar
            # the visible one of the variables/headers editors: Headers, opened by the page
            headers = page.evaluate(
                "() => document.querySelector("
                "'.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror')"
                ".CodeMirror.getValue()"
            )
            assert json.loads(headers) == {"Authorization": f"Bearer {site.facts['token']}"}

            _set_query(page, QUERY)
            page.click(".graphiql-execute-button")
            _wait(lambda: _result(page) is not None, "the query's result")
            assert _result(page)["data"] == {
                "viewer": {"name": site.facts["name"], "isSupport": True},
                "apps": {"totalCount": site.facts["apps"]},
            }

            hub = site.app.state.hub
            before = hub.subscribers
            _set_query(page, SUBSCRIPTION)
            page.click(".graphiql-execute-button")
            _wait(lambda: hub.subscribers > before, "the subscription to be registered")
            body = {
                "environmentId": site.facts["environment"],
                "samples": [{"category": "APP_CPU", "value": 99.5}],
            }
            reported = httpx.post(
                site.url + "/metrics",
                json=body,
                headers={"Authorization": f"Bearer {site.facts['node_token']}"},
            )
            assert reported.status_code == 200, reported.text
            _wait(
                lambda: (_result(page) or {}).get("data", {}).get("alertRaised") is not None,
                "the alert to arrive in GraphiQL",
            )
            alert = _result(page)["data"]["alertRaised"]
            assert (alert["category"], alert["status"], alert["environmentName"]) == (
                "APP_CPU",
                "CRITICAL",
                "Production",
            )
            page.screenshot(path=str(output / "graphiql.png"))
        finally:
            browser.close()
    assert outside == []
    assert sockets == [site.url.replace("http", "ws") + "/graphql"]
    assert {url.split("?")[0] for url in seen} >= {
        f"{site.url}/graphiql/{name}" for name in (*ide.BUNDLES, ide.PAGE_SCRIPT)
    }


async def test_graphiql_files_are_a_fixed_list() -> None:
    from graph.app import create_app

    app = create_app(lambda: None)  # type: ignore[arg-type, return-value]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        page = await client.get("/graphql", headers={"Accept": "text/html"})
        assert page.status_code == 200
        assert "//" not in page.text.replace("<!doctype html>", "").split("<body>")[1]
        for name in (*ide.BUNDLES, ide.PAGE_SCRIPT):
            assert (await client.get(f"/graphiql/{name}")).status_code == 200, name
        for name in ("graphiql/package.json", "..%2Fpackage.json", "react.production.min.js"):
            assert (await client.get(f"/graphiql/{name}")).status_code == 404, name


async def test_graphiql_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from graph.app import create_app

    monkeypatch.setenv("GRAPHIQL_ASSETS", str(tmp_path))
    app = create_app(lambda: None)  # type: ignore[arg-type, return-value]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        page = await client.get("/graphql", headers={"Accept": "text/html"})
        assert page.status_code == 503 and "make ide" in page.text
        assert (await client.get("/graphiql/react.js")).status_code == 404
