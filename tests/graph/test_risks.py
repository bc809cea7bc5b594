"""The newer at-risk reports and the expiry timeline through GraphQL: scope, filter, bad input."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from bson import ObjectId

from store import apps as app_store
from store import environments as env_store
from store import licenses as license_store
from store.apps import Hosting, LicenseRecord
from store.cloud import EnvironmentRight
from store.people import PersonRecord
from store.records import now
from tests.helpers import dump, gql, gql_errors, make_person

RISKS = """
query ($days: Int!, $months: Int!, $filter: AppsFilter) {
  expiring: appsWithLicensesExpiring(days: $days, first: 10, filter: $filter) {
    totalCount nodes { subdomain }
  }
  noAlerts: mendixCloudAppsWithoutAlerts(first: 10, filter: $filter) {
    totalCount nodes { subdomain }
  }
  manage: appsWithProductionManagePermissionsGrantedToOthers(first: 10, filter: $filter) {
    totalCount nodes { subdomain }
  }
  licenseExpiryTimeline(months: $months) { month count }
}"""


async def _license(db: Any, app_id: ObjectId, days: int) -> None:
    expires = now() + timedelta(days=days)
    license = LicenseRecord(
        license_id=f"L-{ObjectId()}", plan="Standard", named_users=10, concurrent_users=5,
        starts_at=expires - timedelta(days=365), expires_at=expires,
    )  # fmt: skip
    assert await license_store.add_license(db, app_id, license) is not None


async def _world(db: Any) -> dict[str, PersonRecord]:
    """tess: cloud `guarded` (prod env, mia holds Manage), cloud `bare` (no environments),
    on-prem `onprem` (license in 10 days); olga: on-prem `olga` (license in 100 days)."""
    tess = await make_person(db, "tess@example.com", "Tess", "tess")
    mia = await make_person(db, "mia@example.com", "Mia", "mia")
    olga = await make_person(db, "olga@example.com", "Olga", "olga")

    async def app(subdomain: str, contact: PersonRecord, hosting: Hosting) -> ObjectId:
        record = await app_store.create_app(
            db, name=subdomain, subdomain=subdomain, hosting=hosting,
            technical_contact_id=contact.id,
        )  # fmt: skip
        return record.id

    guarded = await app("guarded", tess, Hosting.MENDIX_CLOUD)
    assert await app_store.add_member(db, guarded, mia.id)
    change = await env_store.add_environment(db, guarded, name="Production", production=True)
    assert change is not None
    prod = change.after.environments[0].environment_id
    manage = [EnvironmentRight.MANAGE_PERMISSIONS]
    assert await env_store.grant(db, guarded, prod, mia.id, manage, tess.id)
    await app("bare", tess, Hosting.MENDIX_CLOUD)
    await _license(db, await app("onprem", tess, Hosting.ON_PREMISES), 10)
    await _license(db, guarded, 20)
    await _license(db, await app("olga", olga, Hosting.ON_PREMISES), 100)
    return {"tess": tess, "mia": mia, "olga": olga}


def _subdomains(data: dict[str, Any], key: str) -> set[str]:
    assert data[key]["totalCount"] == len(data[key]["nodes"])
    return {node["subdomain"] for node in data[key]["nodes"]}


async def test_support_sees_every_app_at_risk(db: Any, support: PersonRecord) -> None:
    await _world(db)
    data = await gql(db, support, RISKS, {"days": 30, "months": 12})
    assert _subdomains(data, "expiring") == {"onprem", "guarded"}
    assert _subdomains(data, "noAlerts") == {"bare"}
    assert _subdomains(data, "manage") == {"guarded"}
    timeline = data["licenseExpiryTimeline"]
    assert len(timeline) == 12 and timeline[0]["month"] == now().strftime("%Y-%m")
    assert sum(row["count"] for row in timeline) == 3
    wide = await gql(db, support, RISKS, {"days": 3650, "months": 1})
    assert _subdomains(wide, "expiring") == {"onprem", "guarded", "olga"}


async def test_filters_narrow_each_report(db: Any, support: PersonRecord) -> None:
    await _world(db)
    onprem = {"days": 30, "months": 1, "filter": {"hosting": "ON_PREMISES"}}
    data = await gql(db, support, RISKS, onprem)
    assert _subdomains(data, "expiring") == {"onprem"}
    assert data["noAlerts"]["totalCount"] == 0 and data["manage"]["totalCount"] == 0
    search = await gql(db, support, RISKS, {"days": 30, "months": 1, "filter": {"search": "bar"}})
    assert _subdomains(search, "noAlerts") == {"bare"}
    assert search["expiring"]["totalCount"] == 0


async def test_a_viewer_sees_only_their_apps(db: Any, support: PersonRecord) -> None:
    world = await _world(db)
    olga = await gql(db, world["olga"], RISKS, {"days": 3650, "months": 120})
    assert _subdomains(olga, "expiring") == {"olga"}
    assert olga["noAlerts"]["totalCount"] == 0 and olga["manage"]["totalCount"] == 0
    assert sum(row["count"] for row in olga["licenseExpiryTimeline"]) == 1
    mia = await gql(db, world["mia"], RISKS, {"days": 30, "months": 12})
    assert _subdomains(mia, "expiring") == {"guarded"}
    assert _subdomains(mia, "manage") == {"guarded"}
    assert mia["noAlerts"]["totalCount"] == 0
    assert sum(row["count"] for row in mia["licenseExpiryTimeline"]) == 1


EXPIRING = """
query ($days: Int!, $filter: AppsFilter) {
  appsWithLicensesExpiring(days: $days, first: 10, filter: $filter) { totalCount }
}"""
TIMELINE = "query ($months: Int!) { licenseExpiryTimeline(months: $months) { month count } }"
NO_ALERTS = """
query ($filter: AppsFilter) { mendixCloudAppsWithoutAlerts(filter: $filter) { totalCount } }"""
MANAGE = """query ($filter: AppsFilter) {
  appsWithProductionManagePermissionsGrantedToOthers(filter: $filter) { totalCount }
}"""


# one field per document: a failing field must not leave sibling fields' queries running
@pytest.mark.parametrize(
    ("document", "variables", "code", "path"),
    [
        (EXPIRING, {"days": 0}, "INVALID_INPUT", "days"),
        (EXPIRING, {"days": 3651}, "INVALID_INPUT", "days"),
        (EXPIRING, {"days": -5}, "INVALID_INPUT", "days"),
        (TIMELINE, {"months": 0}, "INVALID_INPUT", "months"),
        (TIMELINE, {"months": 121}, "INVALID_INPUT", "months"),
        (EXPIRING, {"days": 30, "filter": {"search": "s" * 101}}, "TOO_LONG", None),
        (NO_ALERTS, {"filter": {"technicalContactId": "bogus"}}, "INVALID_ID", None),
        (MANAGE, {"filter": {"search": "s" * 101}}, "TOO_LONG", None),
    ],
)
async def test_bad_arguments_are_typed_errors_and_change_nothing(
    db: Any,
    support: PersonRecord,
    document: str,
    variables: dict[str, Any],
    code: str,
    path: str | None,
) -> None:
    await _world(db)
    before = await dump(db)
    errors = await gql_errors(db, support, document, variables)
    assert {error.extensions["code"] for error in errors} == {code}
    if path is not None:
        assert all(error.extensions["field"] == [path] for error in errors)
    assert await dump(db) == before
