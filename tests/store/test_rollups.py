"""Rollups equal a direct aggregation: after random changes, racing changes, a crash between a
change and its drain, a drain run twice, and whatever month the timeline starts in."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from bson import ObjectId

from store import apps as app_store
from store import environments as env_store
from store import licenses as license_store
from store import reports as report_store
from store import risks as risk_store
from store import rollup_reads, rollups
from store.apps import Hosting, LicenseRecord
from store.cloud import EnvironmentRight
from tests.helpers import make_person

START = datetime(2026, 1, 10, tzinfo=UTC)


async def _people(db: Any, count: int) -> list[Any]:
    return [
        await make_person(db, f"p{index}-{ObjectId()}@example.com", "P", f"mx-{ObjectId()}")
        for index in range(count)
    ]


def _license(rng: random.Random, key: str) -> LicenseRecord:
    expires = START + timedelta(days=rng.randrange(0, 700), hours=rng.randrange(24))
    return LicenseRecord(
        license_id=key,
        plan="Standard",
        named_users=10,
        concurrent_users=5,
        starts_at=START,
        expires_at=expires,
    )


async def _random_change(db: Any, rng: random.Random, app_id: ObjectId, people: list[Any]) -> None:
    app = await app_store.get_app(db, app_id)
    assert app is not None
    person = rng.choice(people).id
    step = rng.randrange(9)
    if step == 0:
        await app_store.deliver(db, app_id, app.technical_contact_ids)
    elif step == 1:
        await app_store.add_technical_contact(db, app_id, person, has_mendix_id=True)
    elif step == 2 and len(app.technical_contact_ids) > 1:
        await app_store.remove_technical_contact(db, app_id, app.technical_contact_ids[0])
    elif step == 3:
        await app_store.add_member(db, app_id, person)
        await app_store.change_technical_contact(db, app_id, person, has_mendix_id=True)
    elif step == 4:
        await app_store.move_to_mendix_cloud(db, app_id)
    elif step == 5:
        await license_store.add_license(db, app_id, _license(rng, f"L-{rng.randrange(3)}"))
    elif step == 6 and app.licenses:
        await license_store.replace_license(db, app, _license(rng, app.licenses[0].license_id))
    elif step == 7:
        await env_store.add_environment(
            db, app_id, name=f"e{rng.randrange(99)}", production=rng.random() < 0.5
        )
    elif step == 8 and app.environments:
        env = rng.choice(app.environments)
        index = app.environments.index(env)
        if rng.random() < 0.5:
            await env_store.update_alert_settings(
                db,
                app_id,
                index,
                env.environment_id,
                person,
                email_enabled=rng.random() < 0.3,
                recipient_ids=None,
                thresholds={},
            )
        else:
            await app_store.add_member(db, app_id, person)
            rights = [EnvironmentRight.MANAGE_PERMISSIONS]
            await env_store.grant(db, app_id, env.environment_id, person, rights, person)


async def _apps(db: Any, rng: random.Random, people: list[Any], count: int) -> list[ObjectId]:
    ids = []
    for index in range(count):
        app = await app_store.create_app(
            db,
            name=f"A{index}",
            subdomain=f"a{index}-{ObjectId()}",
            hosting=rng.choice(list(Hosting)),
            technical_contact_id=rng.choice(people).id,
        )
        ids.append(app.id)
    return ids


async def test_random_changes_keep_the_rollups_exact(db: Any) -> None:
    rng = random.Random(7)
    people = await _people(db, 6)
    ids = await _apps(db, rng, people, 12)
    for _ in range(120):
        await _random_change(db, rng, rng.choice(ids), people)
    assert await rollup_reads.verify(db) == []
    stored = await rollup_reads.stored(db)
    assert stored.counters[rollups.MONTHS], "licenses were counted"
    assert any(key.startswith("risk:") for key in stored.counters[rollups.COUNTERS])


async def test_racing_changes_are_each_counted_once(db: Any) -> None:
    rng = random.Random(11)
    people = await _people(db, 5)
    ids = await _apps(db, rng, people, 4)  # few apps: changes race on the same documents
    await asyncio.gather(
        *(_random_change(db, random.Random(seed), rng.choice(ids), people) for seed in range(80))
    )
    assert await rollup_reads.verify(db) == []


async def test_racing_drains_apply_an_entry_once(db: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(3)
    people = await _people(db, 3)
    pulled = rollups.drain
    monkeypatch.setattr(rollups, "drain", _never)  # the writes leave their deltas pending
    ids = await _apps(db, rng, people, 3)
    for _ in range(20):
        await _random_change(db, rng, rng.choice(ids), people)
    monkeypatch.setattr(rollups, "drain", pulled)
    await asyncio.gather(*(rollups.drain(db, app_id) for app_id in ids for _ in range(3)))
    await asyncio.gather(rollups.drain_all(db), rollups.drain_all(db))
    assert await rollup_reads.verify(db) == []


async def _never(db: Any, app_id: ObjectId) -> int:
    return 0


class Crash(Exception):
    pass


async def test_a_crash_between_change_and_drain_is_finished_once(
    db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(5)
    people = await _people(db, 4)
    ids = await _apps(db, rng, people, 5)
    bump = rollups._bump
    calls = 0

    async def crashing(*args: Any) -> None:
        nonlocal calls
        calls += 1
        await bump(*args)
        if calls % 3 == 0:  # dies after part of an entry's counters were applied
            raise Crash()

    monkeypatch.setattr(rollups, "_bump", crashing)
    for _ in range(40):
        await _random_change(db, rng, rng.choice(ids), people)
    monkeypatch.setattr(rollups, "_bump", bump)
    assert await db[app_store.COLLECTION].count_documents({"rollup_pending.0": {"$exists": True}})
    assert await rollup_reads.stored(db) != await rollup_reads.direct(db)  # not yet
    assert await rollups.drain_all(db) > 0  # the periodic task's recovery
    assert await rollups.drain_all(db) == 0
    assert await rollup_reads.verify(db) == []


async def test_the_timeline_is_right_from_any_day(db: Any) -> None:
    rng = random.Random(9)
    people = await _people(db, 3)
    ids = await _apps(db, rng, people, 6)
    for app_id in ids:
        for key in ("L-1", "L-2"):
            await license_store.add_license(db, app_id, _license(rng, key))
    for days in (0, 1, 20, 45, 200, 400, 800):  # as days pass, the window moves
        moment = START + timedelta(days=days)
        for months in (1, 12, 30):
            expected = await risk_store.expiry_timeline(db, None, moment, months)
            found = await rollup_reads.expiry_timeline(db, moment, months)
            assert [(m.month, m.count) for m in found] == [(m.month, m.count) for m in expected]


async def test_rebuild_repairs_drift(db: Any) -> None:
    rng = random.Random(13)
    people = await _people(db, 3)
    ids = await _apps(db, rng, people, 5)
    await db[rollups.COUNTERS].update_many({}, {"$inc": {"count": 5}})
    await db[rollups.LOADS].delete_many({"_id": people[0].id})
    assert await rollup_reads.verify(db) != []
    await rollup_reads.rebuild(db)
    assert await rollup_reads.verify(db) == []
    await _random_change(db, rng, ids[0], people)
    assert await rollup_reads.verify(db) == []


async def test_contact_pages_equal_the_direct_aggregation(db: Any) -> None:
    rng = random.Random(17)
    people = await _people(db, 9)
    ids = await _apps(db, rng, people, 30)
    await rollup_reads.top_contacts(db, limit=2)  # built now, then kept up by the changes
    for _ in range(40):
        await _random_change(db, rng, rng.choice(ids), people)
    for descending in (True, False):
        after, more = None, True
        while more:  # every page, keyset by (count, person): ties ordered by id
            page, more = await rollup_reads.top_contacts(
                db, limit=2, descending=descending, after=after
            )
            expected, expected_more = await report_store.top_contacts(
                db, None, limit=2, descending=descending, after=after
            )
            assert (page, more) == (expected, expected_more)
            after = (page[-1].app_count, page[-1].id) if page else None
    assert await rollup_reads.count_contacts(db) == await report_store.count_contacts(db, None)
    for person in [*people, await make_person(db, "none@example.com")]:
        found = await rollup_reads.contact_load(db, person.id)
        assert found == await report_store.contact_load(db, None, person.id)
