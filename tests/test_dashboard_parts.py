"""The dashboard's charts and formatting, and how it sends its queries, in a real headless
chromium (tests/browser.py): timeline gridlines, dates and enums as words, registered
(trusted) documents."""

from __future__ import annotations

import json
import re
from typing import Any

from tests.browser import Site, browser, go, page, settled, sign_in, site

__all__ = ["browser", "page", "site"]  # the fixtures, imported for pytest


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
