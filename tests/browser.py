"""What the dashboard's browser tests share: a served, seeded site and a headless chromium.

uvicorn serves the app on a loopback port with the demo data, 150 generated apps and a
person who is technical contact of 60 apps; Debian's chromium (/usr/bin/chromium) is driven
through Playwright's Python package (its own browser download is never used). Facts the
pages are checked against come from the API itself (GraphQL executed in-process as Support).
Screenshots go to test-output/ (git-ignored).
"""

from __future__ import annotations

import asyncio
import re
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-extensions",
    "--disable-sync",
    "--no-first-run",
    "--mute-audio",
]
HEAVY_APPS = 60
OUTPUT = Path(__file__).parents[1] / "test-output"


@dataclass
class Site:
    url: str
    tokens: dict[str, str] = field(default_factory=dict)  # support, customer
    ids: dict[str, str] = field(default_factory=dict)  # global IDs of seeded things
    db: Any = None
    loop: asyncio.AbstractEventLoop | None = None

    def query(self, document: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """Run a GraphQL document as Support in the server's loop (the facts to check)."""
        assert self.loop is not None
        future = asyncio.run_coroutine_threadsafe(self._query(document, variables), self.loop)
        return future.result(timeout=60)

    async def _query(self, document: str, variables: dict[str, Any] | None) -> dict[str, Any]:
        from ownership.demo import SUPPORT_EMAIL
        from store import people as people_store
        from tests.helpers import gql

        support = await people_store.get_person_by_email(self.db, SUPPORT_EMAIL)
        assert support is not None
        return await gql(self.db, support, document, variables)


async def _seed(db: Any, site: Site) -> None:
    from ownership.demo import CONTACT_EMAIL, SUPPORT_EMAIL, load_demo
    from ownership.generate import generate
    from resolvers.ids import encode
    from store import apps as app_store
    from store import people as people_store
    from store import tokens
    from store.apps import Hosting

    site.db, site.loop = db, asyncio.get_running_loop()
    await load_demo(db)
    await generate(db, 150, seed=5)
    heavy = await people_store.create_person(
        db, email="heavy@customer.example", name="Hana Heavy", mendix_id="hana.heavy"
    )
    for index in range(HEAVY_APPS):
        await app_store.create_app(
            db,
            name=f"Heavy App {index:02d}",
            subdomain=f"heavy-app-{index:02d}",
            hosting=Hosting.ON_PREMISES,
            technical_contact_id=heavy.id,
        )
    site.ids["heavy"] = encode("Person", heavy.id)
    for key, email in (("support", SUPPORT_EMAIL), ("customer", CONTACT_EMAIL)):
        person = await people_store.get_person_by_email(db, email)
        assert person is not None
        site.ids[key] = encode("Person", person.id)
        site.tokens[key] = await tokens.create_token(db, person.id)


@contextmanager
def served(make_app: Callable[[str], Any], ws: str = "none", wait: float = 60) -> Iterator[str]:
    """Serve the app ``make_app(url)`` builds with uvicorn in a thread on a free loopback
    port, waiting up to ``wait`` seconds for it to start; yields the URL."""
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    config = uvicorn.Config(make_app(url), log_level="warning", ws=ws, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])))
    thread.start()
    try:
        for _ in range(round(wait / 0.05)):
            if server.started or not thread.is_alive():
                break
            threading.Event().wait(0.05)
        assert server.started, "uvicorn did not start"
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    from graph.app import create_app
    from store.db import connect

    site = Site(url="")

    def make_app(url: str) -> Any:
        site.url = url
        return create_app(lambda: connect(None), lambda store: _seed(store.db, site))

    with served(make_app):
        yield site


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the dashboard tests need Debian's chromium "
            "(apt-get install -y chromium); .ci/run installs it"
        )
    from playwright.sync_api import sync_playwright

    OUTPUT.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh tab (its own sessionStorage); JavaScript errors fail the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, timezone_id="UTC")
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield tab
    finally:
        context.close()
    assert not errors, errors


def sign_in(page: Any, site: Site, who: str = "support", path: str = "/") -> None:
    page.goto(site.url + path)
    page.fill("#token", site.tokens[who])
    page.click("text=Show dashboard")
    settled(page)


def settled(page: Any, action: Callable[[], Any] | None = None) -> None:
    """Run `action` (something that changes the URL), then wait until the page has drawn
    what its URL asks for."""
    if action is not None:
        page.evaluate("document.body.dataset.loaded = 'false'")
        action()
    page.wait_for_function(
        "document.body.dataset.loaded === 'true' && !document.querySelector('[aria-busy=true]')"
    )


def go(page: Any, hash_: str) -> None:
    settled(page, lambda: page.evaluate("hash => { location.hash = hash }", hash_))


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(OUTPUT / f"{name}.png"), full_page=True)


ROW_NAMES = "[data-testid=app-row] [data-testid=app-link]"
RAW_ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")
RAW_ENUMS = ("MENDIX_CLOUD", "ON_PREMISES", "DELIVERED", "ORDERED", "TECHNICAL_CONTACT_")


def total(page: Any) -> int:
    return int(page.locator("[data-testid=apps-range]").get_attribute("data-total"))


def hash_params(page: Any) -> dict[str, list[str]]:
    fragment = urlsplit(page.url).fragment
    return parse_qs(fragment.partition("?")[2])


def count_of(site: Site, filter_: dict[str, Any]) -> int:
    data = site.query("query ($f: AppsFilter) { apps(filter: $f) { totalCount } }", {"f": filter_})
    return int(data["apps"]["totalCount"])


def assert_readable(page: Any) -> None:
    """Dates and enums are shown for people, never raw."""
    text = page.inner_text("main")
    assert not RAW_ISO.search(text), RAW_ISO.search(text)
    for raw in RAW_ENUMS:
        assert raw not in text, raw
