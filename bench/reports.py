"""Benchmark of every report at 1k, 10k and 100k apps (run on demand: ``make bench``).

Engines: the embedded default (mongomock) always; the MongoDB at ``MONGODB_URI`` when set
(each size in a fresh ``bench_<random>`` database, dropped afterwards). Data comes from
``ownership.generate`` (bulk inserts). For each report it prints the best of a few runs, how
it grows (ratio to its own 1k time) and how it compares with baselines measured in the same
run on the same data: ``count`` (count_documents({})) and ``scan`` (read every app's _id).

    python -m bench.reports [--sizes 1000,10000,100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from ownership.generate import generate
from store import apps as app_store
from store import reports, risks
from store.db import Database, aggregate, ensure_indexes
from store.pagination import Window
from store.records import now

Job = Callable[[], Awaitable[Any]]


async def _best(job: Job, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        await job()
        times.append(time.perf_counter() - start)
    return min(times)


def _jobs(db: Database, viewer_scope: dict[str, Any], top_person: Any) -> dict[str, Job]:
    apps = db[app_store.COLLECTION]

    async def scan() -> None:  # read every app, through the same helper as the reports
        await aggregate(apps, [{"$project": {"_id": 1}}])

    async def risk(name: str, scope: dict[str, Any] | None) -> None:
        query = await reports.risk_query(db, name, scope or {})
        await app_store.list_apps(db, query, Window(first=20))

    async def expiring(scope: dict[str, Any] | None) -> None:
        moment = now()
        query = risks.expiring_licenses(moment, moment + timedelta(days=90))
        await app_store.list_apps(
            db, {"$and": [scope, query]} if scope else query, Window(first=20)
        )

    async def top(scope: dict[str, Any] | None) -> None:
        await reports.top_contacts(db, scope, limit=20)
        await reports.count_contacts(db, scope)

    return {
        "baseline: count": lambda: apps.count_documents({}),
        "baseline: scan": scan,
        "summary (Support)": lambda: reports.summary(db, None),
        "summary (viewer)": lambda: reports.summary(db, viewer_scope),
        "top contacts p1+total (Support)": lambda: top(None),
        "top contacts p1+total (viewer)": lambda: top(viewer_scope),
        "person load (Support)": lambda: reports.contact_load(db, None, top_person),
        "at risk: inactive p1+total": lambda: risk("inactive_contact", None),
        "at risk: no MendixID p1+total": lambda: risk("contact_without_mendix_id", None),
        "at risk: inactive (viewer)": lambda: risk("inactive_contact", viewer_scope),
        "at risk: licenses 90d p1+total": lambda: expiring(None),
        "at risk: licenses 90d (viewer)": lambda: expiring(viewer_scope),
        "at risk: cloud no alerts p1+total": lambda: risk("cloud_without_alerts", None),
        "at risk: manage by others p1+total": lambda: risk("foreign_manage_permissions", None),
        "expiry timeline 12 months (Support)": lambda: risks.expiry_timeline(db, None, now(), 12),
        "expiry timeline 12 months (viewer)": lambda: risks.expiry_timeline(
            db, viewer_scope, now(), 12
        ),
    }


async def _measure(db: Database, size: int, repeat: int) -> dict[str, float]:
    await ensure_indexes(db)
    start = time.perf_counter()
    await generate(db, size, seed=size)
    print(f"  generated {size:,} apps in {time.perf_counter() - start:.2f}s", flush=True)
    (top, *_), _ = await reports.top_contacts(db, None, limit=1)
    # a typical viewer: someone on a few teams (the 50th busiest technical contact)
    page, _ = await reports.top_contacts(db, None, limit=50)
    viewer_scope = app_store.visible_to(page[-1].id)
    results = {}
    for name, job in _jobs(db, viewer_scope, top.id).items():
        results[name] = await _best(job, repeat if size < 100_000 else 1)
        print(f"    {name}: {results[name] * 1000:.1f} ms", flush=True)
    return results


async def _mock_db() -> tuple[Database, Callable[[], Awaitable[None]]]:
    from mongomock_motor import AsyncMongoMockClient

    client = AsyncMongoMockClient(tz_aware=True)

    async def close() -> None:
        client.close()

    return client.get_database("bench"), close


async def _real_db(uri: str) -> tuple[Database, Callable[[], Awaitable[None]]]:
    from pymongo import AsyncMongoClient

    client: Any = AsyncMongoClient(uri, tz_aware=True, uuidRepresentation="standard")
    name = f"bench_{uuid.uuid4().hex[:10]}"

    async def close() -> None:
        await client.drop_database(name)
        await client.close()

    return client.get_database(name), close


def _report(engine: str, table: dict[int, dict[str, float]]) -> None:
    sizes = sorted(table)
    first = sizes[0]
    print(f"\n== {engine}: best time (ms); x{first // 1000}k = ratio to the {first:,}-app time;")
    print("   /scan = ratio to reading every app's _id at the same size")
    header = f"{'report':34}" + "".join(f"{size:>10,}" for size in sizes)
    header += "".join(
        f"{'x' + str(first // 1000) + 'k@' + str(s // 1000) + 'k':>12}" for s in sizes[1:]
    )
    header += "".join(f"{'/scan@' + str(s // 1000) + 'k':>12}" for s in sizes)
    print(header)
    for name in table[first]:
        row = f"{name:34}" + "".join(f"{table[s][name] * 1000:>10.1f}" for s in sizes)
        row += "".join(f"{table[s][name] / table[first][name]:>12.1f}" for s in sizes[1:])
        row += "".join(f"{table[s][name] / table[s]['baseline: scan']:>12.2f}" for s in sizes)
        print(row)


async def main(sizes: list[int], repeat: int) -> None:
    engines: list[tuple[str, Callable[[], Awaitable[Any]]]] = [("embedded (mongomock)", _mock_db)]
    uri = os.environ.get("MONGODB_URI")
    if uri:
        engines.append(("MongoDB at MONGODB_URI", lambda: _real_db(uri)))
    for engine, open_db in engines:
        print(f"{engine}:", flush=True)
        table = {}
        for size in sizes:
            db, close = await open_db()
            try:
                table[size] = await _measure(db, size, repeat)
            finally:
                await close()
        _report(engine, table)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main([int(size) for size in args.sizes.split(",")], args.repeat))
