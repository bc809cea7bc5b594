"""The dashboard's overview, sign in and sign out in a real headless chromium (tests/browser.py).

Each filed defect has a test here or in test_dashboard_views.py, test_dashboard_detail.py
and test_dashboard_parts.py; screenshots go to test-output/."""

from __future__ import annotations

from typing import Any

from tests.browser import Site, browser, go, page, settled, shot, sign_in, site

__all__ = ["browser", "page", "site"]  # the fixtures, imported for pytest

FACTS = """
{
  ownershipSummary { count }
  licenseExpiryTimeline(months: 12) { month count }
  inactive: appsWithInactiveTechnicalContact { totalCount }
  noMendixId: appsWithTechnicalContactWithoutMendixId { totalCount }
  expiring: appsWithLicensesExpiring(days: 90) { totalCount }
  noAlerts: mendixCloudAppsWithoutAlerts { totalCount }
  manageByOthers: appsWithProductionManagePermissionsGrantedToOthers { totalCount }
}"""
PANELS = ("inactive", "noMendixId", "expiring", "noAlerts", "manageByOthers")


def expiries(page: Any, scope: str) -> list[str]:
    """The ISO dates of the next license expiries shown in `scope`, in page order
    ("" for an app without a license)."""
    return page.eval_on_selector_all(
        f"{scope} [data-testid=risk-item]",
        "items => items.map(i => (i.querySelector('.expiry time') || {dateTime: ''}).dateTime)",
    )


def test_overview_counts_lists_and_timeline_match_the_api(page: Any, site: Site) -> None:
    facts = site.query(FACTS)
    sign_in(page, site)
    assert page.locator("[data-testid=summary-total]").text_content() == (
        f"{sum(row['count'] for row in facts['ownershipSummary']):,}"
    )
    for key in PANELS:
        assert facts[key]["totalCount"] > 0, key  # the data fills every panel
        counter = page.locator(f"[data-testid=risk-count-{key}]")
        assert counter.text_content() == f"{facts[key]['totalCount']:,}", key
        # most urgent first: soonest next expiry first, apps without a license last
        shown = expiries(page, f"[data-testid=risk-list-{key}]")
        assert shown, key
        dated = [value for value in shown if value]
        assert dated == sorted(dated), (key, shown)
        assert shown == dated + [""] * (len(shown) - len(dated)), (key, shown)
    bars = page.locator("[data-testid=timeline-bar]")
    shown_months = {
        bars.nth(i).get_attribute("data-month"): int(bars.nth(i).get_attribute("data-count") or -1)
        for i in range(bars.count())
    }
    assert shown_months == {row["month"]: row["count"] for row in facts["licenseExpiryTimeline"]}
    assert "Loading" not in page.inner_text("body")
    # the cards side by side are filled: neither is left half empty beside a taller one
    for card in ("#summary-card", "#risk-card"):
        box = page.locator(card).bounding_box()
        content = page.evaluate(
            "card => Math.max(...[...document.querySelector(card).children].map("
            "c => c.getBoundingClientRect().bottom))",
            card,
        )
        assert content - box["y"] > 0.75 * box["height"], card
    shot(page, "dashboard")


def test_the_overview_filters_live_in_the_url(page: Any, site: Site) -> None:
    sign_in(page, site)
    settled(page, lambda: page.select_option("#risk-days", "30"))
    settled(page, lambda: page.select_option("#risk-hosting", "ON_PREMISES"))
    assert "days=30" in page.url and "hosting=ON_PREMISES" in page.url
    header = page.locator("[data-testid=risk-list-expiring] h3")
    assert header.text_content().startswith("License expiring within 30 days")
    facts = site.query(
        "{ appsWithLicensesExpiring(days: 30, filter: {hosting: [ON_PREMISES]}) { totalCount } }"
    )
    count = page.locator("[data-testid=risk-count-expiring]").text_content()
    assert count == str(facts["appsWithLicensesExpiring"]["totalCount"])
    page.reload()
    settled(page)
    assert page.locator("#risk-days").input_value() == "30"
    assert page.locator("#risk-hosting").input_value() == "ON_PREMISES"
    assert page.locator("[data-testid=risk-count-expiring]").text_content() == count


