"""The dashboard's overview, sign in and sign out in a real headless chromium (tests/browser.py).

Each filed defect has a test here or in test_dashboard_views.py; screenshots go to
test-output/."""

from __future__ import annotations

import json
import re
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


def gridlines(page: Any, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Draw the timeline with `rows` into a scratch element; return labels and geometry."""
    return page.evaluate(
        """rows => {
          const box = document.createElement("div");
          document.body.append(box);
          renderTimeline(rows, box);
          const all = (id) => [...box.querySelectorAll(`[data-testid=${id}]`)];
          const out = {
            labels: all("timeline-label").map(t => t.textContent),
            lines: Object.fromEntries(
              all("timeline-gridline").map(l => [l.dataset.value, Number(l.getAttribute("y1"))])),
            bars: [...box.querySelectorAll("[data-testid=timeline-bar]")].map(
              b => [Number(b.dataset.count), Number(b.getAttribute("y"))]),
          };
          box.remove();
          return out;
        }""",
        rows,
    )


def test_timeline_gridlines_are_whole_numbers_and_bars_reach_their_line(
    page: Any, site: Site
) -> None:
    sign_in(page, site)
    month = [f"2027-{m:02d}" for m in range(1, 13)]
    for counts, labels in (
        ([1, 0, 0, 1], ["0", "1"]),  # was 0/1/1
        ([3, 2, 1, 0], ["0", "1", "2", "3"]),  # bars of 2 rose above the "2" line
        ([0, 0, 0], ["0", "1"]),
        ([7, 3], ["0", "2", "4", "6", "8"]),
        ([1234, 10], ["0", "500", "1,000", "1,500"]),
    ):
        drawn = gridlines(
            page, [{"month": m, "count": c} for m, c in zip(month, counts, strict=False)]
        )
        assert drawn["labels"] == labels, counts
        for value, y in drawn["bars"]:
            if str(value) in drawn["lines"]:
                assert abs(y - drawn["lines"][str(value)]) < 1e-6, (counts, value)
            top = max(int(v) for v in drawn["lines"])
            assert y >= drawn["lines"][str(top)] - 1e-6  # never above the top line
    go(page, "#/")
    labels = page.locator("[data-testid=timeline-label]").all_text_contents()
    assert all(re.fullmatch(r"[\d,]+", label) for label in labels)
    assert len(set(labels)) == len(labels)


def test_registered_documents_are_sent_by_id_and_the_text_when_not_found(
    page: Any, site: Site
) -> None:
    """GET /documents (trusted documents: name -> documentId) makes the page send the ID;
    a server that does not know it (PERSISTED_DOCUMENT_NOT_FOUND) gets the text instead."""
    import hashlib
    from pathlib import Path

    text = (Path(__file__).parents[1] / "graph" / "operations" / "Viewer.graphql").read_text()
    document_id = "sha256:" + hashlib.sha256(text.encode()).hexdigest()
    page.route("**/documents", lambda route: route.fulfill(json={"Viewer": document_id}))
    sent: list[dict[str, Any]] = []

    def graphql(route: Any) -> None:
        body = json.loads(route.request.post_data or "{}")
        sent.append(body)
        if "documentId" in body:
            error = {
                "message": "Not registered",
                "extensions": {"code": "PERSISTED_DOCUMENT_NOT_FOUND"},
            }
            route.fulfill(json={"errors": [error]})
        else:
            route.continue_()

    page.route("**/graphql", graphql)
    sign_in(page, site)
    assert sent[0] == {"documentId": document_id, "variables": {}, "operationName": "Viewer"}
    assert sent[1] == {"query": text, "variables": {}, "operationName": "Viewer"}
    assert all("query" in body and "documentId" not in body for body in sent[2:])
    assert "Sam Support" in page.locator("#viewer").text_content()


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


def test_with_trusted_documents_only_the_page_sends_registered_ids(
    page: Any, site: Site, monkeypatch: Any
) -> None:
    """graph/operations/ is registered at startup; the page sends only documentIds, so it
    works where the API runs registered documents only (TRUSTED_DOCUMENTS_ONLY=1)."""
    monkeypatch.setenv("TRUSTED_DOCUMENTS_ONLY", "1")
    bodies: list[str] = []
    page.on(
        "request",
        lambda request: (
            bodies.append(request.post_data or "")
            if request.url.endswith("/graphql") and request.method == "POST"
            else None
        ),
    )
    sign_in(page, site, "customer")
    go(page, "#/apps?sort=NEXT_LICENSE_EXPIRY")
    link = page.locator("[data-testid=app-row] [data-testid=app-link]").first
    settled(page, link.click)
    assert page.locator("[data-testid=app-detail-name]").is_visible()
    go(page, f"#/person/{site.ids['customer']}")
    assert page.locator("[data-testid=app-row]").count() > 0
    assert page.locator("[data-state=error]").count() == 0
    names = {json.loads(body)["operationName"] for body in bodies}
    assert names >= {"Viewer", "Overview", "TopContacts", "Apps", "Regions", "App", "Person"}
    for body in bodies:
        sent = json.loads(body)
        assert sent["documentId"].startswith("sha256:") and "query" not in sent, sent


def test_dates_and_enums_read_as_words(page: Any, site: Site) -> None:
    page.goto(site.url + "/")
    shown = page.evaluate(
        """() => {
          const now = Date.UTC(2026, 10, 30, 15, 0);  // 30 Nov 2026, 15:00 UTC
          return {
            date: formatDate("2026-12-05T00:00:00"),
            time: formatDateTime("2026-12-05T08:30:00+00:00"),
            earlierToday: relative("2026-11-30T01:00:00Z", now),
            tomorrow: relative("2026-12-01T00:10:00Z", now),
            soon: relative("2026-12-12T00:00:00Z", now),
            later: relative("2027-05-30T00:00:00Z", now),
            past: relative("2025-11-30T00:00:00Z", now),
            enums: ["MENDIX_CLOUD", "ON_PREMISES", "TECHNICAL_CONTACT_CHANGED", "APP_CPU",
                    "NOT_DEPLOYED", null].map(label),
          };
        }"""
    )
    assert shown == {
        "date": "5 Dec 2026",
        "time": "5 Dec 2026, 08:30 UTC",
        "earlierToday": "today",
        "tomorrow": "tomorrow",
        "soon": "in 12 days",
        "later": "in 6 months",
        "past": "last year",
        "enums": [
            "Mendix Cloud",
            "On-Premises",
            "Technical contact changed",
            "App CPU",
            "Not deployed",
            "—",
        ],
    }
