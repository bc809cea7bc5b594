"""The dashboard's person and app views in a real headless chromium (tests/browser.py):
all of a person's apps, paged; an app's licenses, environments, alerts, support requests and
audit trail with people as links; nothing raw. Screenshots go to test-output/."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

from tests.browser import (
    HEAVY_APPS,
    ROW_NAMES,
    Site,
    assert_readable,
    browser,
    count_of,
    go,
    page,
    settled,
    shot,
    sign_in,
    site,
    total,
)

__all__ = ["browser", "page", "site"]  # the fixtures, imported for pytest


def test_person_view_pages_through_all_their_apps(page: Any, site: Site) -> None:
    sign_in(page, site)
    go(page, f"#/person/{site.ids['heavy']}")
    assert page.locator("[data-testid=person-name]").text_content() == "Hana Heavy"
    tab = page.locator("[data-testid=role-technicalContact]")
    assert tab.text_content() == f"Technical contact of ({HEAVY_APPS})"
    assert tab.get_attribute("aria-current") == "page"
    seen: list[str] = []
    while True:
        seen += page.locator(ROW_NAMES).all_text_contents()
        following = page.locator("[data-testid=page-next]")
        if following.is_disabled():
            break
        settled(page, following.click)
    assert sorted(seen) == [f"Heavy App {index:02d}" for index in range(HEAVY_APPS)]
    assert "from=51" in page.url
    page.reload()
    settled(page)
    assert (
        page.locator("[data-testid=apps-range]").text_content()
        == f"51\u201360 of {HEAVY_APPS} apps"
    )
    # search within the person's apps, and the other roles
    settled(page, lambda: page.fill("#filter-q", "App 1"))
    assert total(page) == 10
    settled(page, lambda: page.click("[data-testid=role-accountExecutive]"))
    assert page.locator("[data-state=empty]").count() == 1
    go(page, f"#/person/{site.ids['customer']}?role=teamMember")
    mine = count_of(site, {"teamMemberId": site.ids["customer"]})
    assert total(page) == mine > 0
    assert_readable(page)
    shot(page, "dashboard-person")


APP_FACTS = """
{
  apps(first: 100, filter: {search: "Fleet Tracker Nord"}) {
    nodes {
      id name
      technicalContacts { id name }
      licenses { licenseId }
      environments { name }
      alerts(first: 100) { totalCount }
      supportRequests(first: 100) { nodes { subject } }
      auditTrail(first: 1) { totalCount }
    }
  }
}"""


def test_app_view_shows_licenses_environments_alerts_audit_and_support(
    page: Any, site: Site
) -> None:
    app = site.query(APP_FACTS)["apps"]["nodes"][0]
    assert app["alerts"]["totalCount"] and app["supportRequests"]["nodes"]
    sign_in(page, site)
    go(page, "#/apps?q=Fleet+Tracker+Nord")
    settled(page, lambda: page.click(f"{ROW_NAMES} >> text=Fleet Tracker Nord"))
    assert page.locator("[data-testid=app-detail-name]").text_content() == "Fleet Tracker Nord"
    assert unquote(page.url).endswith(f"#/app/{app['id']}")
    for license_ in app["licenses"]:
        assert license_["licenseId"] in page.locator("[data-testid=app-licenses]").inner_text()
    environments = page.locator("[data-testid=app-environments]").inner_text()
    for environment in app["environments"]:
        assert environment["name"] in environments
    assert "Running" in environments and "All normal" in environments
    alerts = page.locator("[data-testid=app-alerts] tbody tr")
    assert alerts.count() == min(10, app["alerts"]["totalCount"])
    assert "App CPU" in page.locator("[data-testid=app-alerts]").inner_text()
    support = page.locator("[data-testid=app-support]").inner_text()
    for request in app["supportRequests"]["nodes"]:
        assert request["subject"] in support
    audit = page.locator("[data-testid=app-audit] tbody tr")
    assert audit.count() == min(10, app["auditTrail"]["totalCount"])
    assert "App created" in page.locator("[data-testid=app-audit]").inner_text()
    assert_readable(page)
    # no raw IDs in the audit trail: people are links with their names
    assert not re.search(r"UGVyc29u", page.inner_text("main"))
    shot(page, "dashboard-app")

    contact = app["technicalContacts"][0]
    link = page.locator(
        "[data-testid=app-people] [data-testid=person-link]", has_text=contact["name"]
    )
    settled(page, lambda: link.first.click())
    assert page.locator("[data-testid=person-name]").text_content() == contact["name"]
    assert page.locator("[data-testid=app-row]").count() >= 1


def test_app_and_person_views_for_unknown_ids_say_so(page: Any, site: Site) -> None:
    sign_in(page, site)
    go(page, "#/app/QXBwOjAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMA==")
    assert "No app with this ID" in page.locator("#app-view").inner_text()
    go(page, "#/person/UGVyc29uOjAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMA==")
    assert "No person with this ID" in page.locator("#person-view").inner_text()


def test_a_technical_contact_sees_their_apps_readably_and_no_raw_ids(page: Any, site: Site) -> None:
    sign_in(page, site, "customer", "/#/apps?sort=NEXT_LICENSE_EXPIRY")
    mine = count_of(site, {"teamMemberId": site.ids["customer"]})
    assert total(page) == mine
    for index in range(min(3, mine)):
        if index:
            settled(page, page.go_back)
        settled(page, lambda index=index: page.locator(ROW_NAMES).nth(index).click())
        assert page.locator("[data-testid=app-detail-name]").is_visible()
        text = page.inner_text("main")
        assert not re.search(r"UGVyc29u|U3VwcG9ydFJlcXVlc3Q|QXBwOj", text)  # Person:, ...
        assert_readable(page)
    shot(page, "dashboard-customer-app")
