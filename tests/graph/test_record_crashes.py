"""A change and its record (audit event, email) survive a crash between any two writes: the
writer is killed before its 1st, 2nd, ... write (tests/crashing.py), the periodic task's
recovery runs ("restart"), and the outcome is the change with its record once, or nothing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ownership.tasks import recover, run_once
from resolvers import licenses as license_cases
from resolvers import maintenance as maintenance_cases
from store.people import PersonRecord
from tests.crashing import Crash, CrashingDatabase, writes_made
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
    left = {"$or": [{"pending_events.0": {"$exists": True}}, {"pending_mail.0": {"$exists": True}}]}
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


async def test_racing_drains_record_an_expansion_once(
    db: Any, support: PersonRecord, licensed: tuple[PersonRecord, dict[str, Any]]
) -> None:
    """The request left its email and event pending (killed right after its insert); the
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
