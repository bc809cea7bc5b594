"""The dashboard's apps table in a real headless chromium (tests/browser.py): search,
filters, sorting, paging, the URL as state, keyboard use, and the loading, empty and error
states. Screenshots go to test-output/."""

from __future__ import annotations

from typing import Any

from tests.browser import (
    ROW_NAMES,
    Site,
    assert_readable,
    browser,
    count_of,
    go,
    hash_params,
    page,
    settled,
    shot,
    sign_in,
    site,
    total,
)

__all__ = ["browser", "page", "site"]  # the fixtures, imported for pytest


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
