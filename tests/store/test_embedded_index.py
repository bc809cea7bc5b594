"""The embedded engine's index of apps (store/embedded_index.py) answers like a scan.

Differential: store reads (pages in every order, both directions, key lookups, a viewer's
aggregations) through the index against the same reads with it switched off (mongomock's
own find, sort and count), while racing writes (store functions, a raw ``update_many``, a
delete, a refused unique write) run interleaved with them, and after the data file is
opened again. On the wire tier both runs take MongoDB's indexed queries.
"""

from __future__ import annotations

import asyncio
import random
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from bson import ObjectId
from pymongo.errors import DuplicateKeyError

from store import apps as app_store
from store import embedded_index, embedded_pages, rollup_people, rollups
from store import licenses as license_store
from store import pagination as pagination_module
from store import people as people_store
from store import reports as report_store
from store import risks as risk_store
from store.apps import NEXT_EXPIRY, Hosting, LicenseRecord
from store.db import connect
from store.pagination import Order, Window
from store.people import PersonStatus
from store.records import now
from tests.helpers import make_person

ORDERS = [Order(), Order("name"), Order("ordered_at", True), Order(NEXT_EXPIRY)]
ORDERS += [Order("delivered_at"), Order("name", True)]


@contextmanager
def scanning(patch: pytest.MonkeyPatch) -> Any:
    """Reads without the index: mongomock's own find, sort, count and distinct."""
    with patch.context() as scan:
        scan.setattr(embedded_index, "index_for", lambda _mock: None)
        scan.setattr(pagination_module, "mock_matching", lambda *_args: None)
        yield


async def _world(db: Any, apps: int = 24) -> list[Any]:
    people = [await make_person(db, f"p{i}@x.example", f"P{i}", f"mx{i}") for i in range(6)]
    rng = random.Random(7)
    for index in range(apps):
        contact = people[index % 4]
        app = await app_store.create_app(
            db,
            name=f"App {rng.randint(0, 9)}",
            subdomain=f"app-{index}",
            hosting=(Hosting.ON_PREMISES, Hosting.MENDIX_CLOUD)[index % 2],
            technical_contact_id=contact.id,
            account_executive_id=people[5].id if index % 3 == 0 else None,
        )
        if index % 4 != 3:
            days = rng.randint(-20, 90)
            license = LicenseRecord(
                license_id=f"L{index}",
                plan="standard",
                named_users=5,
                concurrent_users=1,
                starts_at=now() - timedelta(days=400),
                expires_at=now() + timedelta(days=days),
            )
            await license_store.add_license(db, app.id, license)
    return people


def _queries(people: list[Any]) -> list[dict[str, Any]]:
    soon = now() + timedelta(days=30)
    many = [ObjectId() for _ in range(20)]
    return [
        {},
        *(app_store.visible_to(person.id) for person in people),
        app_store.apps_query(hosting=[Hosting.ON_PREMISES]),
        app_store.apps_query(scope=app_store.visible_to(people[1].id), status=[]),
        app_store.apps_query(technical_contact_id=people[2].id, search="App 3"),
        {"technical_contact_ids": {"$in": [people[0].id, people[3].id]}},
        risk_store.cloud_without_alerts(),
        app_store.apps_query(also=[risk_store.expiring_licenses(now(), soon)]),
        {"$or": [{"member_ids": people[4].id}, {"hosting": "MENDIX_CLOUD", "status": "ORDERED"}]},
        {NEXT_EXPIRY: {"$lt": soon}},
        rollups.pending_filter(),  # apps with a rollup entry pending (the racing writes')
        {"contact_risks.risks": "contact_without_mendix_id"},
        # a viewer's few apps, then a broad condition tested on each of them
        app_store.apps_query(
            scope=app_store.visible_to(people[0].id),
            also=[risk_store.expiring_licenses(now(), soon)],
        ),
        app_store.apps_query(
            scope=app_store.visible_to(people[1].id),
            also=[{"technical_contact_ids": {"$in": [*many, people[1].id]}}],
        ),
    ]


async def _reads(db: Any, people: list[Any]) -> list[Any]:
    """Every read the index serves, as records and pages."""
    answers: list[Any] = []
    for query in _queries(people):
        for order in ORDERS:
            first = await app_store.list_apps(db, query, Window(first=4, order=order))
            answers.append(first)
            if first.keys:
                window = Window(first=3, after=first.keys[-1], order=order)
                answers.append(await app_store.list_apps(db, query, window))
                window = Window(last=2, before=first.keys[-1], order=order)
                answers.append(await app_store.list_apps(db, query, window))
            answers.append(await app_store.list_apps(db, query, Window(last=5, order=order)))
    stored = await db["apps"].find({}, {"_id": 1}).to_list(None)
    keys = [*(doc["_id"] for doc in stored[:10]), ObjectId()]
    scope = app_store.visible_to(people[0].id)
    answers.append(await app_store.get_apps(db, keys, scope))
    answers.append([await app_store.get_app(db, key, scope) for key in keys])
    summary = await report_store.summary(db, scope)  # rows have fresh ids
    answers.append([(row.hosting, row.status, row.count) for row in summary])
    answers.append(await report_store.top_contacts(db, scope, limit=3))
    answers.append(await report_store.count_contacts(db, scope))
    answers.append(sorted(await app_store.people_on_apps(db, scope)))
    return answers


