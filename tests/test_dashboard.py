"""The dashboard page in a real headless browser (Debian's chromium through Playwright).

uvicorn serves the app on a loopback port with seeded data; the browser enters a Support
token, waits for the charts, checks what they show against the store, follows a link into an
app's details and saves a screenshot to test-output/dashboard.png.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

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


@dataclass
class Site:
    url: str
    token: str = ""
    facts: dict[str, Any] = field(default_factory=dict)


async def _seed(db: Any, site: Site) -> None:
    from ownership.generate import generate
    from store import apps as app_store
    from store import people as people_store
    from store import reports, risks, tokens
    from store.apps import Hosting
    from store.people import PersonStatus, Role
    from store.records import now

    support = await people_store.create_person(
        db, email="boss@mendix.example", name="Bo Support", roles=(Role.SUPPORT,)
    )
    gone = await people_store.create_person(db, email="gone@example.com", name="Gone Person")
    for index in range(3):
        await app_store.create_app(
            db,
            name=f"Orphan Portal {index}",
            subdomain=f"orphan-{index}",
            hosting=Hosting.ON_PREMISES,
            technical_contact_id=gone.id,
        )
    await people_store.set_status(db, gone.id, PersonStatus.INACTIVE)
    # a Mendix Cloud app without environments: first on the "without alert email" list
    await app_store.create_app(
        db, name="Silent Cloud", subdomain="silent-cloud", hosting=Hosting.MENDIX_CLOUD,
        technical_contact_id=support.id,
    )  # fmt: skip
    await generate(db, 150, seed=5)  # after the orphans: they are the oldest, on page one
    site.token = await tokens.create_token(db, support.id)
    site.facts["total"] = sum(row.count for row in await reports.summary(db, None))
    for risk in reports.RISKS:
        query = await reports.risk_query(db, risk, {})
        site.facts[risk] = await db[app_store.COLLECTION].count_documents(query)
    moment = now()
    expiring = risks.expiring_licenses(moment, moment + timedelta(days=90))
    site.facts["expiring"] = await db[app_store.COLLECTION].count_documents(expiring)
    timeline = await risks.expiry_timeline(db, None, moment, 12)
    site.facts["timeline"] = {row.month: row.count for row in timeline}
    top, _ = await reports.top_contacts(db, None, limit=1)
    site.facts["top_count"] = top[0].app_count


@pytest.fixture
def site() -> Iterator[Site]:
    import uvicorn

    from graph.app import create_app
    from store.db import connect

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    site = Site(url=f"http://127.0.0.1:{sock.getsockname()[1]}")
    app = create_app(lambda: connect(None), lambda store: _seed(store.db, site))
    config = uvicorn.Config(app, log_level="warning", ws="none", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])))
    thread.start()
    try:
        for _ in range(300):
            if server.started or not thread.is_alive():
                break
            threading.Event().wait(0.05)
        assert server.started, "uvicorn did not start"
        yield site
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def test_dashboard_in_a_real_browser(site: Site, request: pytest.FixtureRequest) -> None:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the dashboard test needs Debian's chromium "
            "(apt-get install -y chromium); .ci/run installs it"
        )
    from playwright.sync_api import expect, sync_playwright

    output = Path(request.config.rootpath) / "test-output"
    output.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1100})
            page.goto(site.url + "/")
            expect(page.locator("#login")).to_be_visible()
            page.fill("#token", "mxo_wrong")
            page.click("text=Show dashboard")
            expect(page.locator("#login-error")).to_contain_text("not valid")

            page.fill("#token", site.token)
            page.click("text=Show dashboard")
            page.wait_for_selector("body[data-loaded=true]")
            expect(page.locator("[data-testid=summary-total]")).to_have_text(
                f"{site.facts['total']:,}"
            )
            assert page.locator("[data-testid=summary-svg] rect").count() == 4
            assert page.locator("[data-testid=owner-row]").count() == 10
            top = page.locator("[data-testid=owner-row]").first
            assert top.locator("text.muted").text_content() == str(site.facts["top_count"])
            for key, risk in (
                ("inactive", "inactive_contact"),
                ("noMendixId", "contact_without_mendix_id"),
                ("expiring", "expiring"),
                ("noAlerts", "cloud_without_alerts"),
                ("manageByOthers", "foreign_manage_permissions"),
            ):
                assert site.facts[risk] > 0, risk  # the generated data shows every panel
                counter = page.locator(f"[data-testid=risk-count-{key}]")
                assert counter.text_content() == f"{site.facts[risk]:,}"
            expect(page.locator("[data-testid=risk-list-inactive]")).to_contain_text(
                "Orphan Portal"
            )
            expect(page.locator("[data-testid=risk-list-noAlerts]")).to_contain_text("Silent Cloud")
            expect(page.locator("[data-testid=risk-list-expiring]")).to_contain_text("expires 20")
            bars = page.locator("[data-testid=timeline-bar]")
            assert bars.count() == 12
            shown = {
                bars.nth(index).get_attribute("data-month"): int(
                    bars.nth(index).get_attribute("data-count") or -1
                )
                for index in range(12)
            }
            assert shown == site.facts["timeline"]
            total = sum(site.facts["timeline"].values())
            assert page.locator("[data-testid=timeline-total]").get_attribute("data-count") == str(
                total
            )
            assert page.evaluate("sessionStorage.getItem('ownership.token')") == site.token
            page.screenshot(path=str(output / "dashboard.png"), full_page=True)

            # narrowing the expiry window re-fetches that panel with the new `days`
            page.select_option("#risk-days", "30")
            expect(page.locator("[data-testid=risk-list-expiring] h3")).to_have_text(
                "License expiring within 30 days"
            )
            page.locator("[data-testid=risk-list-noAlerts] a", has_text="Silent Cloud").click()
            expect(page.locator("[data-testid=app-detail-name]")).to_have_text("Silent Cloud")
            page.click("text=Back to the dashboard")

            page.locator("[data-testid=risk-list-inactive] a", has_text="Orphan Portal 0").click()
            expect(page.locator("[data-testid=app-detail-name]")).to_have_text("Orphan Portal 0")
            expect(page.locator("#detail")).to_contain_text("Gone Person")
            expect(page.locator("#detail")).to_contain_text("(inactive)")
            page.screenshot(path=str(output / "dashboard-app.png"), full_page=True)

            page.click("#sign-out")
            expect(page.locator("#login")).to_be_visible()
            assert page.evaluate("sessionStorage.getItem('ownership.token')") is None
        finally:
            browser.close()


async def test_the_page_and_its_assets_are_served_and_self_contained() -> None:
    import re

    import httpx

    from graph.app import STATIC, create_app

    async def no_store() -> Any:
        raise AssertionError("not needed")

    transport = httpx.ASGITransport(app=create_app(no_store))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        page = await client.get("/")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        for asset in re.findall(r'(?:src|href)="([^"]+)"', page.text):
            assert asset.startswith("/static/"), asset  # nothing from elsewhere
            assert (await client.get(asset)).status_code == 200
        assert (await client.get("/static/nope.js")).status_code == 404
    for path in STATIC.iterdir():
        assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", path.read_text()), path