def test_sign_out_leaves_nothing_of_the_previous_viewer(page: Any, site: Site) -> None:
    sign_in(page, site)
    go(page, "#/apps")
    names = page.locator("[data-testid=app-row] [data-testid=app-link]").all_text_contents()
    assert names
    page.click("#sign-out")  # no route: nothing to wait for
    assert page.locator("#login").is_visible()
    for view in ("#overview", "#apps-view", "#app-view", "#person-view", "#nav"):
        assert not page.locator(view).is_visible(), view
    html = page.content()
    for name in names:
        assert name not in html  # not merely hidden: gone from the page
    assert page.evaluate("sessionStorage.getItem('ownership.token')") is None
    shot(page, "dashboard-signed-out")

    # the next viewer (a technical contact) sees only their apps
    page.fill("#token", site.tokens["customer"])
    page.click("text=Show dashboard")
    settled(page)
    mine = site.query(
        "query ($id: ID!) { apps(filter: {teamMemberId: $id}) { totalCount } }",
        {"id": site.ids["customer"]},
    )
    assert page.locator("[data-testid=apps-range]").get_attribute("data-total") == str(
        mine["apps"]["totalCount"]
    )
    assert "your apps" in page.locator("#viewer").text_content()


def test_a_bad_token_shows_the_sign_in_form_with_a_reason_and_nothing_loading(
    page: Any, site: Site
) -> None:
    page.goto(site.url + "/")
    page.fill("#token", "mxo_wrong")
    page.click("text=Show dashboard")
    settled(page)
    assert "not valid" in page.locator("#login-error").text_content()
    assert page.locator("#login").is_visible()
    assert "Loading" not in page.inner_text("body")
    assert page.locator("[data-state=loading]").count() == 0

    # a token that stops working mid-session (revoked, expired) does the same
    sign_in(page, site)
    page.evaluate("sessionStorage.setItem('ownership.token', 'mxo_revoked')")
    go(page, "#/apps")
    assert page.locator("#login").is_visible()
    assert "not valid" in page.locator("#login-error").text_content()
    assert "Loading" not in page.inner_text("body")
    assert not page.locator("#apps-view").is_visible()


def test_an_answer_arriving_after_sign_out_is_not_drawn(page: Any, site: Site) -> None:
    sign_in(page, site)
    held: list[Any] = []
    page.route("**/graphql", lambda route: held.append(route))
    page.evaluate("location.hash = '#/?days=30'")  # the overview, drawn into fixed places
    while not held:
        page.wait_for_timeout(20)
    page.click("#sign-out")
    for route in held:
        route.continue_()  # the previous viewer's overview arrives now
    page.unroute("**/graphql")
    page.wait_for_timeout(500)  # give a wrongly drawn answer time to show (no timing asserted)
    assert page.locator("#login").is_visible()
    assert page.locator("[data-testid=risk-item]").count() == 0
    assert page.locator("[data-testid=summary-total]").text_content() == ""


def test_top_contacts_page_on_and_open_the_person(page: Any, site: Site) -> None:
    top = site.query(
        "{ topTechnicalContacts(first: 20) { totalCount nodes { appCount person { name } } } }"
    )["topTechnicalContacts"]
    assert top["totalCount"] > 20
    sign_in(page, site)
    rows = page.locator("[data-testid=owner-row]")
    assert rows.count() == 10
    page.click("#owners-more")
    page.wait_for_function("document.querySelectorAll('[data-testid=owner-row]').length === 20")
    names = [rows.nth(i).locator("text").first.text_content() for i in range(20)]
    assert [name.split(" ⚠")[0] for name in names] == [n["person"]["name"] for n in top["nodes"]]
    settled(page, rows.first.click)
    assert page.locator("[data-testid=person-name]").text_content() == names[0].split(" ⚠")[0]
    tab = page.locator("[data-testid=role-technicalContact]").text_content()
    assert tab == f"Technical contact of ({top['nodes'][0]['appCount']})"