async def _same_as_a_scan(db: Any, people: list[Any], patch: pytest.MonkeyPatch) -> None:
    indexed = await _reads(db, people)
    with scanning(patch):
        scanned = await _reads(db, people)
    assert indexed == scanned


async def test_reads_through_the_index_answer_like_a_scan(
    db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    people = await _world(db)
    await _same_as_a_scan(db, people, monkeypatch)


def _write(db: Any, key: ObjectId, person: Any, round_: int, pick: int) -> Any:
    """One of the writes that race: store functions, raw writes, a refused one."""
    apps = db["apps"]
    if pick == 0:
        return app_store.add_member(db, key, person.id)
    if pick == 1:
        return app_store.remove_member(db, key, person.id)
    if pick == 2:
        return app_store.set_account_executive(db, key, person.id)
    if pick == 3:
        return app_store.deliver(db, key, (person.id,))
    if pick == 4:
        return app_store.move_to_mendix_cloud(db, key)
    if pick == 5:
        return apps.update_many({"hosting": "ON_PREMISES"}, {"$push": {"member_ids": person.id}})
    if pick == 6:
        return apps.update_one({"_id": key}, {"$set": {"name": f"Renamed {round_}"}})
    if pick == 7:  # refused by the unique index: rolled back
        return apps.update_one({"_id": key}, {"$set": {"subdomain": "app-0"}})
    return license_store.settle_next_expiries(db, now() + timedelta(days=round_))


def _writes(db: Any, people: list[Any], keys: list[ObjectId]) -> list[Any]:
    rng = random.Random(11)
    jobs = [
        _write(db, rng.choice(keys), rng.choice(people), round_, rng.randrange(9))
        for round_ in range(40)
    ]
    jobs.append(db["apps"].delete_one({"_id": keys[5]}))
    return jobs


async def test_the_index_stays_equal_to_a_scan_under_racing_writes(
    db: Any, tier: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    people = await _world(db)
    await app_store.list_apps(db, {}, Window(first=1))  # the index is built now
    keys = [doc["_id"] for doc in await db["apps"].find({}, {"_id": 1}).to_list(None)]
    mismatches: list[Any] = []

    async def watch() -> None:  # between the writes' steps: the index against a scan
        mock = embedded_index.mongomock_collection(db["apps"])
        for _ in range(60):
            for query in _queries(people):
                found = embedded_index.find_all(db["apps"], query)
                if found is not None:
                    scanned = mock.find(query)._compute_results()
                    if {doc["_id"] for doc in found} != {doc["_id"] for doc in scanned}:
                        mismatches.append(query)
            await asyncio.sleep(0)

    results = await asyncio.gather(watch(), *_writes(db, people, keys), return_exceptions=True)
    refused = [item for item in results if isinstance(item, Exception)]
    assert all("Duplicate" in type(item).__name__ for item in refused), refused
    assert not mismatches
    await _same_as_a_scan(db, people, monkeypatch)
    if tier == "mock":
        assert embedded_index.index_of(db["apps"]) is not None


async def test_the_index_of_a_reopened_data_file_answers_like_a_scan(
    tmp_path: Path, tier: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if tier != "mock":
        pytest.skip("the data file is the embedded engine's")
    data = tmp_path / "embedded.json"
    store = await connect(None, data_file=data)
    people = await _world(store.db, apps=12)
    await app_store.list_apps(store.db, {}, Window(first=1))
    await app_store.add_member(store.db, (await _first_key(store.db)), people[5].id)
    before = await _reads(store.db, people)
    await store.close()
    store = await connect(None, data_file=data)
    try:
        assert await _reads(store.db, people) == before
        await _same_as_a_scan(store.db, people, monkeypatch)
    finally:
        await store.close()


async def _first_key(db: Any) -> ObjectId:
    doc = await db["apps"].find_one({}, sort=[("_id", 1)])
    return doc["_id"]  # type: ignore[no-any-return]


async def test_the_index_serves_the_embedded_engine_only(db: Any, tier: str) -> None:
    people = await _world(db, apps=4)
    found = embedded_index.find_all(db["apps"], app_store.visible_to(people[0].id))
    if tier == "mock":
        assert found is not None and {doc["subdomain"] for doc in found} == {"app-0"}
        assert embedded_index.find_all(db["tokens"], {}) is None  # no index of tokens
    else:
        assert found is None


async def test_unique_subdomains_hold_when_the_index_checks_them(db: Any) -> None:
    contact = await make_person(db, "c@x.example", "C", "mx-c")

    def create(subdomain: str) -> Any:
        return app_store.create_app(
            db,
            name="A",
            subdomain=subdomain,
            hosting=Hosting.ON_PREMISES,
            technical_contact_id=contact.id,
        )

    results = await asyncio.gather(*(create("same") for _ in range(8)), return_exceptions=True)
    refused = [item for item in results if isinstance(item, app_store.DuplicateSubdomain)]
    assert len(refused) == 7
    other = await create("other")
    with pytest.raises(DuplicateKeyError):
        await db["apps"].update_one({"_id": other.id}, {"$set": {"subdomain": "same"}})
    stored = await app_store.get_app(db, other.id)
    assert stored is not None and stored.subdomain == "other"
    for subdomain in ("same", "other"):
        page = await app_store.list_apps(db, {"subdomain": subdomain}, Window(first=5))
        assert page.total_count == 1


async def _at_risk_world(db: Any, patch: pytest.MonkeyPatch) -> list[Any]:
    """:func:`_world` with apps at every person-derived risk, one app whose rollup entry and
    one person whose follow-up were left pending (a crash)."""
    people = await _world(db)
    await people_store.set_status(db, people[1].id, PersonStatus.INACTIVE)
    late = await make_person(db, "late@x.example", "Late")  # no MendixID
    keys = [doc["_id"] for doc in await db["apps"].find({}, {"_id": 1}).to_list(None)]
    for key in keys[::3]:
        await app_store.add_member(db, key, late.id)
        app = await app_store.get_app(db, key)
        if app is not None and app.hosting is Hosting.ON_PREMISES:
            await app_store.add_technical_contact(db, key, late.id, has_mendix_id=False)
    with patch.context() as crash:
        crash.setattr(rollups, "drain", _left)
        crash.setattr(rollup_people, "follow_person", _left)
        await app_store.add_technical_contact(db, keys[2], people[1].id, has_mendix_id=True)
        await people_store.set_status(db, people[2].id, PersonStatus.INACTIVE)
    return [*people, late]


async def _left(db: Any, key: ObjectId) -> int:
    return 0


async def _risk_reads(db: Any, people: list[Any]) -> list[Any]:
    """Pages of the at-risk queries in every order, counted and not."""
    queries = [
        {"contact_risks.risks": "inactive_contact"},
        {"contact_risks.risks": None},  # null on a nested field: not the index's
        rollups.pending_filter(),
        *[await report_store.RISKS[risk](db) for risk in report_store.RISKS],
        app_store.apps_query(
            hosting=[Hosting.ON_PREMISES],
            also=[risk_store.expiring_licenses(now(), now() + timedelta(days=60))],
        ),
        {"technical_contact_ids": {"$in": [ObjectId() for _ in range(20)] + [people[0].id]}},
        app_store.apps_query(
            scope=app_store.visible_to(people[6].id),
            also=[await report_store.RISKS["contact_without_mendix_id"](db)],
        ),
    ]
    answers = []
    for query in queries:
        for order in ORDERS:
            for total in (None, -1):  # -1: known to the caller, not counted
                window = Window(first=3, order=order)
                first = await app_store.list_apps(db, query, window, None, total)
                answers.append(first)
                if first.keys:
                    window = Window(first=2, after=first.keys[-1], order=order)
                    answers.append(await app_store.list_apps(db, query, window, None, total))
                window = Window(last=2, order=order)
                answers.append(await app_store.list_apps(db, query, window, None, total))
    return answers


@pytest.mark.parametrize("cost", [0, 1, 10**6])  # always sort, walk within a budget, walk
async def test_at_risk_pages_walked_or_sorted_answer_like_a_scan(
    db: Any, monkeypatch: pytest.MonkeyPatch, cost: int
) -> None:
    people = await _at_risk_world(db, monkeypatch)
    for risk in ("inactive_contact", "contact_without_mendix_id"):
        served = await _ids(db, await report_store.RISKS[risk](db))
        assert served == await _ids(db, await report_store.DIRECT[risk](db))
        assert served, risk
    monkeypatch.setattr(embedded_pages, "SORT_COST", cost)
    monkeypatch.setattr(embedded_pages, "_SLACK", 0 if cost == 1 else 64)
    indexed = await _risk_reads(db, people)
    with scanning(monkeypatch):
        scanned = await _risk_reads(db, people)
    assert indexed == scanned


async def _ids(db: Any, query: dict[str, Any]) -> set[ObjectId]:
    return {doc["_id"] for doc in await db["apps"].find(query, {"_id": 1}).to_list(None)}
