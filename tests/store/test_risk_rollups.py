"""Every at-risk count in the rollups: person-derived risks (an INACTIVE technical contact, a
technical contact without a MendixID) kept exact as people and contacts change, racing and
crashing; licenses expiring within N days exact for distinct apps from day counters, on any
window; each test ends with ``verify`` finding no drift."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from bson import ObjectId

from store import apps as app_store
from store import licenses as license_store
from store import people as people_store
from store import reports as report_store
from store import risks as risk_store
from store import rollup_people, rollup_reads, rollups
from store.apps import NEXT_EXPIRY, Hosting, LicenseRecord
from store.pagination import Order, Window
from store.people import PersonStatus
from tests.helpers import make_person

START = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)
PERSON_RISKS = ("inactive_contact", "contact_without_mendix_id")


class Crash(Exception):
    pass


async def _direct(db: Any, risk: str, hosting: Hosting | None = None) -> int:
    query = await report_store.DIRECT[risk](db)
    if hosting is not None:
        query = {"$and": [query, {"hosting": hosting.value}]}
    return int(await db[app_store.COLLECTION].count_documents(query))


async def _assert_counts_exact(db: Any) -> None:
    for risk in PERSON_RISKS:
        for hosting in (None, *Hosting):
            chosen = None if hosting is None else [hosting]
            assert await rollup_reads.risk_count(db, risk, chosen) == await _direct(
                db, risk, hosting
            ), (risk, hosting)
        carried = rollup_reads.contact_risk_filter(risk)  # what the app documents carry
        assert await db[app_store.COLLECTION].count_documents(carried) == await _direct(db, risk)
    await _assert_lists_exact(db)


async def _ids(db: Any, query: dict[str, Any]) -> set[ObjectId]:
    return {doc["_id"] for doc in await db[app_store.COLLECTION].find(query).to_list(None)}


async def _assert_lists_exact(db: Any) -> None:
    """The lists' filters (on the state the apps carry) find the apps the direct ones find,
    also while follow-ups are pending; through a scan and through a page of the list."""
    for risk in PERSON_RISKS:
        direct = await _ids(db, await report_store.DIRECT[risk](db))
        served = await report_store.RISKS[risk](db)
        assert await _ids(db, served) == direct, risk
        for order in (Order(), Order(NEXT_EXPIRY)):
            page = await app_store.list_apps(db, served, Window(first=100, order=order))
            assert {app.id for app in page.items} == direct, risk
            assert page.total_count == len(direct)


async def _world(
    db: Any, rng: random.Random, people: int, apps: int
) -> tuple[list[Any], list[Any]]:
    folks = [
        await make_person(db, f"p{i}-{ObjectId()}@example.com", "P", None if i % 3 else f"mx{i}")
        for i in range(people)
    ]
    ids = []
    for index in range(apps):
        app = await app_store.create_app(
            db,
            name=f"A{index}",
            subdomain=f"a{index}-{ObjectId()}",
            hosting=Hosting.ON_PREMISES if index % 3 else Hosting.MENDIX_CLOUD,
            technical_contact_id=rng.choice(folks).id,
        )
        ids.append(app.id)
    return folks, ids


async def _person_change(db: Any, rng: random.Random, person: Any) -> None:
    if rng.random() < 0.7:
        status = rng.choice(list(PersonStatus))
        await people_store.set_status(db, person.id, status)
    else:
        await people_store.register_mendix_id(db, person.id, f"mx-{ObjectId()}")


async def _contact_change(db: Any, rng: random.Random, app_id: ObjectId, people: list[Any]) -> None:
    app = await app_store.get_app(db, app_id)
    assert app is not None
    person = rng.choice(people).id
    step = rng.randrange(4)
    if step == 0:
        await app_store.add_technical_contact(db, app_id, person, has_mendix_id=False)
    elif step == 1 and len(app.technical_contact_ids) > 1:
        await app_store.remove_technical_contact(db, app_id, rng.choice(app.technical_contact_ids))
    elif step == 2:
        await app_store.add_member(db, app_id, person)
        await app_store.change_technical_contact(db, app_id, person, has_mendix_id=False)
    else:
        await app_store.move_to_mendix_cloud(db, app_id)


async def test_a_persons_change_moves_the_counts_of_all_their_apps(db: Any) -> None:
    rng = random.Random(1)
    people, ids = await _world(db, rng, 4, 10)
    await _assert_counts_exact(db)
    assert await rollup_reads.risk_count(db, "contact_without_mendix_id") > 0
    for person in people:
        await people_store.set_status(db, person.id, PersonStatus.INACTIVE)
        await _assert_counts_exact(db)
        if person.mendix_id is None:
            await people_store.register_mendix_id(db, person.id, f"mx-{ObjectId()}")
            await _assert_counts_exact(db)
    assert await rollup_reads.risk_count(db, "inactive_contact") == len(ids)
    assert await rollup_reads.risk_count(db, "contact_without_mendix_id") == 0
    await people_store.set_status(db, people[0].id, PersonStatus.ACTIVE)
    await _assert_counts_exact(db)
    assert await rollup_reads.verify(db) == []


async def test_racing_people_and_contact_changes_are_counted_once(db: Any) -> None:
    rng = random.Random(2)
    people, ids = await _world(db, rng, 5, 4)  # few apps and people: everything races
    changes = [
        _person_change(db, random.Random(seed), rng.choice(people))
        if seed % 2
        else _contact_change(db, random.Random(seed), rng.choice(ids), people)
        for seed in range(80)
    ]
    await asyncio.gather(*changes)
    await _assert_counts_exact(db)
    assert await rollup_reads.verify(db) == []


async def test_a_crash_between_a_person_write_and_its_follow_up_is_finished_once(
    db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(3)
    people, _ = await _world(db, rng, 3, 9)
    follow = rollup_people.follow_person
    reconcile = rollup_people.reconcile
    calls = 0

    async def crashing(db: Any, app_id: ObjectId) -> bool:
        nonlocal calls
        calls += 1
        changed = await reconcile(db, app_id)
        if calls % 2 == 0:  # dies after some of the person's apps were settled
            raise Crash()
        return changed

    monkeypatch.setattr(rollup_people, "reconcile", crashing)
    await people_store.set_status(db, people[0].id, PersonStatus.INACTIVE)
    monkeypatch.setattr(rollup_people, "follow_person", _never_follow)  # dies at once
    await people_store.set_status(db, people[1].id, PersonStatus.INACTIVE)
    await people_store.register_mendix_id(db, people[2].id, "mx-late")
    monkeypatch.setattr(rollup_people, "reconcile", reconcile)
    monkeypatch.setattr(rollup_people, "follow_person", follow)
    assert await rollup_reads.risk_count(db, "inactive_contact") != await _direct(
        db, "inactive_contact"
    ), "the crashes left counts behind"
    await _assert_lists_exact(db)  # the lists are exact meanwhile
    await asyncio.gather(rollups.drain_all(db), rollups.drain_all(db))  # two periodic tasks
    await _assert_counts_exact(db)
    assert await rollup_people.finish_all(db) == 0
    assert await rollup_reads.verify(db) == []


async def _never_follow(db: Any, person_id: ObjectId) -> int:
    raise Crash()


async def _never(db: Any, app_id: ObjectId) -> int:
    return 0


async def test_a_crash_between_a_contact_change_and_its_drain_is_finished_once(
    db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(4)
    people, ids = await _world(db, rng, 4, 5)
    drain = rollups.drain
    monkeypatch.setattr(rollups, "drain", _never)  # every app write left its entry pending
    for seed in range(30):
        await _contact_change(db, random.Random(seed), rng.choice(ids), people)
        if seed % 5 == 0:  # people change meanwhile (their follow-ups can't drain either)
            await _person_change(db, random.Random(seed), rng.choice(people))
    await _assert_lists_exact(db)  # every app is unsettled, the lists exact
    monkeypatch.setattr(rollups, "drain", drain)
    await asyncio.gather(rollups.drain_all(db), rollups.drain_all(db))
    await _assert_counts_exact(db)
    assert await rollup_reads.verify(db) == []


async def test_rebuild_sets_every_apps_contact_risks(db: Any) -> None:
    rng = random.Random(5)
    await _world(db, rng, 4, 6)
    await db[app_store.COLLECTION].update_many({}, {"$unset": {rollups.CONTACT_RISKS: ""}})
    await db[rollups.COUNTERS].delete_many({"_id": {"$regex": "^risk:"}})
    assert await rollup_reads.verify(db) != []
    await rollup_reads.rebuild(db)
    await _assert_counts_exact(db)
    assert await rollup_reads.verify(db) == []


# --- licenses expiring within N days -----------------------------------------------------------


def _license(key: str, expires: datetime) -> LicenseRecord:
    return LicenseRecord(
        license_id=key,
        plan="Standard",
        named_users=10,
        concurrent_users=5,
        starts_at=expires - timedelta(days=365),
        expires_at=expires,
    )


async def test_expiring_within_n_days_counts_distinct_apps_on_any_window(db: Any) -> None:
    rng = random.Random(6)
    _, ids = await _world(db, rng, 2, 14)
    expiries: list[datetime] = []
    for index, app_id in enumerate(ids):
        base = START + timedelta(days=rng.randrange(40), minutes=rng.randrange(24 * 60))
        for number in range(index % 4):  # 0..3 licenses: the same day, the same instant, later
            moment = base + timedelta(days=rng.choice([0, 0, 1, 3, 20]), hours=rng.randrange(3))
            moment = base if number == 2 and index % 8 == 3 else moment
            moment = moment.replace(microsecond=0)
            await license_store.add_license(db, app_id, _license(f"L{number}", moment))
            expiries.append(moment)
    moments = [START + timedelta(hours=hours) for hours in range(0, 50 * 24, 29)]
    steps = (timedelta(0), timedelta(milliseconds=1))
    moments += [expiry + step for expiry in expiries[:12] for step in steps]
    windows = 0
    for since in moments:
        for days in (1, 2, 7, 30, 400):
            until = since + timedelta(days=days)
            for hosting in (None, *Hosting):
                query: dict[str, Any] = risk_store.expiring_licenses(since, until)
                if hosting is not None:
                    query = {"$and": [query, {"hosting": hosting.value}]}
                expected = await db[app_store.COLLECTION].count_documents(query)
                chosen = None if hosting is None else [hosting]
                found = await rollup_reads.expiring_count(db, since, until, chosen)
                assert found == expected, (since, days, hosting)
                windows += expected > 0
    assert windows > 100
    # a window ending exactly on an expiry includes it; one starting 1 ms after excludes it
    first = min(expiries)
    assert await rollup_reads.expiring_count(db, first - timedelta(days=1), first) >= 1
    assert await rollup_reads.verify(db) == []
