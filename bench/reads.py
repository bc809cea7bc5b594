"""Fast nested reads, measured against the hand-written limit.

``make bench-reads`` (or ``python -m bench.reads [--sizes 100,1000,10000] [--http-seconds 5]``)
prints in one run, per query:

- in-process, on the same pre-loaded records (root resolvers and the people loader return
  them from memory, so only execution is measured): the hand-written projection +
  ``json.dumps`` baseline (and + orjson), graphql-core's ``execute`` on a pre-parsed document
  with the standard executor and with the compiled one (what the fast front runs), standard
  strawberry and strawberry with the compiled path (all + orjson, as the HTTP answers are
  encoded), each as time and ratio;
- end to end in-process on the embedded engine for each seeded size, with database round
  trips per query (they must not grow with the page size);
- over HTTP: uvicorn on loopback, one worker, ``wrk`` (or an httpx fallback) with 10
  connections from a second process: the baseline (a plain Starlette endpoint serving the
  hand-written projection of in-memory records, json.dumps / orjson), then the API with the
  fast front and with stock strawberry (OWNERSHIP_FAST_READS=0), on records in memory and
  on the embedded engine, each as req/s and ratio to the baseline;
- what protection costs over HTTP (with and without, ``OWNERSHIP_PROTECTION=0`` for the
  comparison only) and the time to refuse the abusive query (bench/protection.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import orjson
from graphql import execute, parse
from mongomock_motor import AsyncMongoMockClient

from bench.queries import DASHBOARD_QUERIES, NESTED_100, NESTED_1000, STORED_100, TINY
from bench.seed import seed
from graph import fast
from graph.context import Context, Loaders
from graph.schema import schema
from resolvers import app_views as app_cases
from resolvers.ids import encode
from resolvers.pagination import encode_cursor
from store import people as people_store
from store.apps import list_apps
from store.db import ensure_indexes
from store.licenses import renewed_by
from store.pagination import Window


async def measure(
    variants: list[tuple[str, Callable[[], Any]]], repeat: int
) -> dict[str, tuple[float, float]]:
    """(median, best) milliseconds per variant, run round-robin so that noise from other
    processes on the machine hits every variant alike. Variants may be sync or async."""
    samples: dict[str, list[float]] = {label: [] for label, _ in variants}

    async def once(fn: Callable[[], Any]) -> float:
        start = time.perf_counter()
        out = fn()
        if asyncio.iscoroutine(out):
            await out
        return time.perf_counter() - start

    for _ in range(2):
        for _label, fn in variants:
            await once(fn)
    for _ in range(repeat):
        for label, fn in variants:
            samples[label].append(await once(fn))
    return {
        label: (statistics.median(times) * 1000, min(times) * 1000)
        for label, times in samples.items()
    }


def report(results: dict[str, tuple[float, float]]) -> None:
    """Median and best time per variant, each as a ratio to the first (the baseline)."""
    base_median, base_best = next(iter(results.values()))
    print(f"  {'':<56} {'median':>10} {'ratio':>7}   {'best':>9} {'ratio':>7}")
    for label, (median, best) in results.items():
        print(
            f"  {label:<56} {median:7.3f} ms {median / base_median:6.2f}x"
            f"   {best:6.3f} ms {best / base_best:6.2f}x"
        )


def hand_written(page: Any, people: dict[Any, Any]) -> dict[str, Any]:
    """The limit: the same response built by hand from the same records."""

    def person(p: Any, full: bool) -> dict[str, Any]:
        out = {"id": encode("Person", p.id), "name": p.name}
        if full:
            out.update(email=p.email, mendixId=p.mendix_id, status=p.status.value)
        return out

    def environment(app: Any, env: Any) -> dict[str, Any]:
        grants = [g for g in app.grants if g.environment_id == env.environment_id]
        return {
            "id": encode("Environment", env.environment_id),
            "name": env.name,
            "production": env.production,
            "state": env.state.value,
            "createdAt": env.created_at.isoformat(),
            "grants": [
                {
                    "right": g.right.value,
                    "grantedAt": g.granted_at.isoformat(),
                    "person": {"name": people[g.person_id].name},
                }
                for g in grants
            ],
        }

    nodes = []
    for app in page.items:
        executive = people.get(app.account_executive_id)
        renewer = renewed_by(app.hosting).value
        nodes.append(
            {
                "id": encode("App", app.id),
                "name": app.name,
                "subdomain": app.subdomain,
                "hosting": app.hosting.value,
                "status": app.status.value,
                "orderedAt": app.ordered_at.isoformat(),
                "deliveredAt": app.delivered_at.isoformat() if app.delivered_at else None,
                "version": app.version,
                "technicalContacts": [
                    person(people[key], True) for key in app.technical_contact_ids
                ],
                "teamMembers": [person(people[key], False) for key in app.member_ids],
                "accountExecutive": person(executive, False) if executive else None,
                "licenses": [
                    {
                        "licenseId": item.license_id,
                        "plan": item.plan,
                        "namedUsers": item.named_users,
                        "concurrentUsers": item.concurrent_users,
                        "startsAt": item.starts_at.isoformat(),
                        "expiresAt": item.expires_at.isoformat(),
                        "renewedBy": renewer,
                    }
                    for item in app.licenses
                ],
                "environments": [environment(app, env) for env in app.environments],
            }
        )
    end = encode_cursor(page.keys[-1]) if page.keys else None
    return {
        "data": {
            "apps": {
                "totalCount": page.total_count,
                "pageInfo": {"hasNextPage": page.has_next_page, "endCursor": end},
                "nodes": nodes,
            }
        }
    }


class Counting:
    """A database proxy counting round trips (find, find_one, count, aggregate, distinct)."""

    CALLS = ("find", "find_one", "count_documents", "aggregate", "distinct")

    def __init__(self, db: Any) -> None:
        self.db = db
        self.trips = 0

    def __getitem__(self, name: str) -> Any:
        collection = self.db[name]
        counter = self

        class Collection:
            def __getattr__(self, attr: str) -> Any:
                if attr.startswith("_AsyncMongoMock"):
                    raise AttributeError(attr)  # counted: no embedded shortcuts by key
                value = getattr(collection, attr)
                if attr in Counting.CALLS:
                    counter.trips += 1
                return value

        return Collection()

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("_AsyncMongoMock"):
            raise AttributeError(attr)
        return getattr(self.db, attr)


async def in_memory(db: Any, viewer: Any, repeat: int) -> None:
    """Execution only: resolvers get pre-loaded records, so no database time is measured."""
    page = await list_apps(db, {}, Window(first=100))
    ids = {key for app in page.items for key in (*app.technical_contact_ids, *app.member_ids)}
    ids |= {app.account_executive_id for app in page.items if app.account_executive_id}
    people = {p.id: p for p in await people_store.get_people(db, list(ids)) if p}

    async def pages(*_args: Any) -> Any:
        return page

    async def load(_db: Any, keys: list[Any]) -> list[Any]:
        return [people.get(key) for key in keys]

    real = app_cases.list_apps, people_store.get_people
    app_cases.list_apps, people_store.get_people = pages, load  # type: ignore[assignment]
    try:
        await _compare(db, viewer, page, people, repeat)
    finally:
        app_cases.list_apps, people_store.get_people = real  # type: ignore[assignment]


async def _compare(db: Any, viewer: Any, page: Any, people: Any, repeat: int) -> None:
    await _compare_one(db, viewer, page, people, repeat, NESTED_100, hand_written, "nested")
    await _compare_one(db, viewer, page, people, repeat, STORED_100, stored_only, "stored-only")


def stored_only(page: Any, people: Any) -> dict[str, Any]:
    out = hand_written(page, people)
    for node in out["data"]["apps"]["nodes"]:
        for key in (
            "technicalContacts",
            "teamMembers",
            "accountExecutive",
            "licenses",
            "environments",
        ):
            del node[key]
    return out


async def _compare_one(
    db: Any, viewer: Any, page: Any, people: Any, repeat: int, query: str, by_hand: Any, name: str
) -> None:
    variables = {"first": 100, "after": None}
    document = parse(query)
    hand_written = by_hand

    def context() -> Context:
        return Context(db=db, viewer=viewer, loaders=Loaders.create(db))

    async def strawberry_run() -> bytes:
        result = await schema.execute(query, variable_values=variables, context_value=context())
        return orjson.dumps({"data": result.data})

    async def core_run(executor: Any) -> bytes:
        result = await execute(
            schema._schema,
            document,
            context_value=context(),
            variable_values=variables,
            executor_class=executor,
        )
        return orjson.dumps({"data": result.data})

    expected = hand_written(page, people)
    with fast.standard():
        standard_out = orjson.loads(await strawberry_run())
    fast_out = orjson.loads(await strawberry_run())
    assert standard_out == fast_out == json.loads(json.dumps(expected)), "responses differ"
    values = _count_values(expected)
    size = len(json.dumps(expected))
    print(f"\n{name} 100-app query, execution only ({values:,} values, {size / 1024:.0f} KB):")

    async def core_standard() -> bytes:
        with fast.standard():
            return await core_run(None)

    async def strawberry_standard() -> bytes:
        with fast.standard():
            return await strawberry_run()

    report(
        await measure(
            [
                (
                    "hand-written projection + json.dumps (the limit)",
                    lambda: json.dumps(hand_written(page, people)),
                ),
                (
                    "hand-written projection + orjson",
                    lambda: orjson.dumps(hand_written(page, people)),
                ),
                ("graphql-core execute, pre-parsed, standard (+ orjson)", core_standard),
                (
                    "fast front: graphql-core, pre-parsed, compiled (+ orjson)",
                    lambda: core_run(fast.FastExecutionContext),
                ),
                ("strawberry, standard execution (+ orjson)", strawberry_standard),
                ("strawberry, compiled path (+ orjson)", strawberry_run),
            ],
            repeat,
        )
    )


def _count_values(value: Any) -> int:
    if isinstance(value, dict):
        return sum(_count_values(item) for item in value.values())
    if isinstance(value, list):
        return sum(_count_values(item) for item in value)
    return 1


async def end_to_end(sizes: list[int], repeat: int) -> None:
    print("\nend to end in-process on the embedded engine (mongomock; includes its reads):")
    for size in sizes:
        client = AsyncMongoMockClient(tz_aware=True)
        raw = client.get_database(f"bench{size}")
        start = time.perf_counter()
        support_id, _token = await seed(raw, size)
        await ensure_indexes(raw)  # after the bulk insert: mongomock checks unique keys per insert
        seeded = time.perf_counter() - start
        db = Counting(raw)
        viewer = await people_store.get_person(raw, support_id)
        ordered = [
            doc["_id"] for doc in await raw.apps.find({}, {"_id": 1}).sort("_id", 1).to_list(None)
        ]
        cursors = {
            f"a{i}": encode_cursor(ordered[i * 100 - 1]) if i and size >= 1000 else None
            for i in range(10)
        }
        runs = [("tiny { __typename }", TINY, {}), ("nested, 10 apps", NESTED_100, {"first": 10})]
        runs.append(("nested, 100 apps", NESTED_100, {"first": 100}))
        if size >= 1000:
            runs.append(("nested, 1,000 apps (10 aliased pages)", NESTED_1000, cursors))
        runs += DASHBOARD_QUERIES
        print(f" {size:,} apps seeded in {seeded:.2f} s")
        for label, document, variables in runs:
            once = _runner(raw, viewer, document, variables)

            async def standard(once: Any = once) -> Any:
                with fast.standard():
                    return await once()

            rounds = max(3, repeat // 20) if size < 10000 else 1
            times = await measure([("standard", standard), ("compiled", once)], rounds)
            db.trips = 0
            await _runner(db, viewer, document, variables)()
            print(
                f"  {label:<40} standard {times['standard'][0]:9.2f} ms"
                f"  compiled {times['compiled'][0]:9.2f} ms  round trips {db.trips}"
            )


def _runner(db: Any, viewer: Any, document: str, variables: Any) -> Callable[[], Any]:
    async def once() -> bytes:
        ctx = Context(db=db, viewer=viewer, loaders=Loaders.create(db))
        result = await schema.execute(document, variable_values=variables, context_value=ctx)
        assert not result.errors, result.errors
        return orjson.dumps({"data": result.data})

    return once


HTTP_SERVERS = [
    # (label, bench.serve data mode, OWNERSHIP_FAST_READS); "memory": app pages and people
    # from memory after the first read, reports on the engine (bench/serve.py)
    ("plain Starlette + json.dumps (baseline; no auth)", "plain-json", "1"),
    ("plain Starlette + orjson (no auth)", "plain-orjson", "1"),
    ("API, fast front, records in memory", "memory", "1"),
    ("API, stock strawberry, records in memory", "memory", "0"),
    ("API, fast front, embedded engine", "embedded", "1"),
    ("API, stock strawberry, embedded engine", "embedded", "0"),
]


def http(size: int, seconds: float, port: int) -> None:
    """Requests per second of each server for each query, as a ratio to the plain Starlette
    endpoint measured in the same run (the dashboard has no hand-written baseline)."""
    print(
        f"\nover HTTP (uvicorn + httptools + uvloop, 1 worker, 127.0.0.1:{port}, {size:,} apps,"
        f" 10 connections, {'wrk' if shutil.which('wrk') else 'httpx'} from a second process,"
        f" {seconds:.0f} s each; req/s and ratio to the plain json.dumps endpoint):"
    )
    runs = [
        ("tiny", TINY, {}),
        ("nested 100", NESTED_100, {"first": 100}),
        ("nested 1,000", NESTED_1000, {}),
        *(("dashboard", document, variables) for _n, document, variables in DASHBOARD_QUERIES),
    ]
    print(f"  {'':<50}" + "".join(f" {label:>19}" for label, _d, _v in runs))
    baseline: list[float | None] = []
    for name, data, fast_reads in HTTP_SERVERS:
        # a load test spends far more than a token's hourly budget: not what it measures
        budget = str(10**15)
        env = {**os.environ, "OWNERSHIP_FAST_READS": fast_reads, "OWNERSHIP_RATE_LIMIT": budget}
        env["OWNERSHIP_RATE_LIMIT_SUPPORT"] = budget
        server = subprocess.Popen(
            [sys.executable, "-m", "bench.serve", str(size), str(port), data],
            stdout=subprocess.PIPE,
            env=env,
            text=True,
        )
        plain = data.startswith("plain")
        try:
            token = wait_ready(server, port)
            rates: list[float | None] = []
            for label, document, variables in runs:
                if plain and label == "dashboard":
                    rates.append(None)
                    continue
                if document == NESTED_1000:
                    variables = {} if plain else _thousand_cursors(port, token)
                body = json.dumps({"query": document, "variables": variables})
                rates.append(http_load(port, token, body, seconds))
        finally:
            server.terminate()
            try:
                server.wait(20)
            except subprocess.TimeoutExpired:  # stuck in work that never yields
                server.kill()
                server.wait()
        baseline = baseline or rates
        cells = ""
        for rate, base in zip(rates, baseline, strict=True):
            if rate is None:
                cells += f" {'-':>19}"
            elif base is None:
                cells += f" {_rate(rate)} req/s {'':>6}"
            else:
                cells += f" {_rate(rate)} req/s {rate / base:5.2f}x"
        print(f"  {name:<50}{cells}", flush=True)


def _rate(rate: float) -> str:
    return f"{rate:7.0f}" if rate >= 10 else f"{rate:7.1f}"


def _thousand_cursors(port: int, token: str) -> dict[str, str | None]:
    """The ``after`` cursors of the 1,000-app query's ten pages, read through the API."""
    import httpx

    cursors: dict[str, str | None] = {"a0": None}
    query = "query ($after: String) { apps(first: 100, after: $after) { pageInfo { endCursor } } }"
    for index in range(1, 10):
        answer = httpx.post(
            f"http://127.0.0.1:{port}/graphql",
            json={"query": query, "variables": {"after": cursors[f"a{index - 1}"]}},
            headers={"Authorization": f"Bearer {token}"},
        ).json()
        cursors[f"a{index}"] = answer["data"]["apps"]["pageInfo"]["endCursor"]
    return cursors


