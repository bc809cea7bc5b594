"""`make run`'s demo data gives every dashboard panel something to show (through the API)."""

from __future__ import annotations

from typing import Any

from ownership.demo import SUPPORT_EMAIL, load_demo
from store import people as people_store
from tests.helpers import gql

PANELS = """
{
  ownershipSummary { count }
  appsWithInactiveTechnicalContact { totalCount }
  appsWithTechnicalContactWithoutMendixId { totalCount }
  appsWithLicensesExpiring(days: 90) { totalCount }
  mendixCloudAppsWithoutAlerts { totalCount }
  appsWithProductionManagePermissionsGrantedToOthers { totalCount }
  licenseExpiryTimeline(months: 12) { count }
  supportRequests(first: 100) { totalCount nodes { status app { id } } }
  apps(first: 100) {
    nodes {
      id licenses { licenseId }
      environments { state alertStatus { status } }
      alerts(first: 1) { totalCount }
      auditTrail(first: 1) { totalCount }
    }
  }
}"""


async def test_the_demo_fills_every_panel_and_every_part_of_app_detail(db: Any) -> None:
    await load_demo(db)
    support = await people_store.get_person_by_email(db, SUPPORT_EMAIL)
    assert support is not None
    data = await gql(db, support, PANELS)
    for risk in (
        "appsWithInactiveTechnicalContact",
        "appsWithTechnicalContactWithoutMendixId",
        "appsWithLicensesExpiring",
        "mendixCloudAppsWithoutAlerts",
        "appsWithProductionManagePermissionsGrantedToOthers",
    ):
        assert data[risk]["totalCount"] > 0, risk
    assert sum(row["count"] for row in data["licenseExpiryTimeline"]) > 0
    statuses = {request["status"] for request in data["supportRequests"]["nodes"]}
    assert {"NEW", "TRIAGED", "RESOLVED", "APPROVED"} <= statuses
    apps = data["apps"]["nodes"]
    assert all(app["licenses"] for app in apps)
    assert all(app["auditTrail"]["totalCount"] > 0 for app in apps)
    assert sum(app["alerts"]["totalCount"] for app in apps) >= 5
    environments = [env for app in apps for env in app["environments"]]
    assert {env["state"] for env in environments} >= {"RUNNING", "STOPPED"}
    raised = {s["status"] for env in environments for s in env["alertStatus"]}
    assert {"NORMAL", "WARNING", "CRITICAL"} <= raised
