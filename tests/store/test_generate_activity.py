"""Generated apps come with an audit trail, support requests, alerts and Mendix Cloud
regions, readable through the API exactly like ones the use cases write (both tiers)."""

from __future__ import annotations

from typing import Any

from ownership.demo import SUPPORT_EMAIL
from ownership.generate import generate
from store import people as people_store
from tests.helpers import gql

APPS = """
query ($after: String) {
  apps(first: 100, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes {
      status hosting
      auditTrail(first: 10) { nodes { action actor { name } after } }
      supportRequests(first: 5) { nodes { subject priority status requester { name } } }
      alerts(last: 5) { nodes { category status environmentName } }
      environments { name alertStatus { category status } }
    }
  }
}"""


async def test_generated_apps_have_history_requests_and_alerts(db: Any) -> None:
    await generate(db, 250, seed=6)
    support = await people_store.get_person_by_email(db, SUPPORT_EMAIL)
    assert support is not None
    apps: list[dict[str, Any]] = []
    after = None
    while True:
        page = (await gql(db, support, APPS, {"after": after}))["apps"]
        apps += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(apps) == 250
    for app in apps:
        actions = [event["action"] for event in app["auditTrail"]["nodes"]]
        assert "APP_CREATED" in actions
        assert ("APP_DELIVERED" in actions) == (app["status"] == "DELIVERED")
        assert all(event["actor"]["name"] == "Sam Support" for event in app["auditTrail"]["nodes"])
        for request in app["supportRequests"]["nodes"]:
            assert request["requester"] is not None
        alerts = app["alerts"]["nodes"]
        if alerts:  # the environment's current status is the last alert's
            last = alerts[-1]
            environment = next(
                e for e in app["environments"] if e["name"] == last["environmentName"]
            )
            current = {s["category"]: s["status"] for s in environment["alertStatus"]}
            assert current[last["category"]] == last["status"]
    assert sum(bool(app["supportRequests"]["nodes"]) for app in apps) >= 5
    assert sum(bool(app["alerts"]["nodes"]) for app in apps) >= 3
    raised = {s["status"] for app in apps for e in app["environments"] for s in e["alertStatus"]}
    assert {"WARNING", "CRITICAL"} & raised
    regions = (await gql(db, support, "{ appRegions }"))["appRegions"]
    assert len(regions) >= 3  # the region filter has choices