def wait_ready(server: subprocess.Popen[str], port: int) -> str:
    import httpx

    assert server.stdout is not None
    line = server.stdout.readline()
    assert line.startswith("TOKEN "), line
    token = line.split()[1]
    for _ in range(200):
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return token
        except httpx.HTTPError:
            time.sleep(0.05)
    raise RuntimeError("server did not start")


def http_requests(port: int, token: str, body: str, seconds: float) -> tuple[int, float]:
    """POST ``body`` for ``seconds`` over 10 keep-alive connections (wrk, else httpx from
    bench.load): (requests answered, requests per second)."""
    url = f"http://127.0.0.1:{port}/graphql"
    if shutil.which("wrk"):
        script = f"/tmp/bench-http-{os.getpid()}.lua"
        with open(script, "w") as handle:
            handle.write(
                'wrk.method = "POST"\n'
                f"wrk.body = {json.dumps(body)}\n"
                'wrk.headers["Content-Type"] = "application/json"\n'
                f'wrk.headers["Authorization"] = "Bearer {token}"\n'
            )
        out = subprocess.run(
            ["wrk", "-t1", "-c10", f"-d{seconds:g}s", "--timeout", "120s", "-s", script, url],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        if "Non-2xx" in out:
            raise RuntimeError(out)
        count = re.search(r"(\d+) requests in", out)
        assert count is not None, out
        rate = next(line for line in out.splitlines() if "Requests/sec" in line).split()[-1]
        return int(count.group(1)), float(rate)
    out = subprocess.run(
        [sys.executable, "-m", "bench.load", url, token, body, str(seconds)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rate = float(out.strip())
    return round(rate * seconds), rate


def http_load(port: int, token: str, body: str, seconds: float) -> float:
    """Requests per second (:func:`http_requests`)."""
    return http_requests(port, token, body, seconds)[1]


async def main(args: argparse.Namespace) -> None:
    sizes = [int(size) for size in args.sizes.split(",")]
    client = AsyncMongoMockClient(tz_aware=True)
    db = client.get_database("bench")
    await ensure_indexes(db)
    support_id, _ = await seed(db, 100)
    viewer = await people_store.get_person(db, support_id)
    await in_memory(db, viewer, args.repeat)
    await end_to_end(sizes, args.repeat)
    print(f"\nplan cache: {fast.PLANS.hits} hits, {fast.PLANS.misses} misses")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--http-seconds", type=float, default=5)
    parser.add_argument("--http-size", type=int, default=1000)
    parser.add_argument("--only-http", action="store_true")
    parser.add_argument("--port", type=int, default=int(os.environ.get("BENCH_PORT", "8731")))
    parsed = parser.parse_args()
    if not parsed.only_http:
        asyncio.run(main(parsed))
    if parsed.http_seconds > 0:
        http(parsed.http_size, parsed.http_seconds, parsed.port)
        from bench.protection import overhead

        overhead(parsed.http_size, parsed.http_seconds, parsed.port)
