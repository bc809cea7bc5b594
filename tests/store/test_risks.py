"""At-risk filters over embedded data and the expiry timeline, on both tiers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId

from store import apps as app_store
from store import environments as env_store
from store import licenses as license_store
from store import reports, risks
from store.apps import Hosting, LicenseRecord
from store.cloud import EnvironmentRight
from store.pagination import Window
from store.records import now
from tests.helpers import make_person

MANAGE = EnvironmentRight.MANAGE_PERMISSIONS


async def _cloud(db: Any, contact: Any, *envs: tuple[str, bool]) -> Any:
    app = await app_store.create_app(
        db, name="C", subdomain=f"c-{ObjectId()}", hosting=Hosting.MENDIX_CLOUD,
        technical_contact_id=contact.id,
    )  # fmt: skip
    for name, production in envs:
        change = await env_store.add_environment(db, app.id, name=name, production=production)
        assert change is not None
        app = change.after
    return app


async def _license(db: Any, app_id: ObjectId, expires: datetime) -> None:
    license = LicenseRecord(
        license_id=f"L-{ObjectId()}", plan="Standard", named_users=10, concurrent_users=5,
        starts_at=expires - timedelta(days=365), expires_at=expires,
    )  # fmt: skip
    assert await license_store.add_license(db, app_id, license) is not None


async def _ids(db: Any, query: dict[str, Any]) -> set[ObjectId]:
    page = await app_store.list_apps(db, query, Window(first=100))
    assert page.total_count == len(page.items)
    return set(page.keys)


async def _risk(db: Any, risk: str, query: dict[str, Any] | None = None) -> set[ObjectId]:
    return await _ids(db, await reports.risk_query(db, risk, query or {}))


async def test_cloud_apps_without_alert_email(db: Any) -> None:
    tess = await make_person(db, "tess@example.com", "Tess", "tess")
    bare = await _cloud(db, tess)
    silent = await _cloud(db, tess, ("Production", True), ("Test", False))
    default = await _cloud(db, tess, ("Production", True))
    await app_store.create_app(
        db, name="O", subdomain="o-1", hosting=Hosting.ON_PREMISES, technical_contact_id=tess.id
    )
    for index, env in enumerate(silent.environments):
        change = await env_store.update_alert_settings(
            db, silent.id, index, env.environment_id, tess.id,
            email_enabled=False, recipient_ids=None, thresholds={},
        )  # fmt: skip
        assert change is not None
    assert await _risk(db, "cloud_without_alerts") == {bare.id, silent.id}
    # email back on in one environment (even a non-production one) takes the app off the list
    change = await env_store.update_alert_settings(
        db, silent.id, 1, silent.environments[1].environment_id, tess.id,
        email_enabled=True, recipient_ids=None, thresholds={},
    )  # fmt: skip
    assert change is not None
    assert await _risk(db, "cloud_without_alerts") == {bare.id}
    assert default.id not in await _risk(db, "cloud_without_alerts")


async def test_manage_permissions_held_by_others_on_production(db: Any) -> None:
    tess = await make_person(db, "tess@example.com", "Tess", "tess")
    mia = await make_person(db, "mia@example.com", "Mia", "mia")
    apps = {name: await _cloud(db, tess, ("Production", True), ("Test", False)) for name in "abc"}
    for app in apps.values():
        assert await app_store.add_member(db, app.id, mia.id)
    prod = apps["a"].environments[0].environment_id
    assert await env_store.grant(db, apps["a"].id, prod, mia.id, [MANAGE], tess.id)
    # b: Manage permissions on a non-production environment, other rights on production
    b_prod, b_test = (env.environment_id for env in apps["b"].environments)
    assert await env_store.grant(db, apps["b"].id, b_test, mia.id, [MANAGE], tess.id)
    rights = [EnvironmentRight.VIEW_LOGS, EnvironmentRight.TRANSPORT_RIGHTS]
    assert await env_store.grant(db, apps["b"].id, b_prod, mia.id, rights, tess.id)
    # c: the grant goes to someone who then becomes the technical contact: no longer "others"
    c_prod = apps["c"].environments[0].environment_id
    assert await env_store.grant(db, apps["c"].id, c_prod, mia.id, [MANAGE], tess.id)
    assert await app_store.change_technical_contact(db, apps["c"].id, mia.id, has_mendix_id=True)
    assert await _risk(db, "foreign_manage_permissions") == {apps["a"].id}
    scoped = app_store.visible_to(mia.id)
    assert await _risk(db, "foreign_manage_permissions", scoped) == {apps["a"].id}
    outsider = await make_person(db, "out@example.com")
    assert await _risk(db, "foreign_manage_permissions", app_store.visible_to(outsider.id)) == set()


async def test_licenses_expiring_need_one_license_inside_the_window(db: Any) -> None:
    tess = await make_person(db, "tess@example.com", "Tess", "tess")
    onprem = Hosting.ON_PREMISES
    soon, straddling, later = [
        await app_store.create_app(
            db, name=name, subdomain=name, hosting=onprem, technical_contact_id=tess.id
        )
        for name in ("soon", "straddling", "later")
    ]
    moment = now()
    await _license(db, soon.id, moment + timedelta(days=10))
    # one license expired, one far ahead: neither lies in the window (no cross-element match)
    await _license(db, straddling.id, moment - timedelta(days=30))
    await _license(db, straddling.id, moment + timedelta(days=400))
    await _license(db, later.id, moment + timedelta(days=40))
    window = risks.expiring_licenses(moment, moment + timedelta(days=30))
    assert await _ids(db, window) == {soon.id}
    wide = risks.expiring_licenses(moment, moment + timedelta(days=3650))
    assert await _ids(db, wide) == {soon.id, straddling.id, later.id}


async def test_expiry_timeline_buckets_by_month_with_zeros_and_scope(db: Any) -> None:
    tess = await make_person(db, "tess@example.com", "Tess", "tess")
    other = await make_person(db, "other@example.com", "Other", "other")
    mine = await app_store.create_app(
        db, name="M", subdomain="m", hosting=Hosting.ON_PREMISES, technical_contact_id=tess.id
    )
    theirs = await _cloud(db, other)
    start = datetime(2031, 11, 20, tzinfo=UTC)
    await _license(db, mine.id, datetime(2031, 11, 1, tzinfo=UTC))  # this month, already past
    await _license(db, mine.id, datetime(2031, 12, 31, 23, 59, tzinfo=UTC))
    await _license(db, mine.id, datetime(2032, 1, 1, tzinfo=UTC))
    await _license(db, theirs.id, datetime(2032, 1, 15, tzinfo=UTC))
    await _license(db, theirs.id, datetime(2032, 3, 1, tzinfo=UTC))  # beyond 3 months
    await _license(db, theirs.id, datetime(2031, 10, 31, 23, 59, tzinfo=UTC))  # before
    rows = await risks.expiry_timeline(db, None, start, 3)
    assert [(row.month, row.count) for row in rows] == [
        ("2031-11", 1),
        ("2031-12", 1),
        ("2032-01", 2),
    ]
    scoped = await risks.expiry_timeline(db, app_store.visible_to(tess.id), start, 4)
    assert [row.count for row in scoped] == [1, 1, 1, 0]
    empty = await risks.expiry_timeline(db, app_store.visible_to(ObjectId()), start, 2)
    assert [(row.month, row.count) for row in empty] == [("2031-11", 0), ("2031-12", 0)]


def test_month_arithmetic_crosses_years() -> None:
    start = datetime(2030, 12, 1, tzinfo=UTC)
    assert risks.add_months(start, 1) == datetime(2031, 1, 1, tzinfo=UTC)
    assert risks.add_months(start, 25) == datetime(2033, 1, 1, tzinfo=UTC)
    assert risks.month_start(datetime(2030, 2, 28, 13, tzinfo=UTC)) == datetime(
        2030, 2, 1, tzinfo=UTC
    )
