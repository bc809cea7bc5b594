"""A change and its record (audit event, email) survive a crash between any two writes: the
writer is killed before its 1st, 2nd, ... write (tests/crashing.py), the periodic task's
recovery runs ("restart"), and the outcome is the change with its record once, or nothing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ownership.tasks import recover, run_once
from resolvers import alerts as alert_cases
from resolvers import licenses as license_cases
from resolvers import maintenance as maintenance_cases
from resolvers.ids import decode
from store import rollup_reads
from store.people import PersonRecord
from tests.crashing import Crash, CrashingDatabase, writes_made
from tests.graph.cloud import cloud
from tests.graph.test_licenses import ADD as ADD_LICENSE
from tests.helpers import create_app, gql, make_person, pid, run

START = datetime(2026, 1, 1, tzinfo=UTC)
TRAIL = """
query ($id: ID!) {
  app(id: $id) {
    licenseExpansionRequests(first: 50) { totalCount nodes { id namedUsers } }
    auditTrail(first: 100, orderBy: {field: OCCURRED_AT, direction: ASC}) {
      totalCount nodes { action after } }
  }
}"""


async def no_pending(db: Any, collection: str) -> bool:
    """Nothing left to move (an emptied list may stay if killed before its removal)."""
    fields = ("pending_events", "pending_mail", "pending_alerts", "pending_records")
    left = {"$or": [{f"{field}.0": {"$exists": True}} for field in fields]}
    return await db[collection].count_documents(left) == 0


# --- requestLicenseExpansion: the request, its email and its audit event --------------------


@pytest.fixture
async def licensed(db: Any, support: PersonRecord) -> tuple[PersonRecord, dict[str, Any]]:
    """An app with a license, an Account Executive and its technical contact."""
    contact = await make_person(db, "tc@acme.example", "Tess Contact", "tess")
    executive = await make_person(db, "ae@mendix.example", "Ada Exec", "ada")
    app = await create_app(db, support, contact, "ON_PREMISES", "crash-lic")
    _, errors = await run(
        db, support, "setAccountExecutive", appId=app["id"], personId=pid(executive)
    )
    assert errors == []
    license = {
        "appId": app["id"],
        "licenseId": "LIC-1",
        "plan": "Standard",
        "namedUsers": 50,
        "concurrentUsers": 10,
        "startsAt": START.isoformat(),
        "expiresAt": (START + timedelta(days=365)).isoformat(),
    }
    added = await gql(db, support, ADD_LICENSE, {"input": license})
    assert added["addLicense"]["userErrors"] == []
    return contact, app


def expansion(app: dict[str, Any], named_users: int) -> dict[str, Any]:
    return {
        "app_id": app["id"],
        "license_id": "LIC-1",
        "named_users": named_users,
        "concurrent_users": 10,
    }


async def expansion_state(db: Any, support: PersonRecord, app: dict[str, Any], users: int) -> Any:
    """(requests, emails, audit events) for the expansion to ``users`` named users."""
    trail = (await gql(db, support, TRAIL, {"id": app["id"]}))["app"]
    requests = [
        item["id"]
        for item in trail["licenseExpansionRequests"]["nodes"]
        if item["namedUsers"] == users
    ]
    events = [
        event["after"]["expansion_request_id"]
        for event in trail["auditTrail"]["nodes"]
        if event["action"] == "LICENSE_EXPANSION_REQUESTED"
        and event["after"]["named_users"] == users
    ]
    mails = await db["notifications"].find({"kind": "LICENSE_EXPANSION_REQUEST"}).to_list(None)
    mailed = [mail for mail in mails if f"to {users} named" in mail["body"]]
    return requests, len(mailed), events


async def test_expansion_survives_a_crash_between_any_two_writes(
    db: Any, support: PersonRecord, licensed: tuple[PersonRecord, dict[str, Any]]
) -> None:
    contact, app = licensed

    def request(users: int) -> Any:
        return lambda target: license_cases.request_expansion(
            target, contact, expansion(app, users)
        )

    writes = await writes_made(db, request(60))
    assert writes >= 3  # the request, then its email and event moved on
    for at in range(writes):
        users = 100 + at
        with pytest.raises(Crash):
            await request(users)(CrashingDatabase(db, at))
        for _ in range(2):  # restart; running the recovery again changes nothing
            await recover(db)
            requests, mails, events = await expansion_state(db, support, app, users)
            if at == 0:  # killed before the first write: nothing happened
                assert (requests, mails, events) == ([], 0, []), at
            else:
                assert len(requests) == 1 and mails == 1 and events == requests, at
    assert await no_pending(db, "license_expansion_requests")
    assert await no_pending(db, "apps")  # the request went through its app (store/gated.py)


async def test_racing_drains_record_an_expansion_once(
    db: Any, support: PersonRecord, licensed: tuple[PersonRecord, dict[str, Any]]
) -> None:
    """The request left pending in its app (killed right after the app's update); the
    next request's process, two periodic tasks and the trail's reader all run at once."""
    contact, app = licensed
    with pytest.raises(Crash):
        await license_cases.request_expansion(CrashingDatabase(db, 1), contact, expansion(app, 70))
    await asyncio.gather(
        recover(db),
        recover(db),
        license_cases.request_expansion(db, contact, expansion(app, 71)),
        gql(db, support, TRAIL, {"id": app["id"]}),
    )
    for users in (70, 71):
        requests, mails, events = await expansion_state(db, support, app, users)
        assert len(requests) == 1 and mails == 1 and events == requests
    assert await no_pending(db, "license_expansion_requests")


# --- postMaintenanceWindow: the window, its audit event and its emails ----------------------


async def window_state(db: Any, title: str) -> tuple[int, int, int, int]:
    """(windows, MAINTENANCE_POSTED events, emails, windows not notified) for ``title``."""
    windows = await db["maintenance_windows"].find({"title": title}).to_list(None)
    events = await db["audit_events"].find({"action": "MAINTENANCE_POSTED"}).to_list(None)
    mails = await db["notifications"].find({"kind": "MAINTENANCE"}).to_list(None)
    return (
        len(windows),
        sum(1 for event in events if event["after"]["title"] == title),
        sum(1 for mail in mails if mail["subject"] == f"Planned maintenance: {title}"),
        sum(1 for window in windows if window["notified_at"] is None),
    )


async def test_maintenance_window_survives_a_crash_between_any_two_writes(
    db: Any, support: PersonRecord
) -> None:
    """Two Mendix Cloud apps with two contacts (one email each per window)."""
    for name in ("ann", "bob"):
        contact = await make_person(db, f"{name}@acme.example", name.title(), name)
        await create_app(db, support, contact, "MENDIX_CLOUD", f"crash-{name}")

    def post(title: str) -> Any:
        data = {
            "title": title,
            "description": "Apps restart once.",
            "starts_at": START + timedelta(days=3),
            "ends_at": START + timedelta(days=3, hours=2),
        }
        return lambda target: maintenance_cases.post_window(target, support, data)

    writes = await writes_made(db, post("first"))
    assert await window_state(db, "first") == (1, 1, 2, 0)
    assert writes >= 4  # the window, then its event moved, two emails, marked notified
    for at in range(writes):
        title = f"try {at}"
        with pytest.raises(Crash):
            await post(title)(CrashingDatabase(db, at))
        for _ in range(2):  # restart; running the periodic task again changes nothing
            await run_once(db, None)
            expected = (0, 0, 0, 0) if at == 0 else (1, 1, 2, 0)
            assert await window_state(db, title) == expected, at
    assert await no_pending(db, "maintenance_windows")


# --- reportMetrics: a category's status change, its alert, emails and live event -----------


async def alert_state(db: Any, app_id: Any, status: str) -> tuple[str, list[int], int, int]:
    """(APP_CPU's status, sequences of the alerts into ``status``, their emails, their live
    events)."""
    app = await db["apps"].find_one({"_id": app_id})
    production = next(env for env in app["environments"] if env["production"])
    alerts = await db["alerts"].find({"app_id": app_id, "status": status}).to_list(None)
    ids = [alert["_id"] for alert in alerts]
    keyed = {f"alert:{key}" for key in ids}
    mails = await db["notifications"].find({"kind": "ALERT"}).to_list(None)
    mailed = sum(1 for mail in mails if mail["dedupe_key"].rsplit(":", 1)[0] in keyed)
    events = await db["events"].count_documents({"payload._id": {"$in": ids}})
    return (
        production["alert_status"]["APP_CPU"],
        sorted(alert["sequence"] for alert in alerts),
        mailed,
        events,
    )


async def test_alert_survives_a_crash_between_any_two_writes(
    db: Any, support: PersonRecord
) -> None:
    """Each round moves APP_CPU NORMAL -> WARNING (one alert, emailed to the technical
    contact) and back (the recovery, not measured here)."""
    c = await cloud(db, support, "crash")
    app_id = decode(c.app["id"], "App")

    def sample(value: float) -> Any:
        data = {
            "environment_id": c.production,
            "samples": [{"category": "APP_CPU", "value": value}],
        }
        return lambda target: alert_cases.report_metrics(target, app_id, data)

    writes = await writes_made(db, sample(80))
    assert await alert_state(db, app_id, "WARNING") == ("WARNING", [1], 1, 1)
    assert writes >= 4  # the status change, then its alert, email and live event
    rounds = 1
    for at in range(writes):
        await sample(10)(db)  # back to NORMAL (sequence 2, 4, ...)
        with pytest.raises(Crash):
            await sample(80)(CrashingDatabase(db, at))
        for _ in range(2):  # restart; running the recovery again changes nothing
            await recover(db)
            state = await alert_state(db, app_id, "WARNING")
            if at == 0:  # killed before the status change: nothing happened
                assert state == ("NORMAL", [2 * k + 1 for k in range(rounds)], rounds, rounds)
            else:
                sequences = [2 * k + 1 for k in range(rounds + 1)]
                assert state == ("WARNING", sequences, rounds + 1, rounds + 1), at
        if at == 0:
            await sample(80)(db)  # the sample again, now it goes through
        rounds += 1
    assert await no_pending(db, "apps")


async def test_alert_settings_survive_a_crash_between_any_two_writes(
    db: Any, support: PersonRecord
) -> None:
    """updateAlertSettings went through the app's one conditional update with its event
    already (resolvers/changes.py ``apply``); this shows it holds at every write."""
    c = await cloud(db, support, "settings")
    app_id = decode(c.app["id"], "App")

    def update(enabled: bool) -> Any:
        data = {"environment_id": c.production, "email_enabled": enabled}
        return lambda target: alert_cases.update_alert_settings(target, c.contact, data)

    async def state() -> tuple[bool, list[bool]]:
        app = await db["apps"].find_one({"_id": app_id})
        production = next(env for env in app["environments"] if env["production"])
        events = await db["audit_events"].find({"action": "ALERT_SETTINGS_CHANGED"}).to_list(None)
        ordered = sorted(events, key=lambda event: event["_id"])
        return production["alert_settings"]["email_enabled"], [
            event["after"]["email_enabled"] for event in ordered
        ]

    writes = await writes_made(db, update(False))
    assert await state() == (False, [False])
    changes = [False]
    for at in range(writes):
        enabled = not changes[-1]
        with pytest.raises(Crash):
            await update(enabled)(CrashingDatabase(db, at))
        await recover(db)
        if at > 0:
            changes.append(enabled)
        assert await state() == (changes[-1], changes), at
        assert await rollup_reads.verify(db) == []
    assert await no_pending(db, "apps")


async def test_racing_drains_record_an_alert_once(db: Any, support: PersonRecord) -> None:
    """A report killed right after its status change; two periodic tasks and the next
    report (which drains the app's pending alerts too) run at once."""
    c = await cloud(db, support, "race")
    app_id = decode(c.app["id"], "App")
    data = {"environment_id": c.production, "samples": [{"category": "APP_CPU", "value": 80}]}
    with pytest.raises(Crash):
        await alert_cases.report_metrics(CrashingDatabase(db, 1), app_id, data)
    other = {"environment_id": c.production, "samples": [{"category": "APP_DISK", "value": 90}]}
    await asyncio.gather(recover(db), recover(db), alert_cases.report_metrics(db, app_id, other))
    assert await alert_state(db, app_id, "WARNING") == ("WARNING", [1], 1, 1)
    assert await db["alerts"].count_documents({"app_id": app_id}) == 2
    assert await db["events"].count_documents({}) == 2
    assert await no_pending(db, "apps")
