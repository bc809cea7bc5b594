"""The dashboard's apps table, person view and app view in a real headless chromium
(tests/browser.py): search, filters, sorting, paging, the URL as state, keyboard use, and the
loading, empty and error states. Screenshots go to test-output/."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.browser import HEAVY_APPS, Site, browser, go, page, settled, shot, sign_in, site

__all__ = ["browser", "page", "site"]  # the fixtures, imported for pytest

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


def test_each_risk_count_opens_the_table_filtered_the_same_way(page: Any, site: Site) -> None:
    sign_in(page, site)
    for key, expected in (
        ("inactive", {"risks": ["TECHNICAL_CONTACT_INACTIVE"]}),
        ("noMendixId", {"risks": ["TECHNICAL_CONTACT_WITHOUT_MENDIX_ID"]}),
        ("expiring", {"licenseExpiresWithinDays": 90}),
        ("noAlerts", {"risks": ["NO_ALERT_EMAIL"]}),
        ("manageByOthers", {"risks": ["PRODUCTION_MANAGE_PERMISSIONS_HELD_BY_OTHERS"]}),
    ):
        go(page, "#/")
        shown = int(page.locator(f"[data-testid=risk-count-{key}]").text_content())
        settled(page, lambda key=key: page.click(f"[data-testid=risk-count-{key}]"))
        assert page.locator("#apps-view").is_visible()
        assert total(page) == shown == count_of(site, expected), key
        assert hash_params(page)["sort"] == ["NEXT_LICENSE_EXPIRY"]
    # "… and N more" became a link to the same table
    go(page, "#/")
    more = page.locator("[data-testid=risk-more-noMendixId]")
    assert more.text_content().startswith("Show all")
    settled(page, more.click)
    assert page.locator("input[name=risk][value=TECHNICAL_CONTACT_WITHOUT_MENDIX_ID]").is_checked()


def test_apps_table_searches_filters_sorts_and_pages(page: Any, site: Site) -> None:
    sign_in(page, site)
    go(page, "#/apps")
    everything = count_of(site, {})
    assert total(page) == everything
    assert page.locator("[data-testid=app-row]").count() == 25
    assert (
        page.locator("[data-testid=apps-range]").text_content() == f"1\u201325 of {everything} apps"
    )

    # sorting by name, both ways
    names = page.locator(ROW_NAMES).all_text_contents()
    assert names == sorted(names)
    settled(page, lambda: page.click("button[data-sort=NAME]"))
    descending = page.locator(ROW_NAMES).all_text_contents()
    assert descending == sorted(descending, reverse=True)
    assert page.locator("th[aria-sort=descending] button[data-sort=NAME]").count() == 1

    # filters: hosting, status, region, expiry window; counts from the API
    settled(page, lambda: page.select_option("#filter-hosting", "MENDIX_CLOUD"))
    settled(page, lambda: page.select_option("#filter-status", "DELIVERED"))
    filters: dict[str, Any] = {"hosting": ["MENDIX_CLOUD"], "status": ["DELIVERED"]}
    assert total(page) == count_of(site, filters)
    regions = site.query("{ appRegions }")["appRegions"]
    page.wait_for_function(
        f"document.querySelector('#filter-region').options.length === {len(regions) + 1}"
    )
    assert page.locator("#filter-region option").all_text_contents() == ["All", *regions]
    settled(page, lambda: page.select_option("#filter-region", "eu-central-1"))
    filters["region"] = ["eu-central-1"]
    assert total(page) == count_of(site, filters)
    settled(page, lambda: page.select_option("#filter-expires", "365"))
    filters["licenseExpiresWithinDays"] = 365
    assert total(page) == count_of(site, filters) > 0
    settled(page, lambda: page.check("input[name=risk][value=TECHNICAL_CONTACT_WITHOUT_MENDIX_ID]"))
    filters["risks"] = ["TECHNICAL_CONTACT_WITHOUT_MENDIX_ID"]
    assert total(page) == count_of(site, filters)
    settled(page, lambda: page.click("text=Clear filters"))
    assert total(page) == everything

    # search (typing; applied after a pause)
    settled(page, lambda: page.fill("#filter-q", "Portal"))
    assert total(page) == count_of(site, {"search": "Portal"}) > 0
    assert all("Portal" in name for name in page.locator(ROW_NAMES).all_text_contents())
    settled(page, lambda: page.fill("#filter-q", "no such app at all"))
    assert page.locator("[data-state=empty]").text_content() == "No apps match these filters."
    settled(page, lambda: page.fill("#filter-q", ""))

    # paging forward and back, through every app
    seen: list[str] = []
    while True:
        seen += page.locator(ROW_NAMES).all_text_contents()
        following = page.locator("[data-testid=page-next]")
        if following.is_disabled():
            break
        settled(page, following.click)
    assert len(seen) == len(set(seen)) == everything
    assert page.locator("[data-testid=apps-range]").text_content().endswith(f"of {everything} apps")
    last_page = page.locator(ROW_NAMES).all_text_contents()
    settled(page, lambda: page.click("[data-testid=page-previous]"))
    assert (
        page.locator(ROW_NAMES).all_text_contents() == seen[-len(last_page) - 25 : -len(last_page)]
    )
    assert_readable(page)
    shot(page, "dashboard-apps")


def test_the_url_keeps_the_view_and_filters_on_reload_and_when_shared(
    page: Any, site: Site, browser: Any
) -> None:
    sign_in(page, site)
    go(page, "#/apps?hosting=ON_PREMISES&status=DELIVERED&sort=NEXT_LICENSE_EXPIRY&dir=DESC")
    settled(page, lambda: page.click("[data-testid=page-next]"))
    url, rows = page.url, page.locator(ROW_NAMES).all_text_contents()
    assert rows
    page.reload()
    settled(page)
    assert page.url == url
    assert page.locator(ROW_NAMES).all_text_contents() == rows
    assert page.locator("#filter-hosting").input_value() == "ON_PREMISES"
    assert page.locator("#filter-status").input_value() == "DELIVERED"
    assert page.locator("[data-testid=apps-range]").text_content().startswith("26\u2013")
    assert page.locator("th[aria-sort=descending] button[data-sort=NEXT_LICENSE_EXPIRY]").count()

    # a shared link: another tab signs in and lands on the same view
    other = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
    try:
        other.goto(url)
        other.fill("#token", site.tokens["support"])
        other.click("text=Show dashboard")
        settled(other)
        assert other.locator(ROW_NAMES).all_text_contents() == rows
    finally:
        other.context.close()

    # back and forward walk through the views
    go(page, "#/")
    page.go_back()
    settled(page)
    assert page.url == url and page.locator("#apps-view").is_visible()


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


def test_loading_and_error_states_and_retry(page: Any, site: Site) -> None:
    sign_in(page, site)
    held: list[Any] = []

    def hold(route: Any) -> None:
        held.append(route)

    page.route("**/graphql", hold)
    page.evaluate("location.hash = '#/apps?q=Hub'")
    page.wait_for_selector("[data-state=loading]")
    assert page.locator("[data-state=loading]").text_content() == "Loading apps…"
    # the table's request leaves after the operation's text is fetched
    while not any('"Apps"' in (route.request.post_data or "") for route in held):
        page.wait_for_timeout(20)
    for route in held:
        route.fulfill(
            status=500, content_type="application/json", body='{"errors": [{"message": "boom"}]}'
        )
    page.unroute("**/graphql")
    page.wait_for_selector("[data-state=error]")
    assert "Could not load: boom" in page.locator("[data-state=error]").text_content()
    page.click("[data-state=error] button")  # retries this table only
    page.wait_for_selector("[data-testid=app-row]")

    # the server unreachable: a clear message, not a stuck page
    page.route("**/graphql", lambda route: route.abort())
    page.evaluate("location.hash = '#/apps?q=Portal'")
    page.wait_for_selector("[data-state=error]")
    assert "could not be reached" in page.locator("[data-state=error]").text_content()
    page.unroute("**/graphql")
    shot(page, "dashboard-error")


def test_usable_by_keyboard(page: Any, site: Site) -> None:
    page.goto(site.url + "/")
    for _ in range(4):  # past the skip link
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "token":
            break
    assert page.evaluate("document.activeElement.id") == "token"
    page.keyboard.type(site.tokens["support"])
    settled(page, lambda: page.keyboard.press("Enter"))
    # the first risk count, reached by Tab, opens the table on Enter
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.dataset.testid") == "risk-count-inactive":
            break
    else:
        raise AssertionError("the risk count is not reachable by Tab")
    settled(page, lambda: page.keyboard.press("Enter"))
    assert page.locator("#apps-view").is_visible()
    page.focus("#filter-q")
    page.keyboard.type("Hub")
    settled(page, lambda: page.keyboard.press("Enter"))
    # sort headers are buttons: Tab to one, Space sorts
    page.focus("button[data-sort=NAME]")
    settled(page, lambda: page.keyboard.press("Space"))
    assert hash_params(page)["sort"] == ["NAME"] and hash_params(page)["dir"] == ["ASC"]
    names = page.locator(ROW_NAMES).all_text_contents()
    assert names == sorted(names) and all("Hub" in name for name in names)
    page.focus(f"{ROW_NAMES} >> nth=0")
    settled(page, lambda: page.keyboard.press("Enter"))
    # focus moves to the new view's heading (a screen reader announces it; Tab goes on from it)
    assert page.evaluate("document.activeElement.dataset.testid") == "app-detail-name"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.tagName") == "A"


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
