"""Issue 15's targets in one run (``make bench``): the dashboard's reports at 1,000 / 10,000 /
100,000 apps on the embedded default and on the wire tier (bench/tiers.py), then sign-in to a
drawn dashboard in Chromium (bench/browser.py).

Each report is a GraphQL document executed in process as the API answers it
(bench/dashboard.py), for Mendix Support and for a viewer on exactly 50 teams, plus the
page's whole sign-in (``Viewer``, then ``Overview`` + ``TopContacts``). Printed per tier: the
best of ``--repeat`` runs (one run for a job over a second) at each size, its ratio to the
time at the first size, and each target at the largest size, met or MISSED:

- every report for Support: at most 1.5x its time at the first size;
- the page's sign-in documents for Support: at most 100 ms;
- a viewer with 50 apps: at most 2x their time at the first size;
- in Chromium, at the browser's size: sign-in to a drawn dashboard within 1.5 s.

Baselines in the same run for scale (no target): ``count`` (count_documents({})) and
``scan`` (read every app's _id).

    python -m bench.reports [--sizes 1000,10000,100000] [--tiers embedded,wire] [--repeat 3]
                            [--budget 20] [--wire-sizes ...] [--browser-apps N | --no-browser]

A job slower than ``--budget`` seconds at one size is not run at the larger ones (printed
``-`` and "not run"). Without MONGODB_URI the wire tier is the tests' server, a pure-Python
engine: it runs the sizes up to 10,000 unless ``--wire-sizes`` names more (see _sizes).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from dataclasses import dataclass, field

from pymongo.errors import PyMongoError

from bench import browser
from bench.dashboard import PAGE, VIEWER_APPS, Job, jobs, viewers
from bench.tiers import TIERS, describe, seeded
from store import apps as app_store
from store.db import Database, aggregate

SUPPORT, VIEWER = "Support", f"{VIEWER_APPS}-app viewer"
PAGE_BUDGET = 0.1  # seconds: the page's documents for Support at the largest size
SUPPORT_RATIO, VIEWER_RATIO = 1.5, 2.0
WIRE_SERVER_MAX = 10_000


@dataclass
class Verdicts:
    """Every target's line, for the closing summary."""

    lines: list[str] = field(default_factory=list)

    def add(self, met: bool, text: str) -> str:
        line = f"{'met   ' if met else 'MISSED'}  {text}"
        self.lines.append(line)
        return line


async def _best(job: Job, repeat: int) -> float:
    """The best of ``repeat`` runs; a job slower than a second runs once. The first run pays
    one-time costs (compiled documents, the embedded engine's load index); the best leaves
    those and garbage-collection pauses out."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        await job()
        times.append(time.perf_counter() - start)
        if times[-1] > 1.0:
            break
    return min(times)


def _baselines(db: Database) -> dict[str, Job]:
    apps = db[app_store.COLLECTION]

    async def scan() -> None:  # read every app, through the same helper as the reports
        await aggregate(apps, [{"$project": {"_id": 1}}])

    return {"baseline: count": lambda: apps.count_documents({}), "baseline: scan": scan}


async def _measure(
    tier: str, size: int, repeat: int, skip: dict[str, str]
) -> dict[str, float | None]:
    """Every job at ``size``; those in ``skip`` (name -> why) are not run (None)."""
    results: dict[str, float | None] = {}
    async with seeded(tier, size) as store:
        support, viewer = await viewers(store.db)
        every = dict(_baselines(store.db))
        for who, person in ((SUPPORT, support), (VIEWER, viewer)):
            every |= {f"{name} ({who})": job for name, job in jobs(store.db, person).items()}
        for name, job in every.items():
            if name in skip:
                results[name] = None
                print(f"    {name}: not run ({skip[name]})", flush=True)
                continue
            try:
                results[name] = await _best(job, repeat)
            except PyMongoError as refused:  # the engine gave up (e.g. mongoeco's memory budget)
                results[name] = None
                skip[name] = f"the engine refused it at {size:,}"
                print(f"    {name}: failed: {refused}", flush=True)
                continue
            print(f"    {name}: {results[name] * 1000:.1f} ms", flush=True)
    return results


def _target(name: str, ms: float, ratio: float | None) -> tuple[str, bool] | None:
    """(the target, met) of a line at the largest size; None for baselines."""
    if name == f"{PAGE} ({SUPPORT})":
        return f"<= {PAGE_BUDGET * 1000:.0f} ms", ms <= PAGE_BUDGET * 1000
    if ratio is None or name.startswith("baseline"):
        return None
    if name.endswith(f"({SUPPORT})"):
        return f"<= {SUPPORT_RATIO}x", ratio <= SUPPORT_RATIO
    return f"<= {VIEWER_RATIO:g}x", ratio <= VIEWER_RATIO


def _cell(value: float | None, digits: int, width: int) -> str:
    return f"{'-':>{width}}" if value is None else f"{value:>{width}.{digits}f}"


def report(tier: str, table: dict[int, dict[str, float | None]], verdicts: Verdicts) -> None:
    sizes = sorted(table)
    first, last = sizes[0], sizes[-1]
    print(f"\n== {describe(tier)}: best time in ms; x@N = ratio to the {first:,}-app time")
    width = max(len(name) for name in table[first]) + 2
    head = f"{'':{width}}" + "".join(f"{size:>11,}" for size in sizes)
    head += "".join(f"{'x@' + f'{s // 1000}k':>8}" for s in sizes[1:]) + "   target"
    print(head)
    for name in table[first]:
        seconds = {size: table[size][name] for size in sizes}
        ms = {size: None if value is None else value * 1000 for size, value in seconds.items()}
        base = ms[first]
        ratios = [
            None if ms[size] is None or base is None else ms[size] / base for size in sizes[1:]
        ]
        row = f"{name:{width}}" + "".join(_cell(ms[size], 1, 11) for size in sizes)
        row += "".join(_cell(ratio, 1, 8) for ratio in ratios)
        if ms[last] is None:
            if not name.startswith("baseline"):
                verdicts.lines.append(
                    f"NOT RUN {tier} at {last:,}: {name} (over --budget, or the engine refused it)"
                )
                row += "   not run (over --budget at a smaller size, or failed: see above)"
            print(row)
            continue
        target = _target(name, ms[last], ratios[-1] if ratios else None)
        if target is not None:
            goal, met = target
            measured = f"{ms[last]:,.0f} ms" if goal.endswith("ms") else f"x{ratios[-1]:.1f}"
            verdicts.add(met, f"{tier} at {last:,}: {name}: {measured} ({goal})")
            row += f"   {goal:9} {'met' if met else 'MISSED'}"
        print(row)


async def run(
    sizes: list[int], tiers: list[str], repeat: int, budget: float, verdicts: Verdicts
) -> None:
    for tier in tiers:
        print(f"{describe(tier)}:", flush=True)
        table: dict[int, dict[str, float | None]] = {}
        skip: dict[str, str] = {}
        for size in sizes:
            table[size] = await _measure(tier, size, repeat, skip)
            for name, seconds in table[size].items():
                if seconds is not None and seconds > budget:
                    skip[name] = (
                        f"took {seconds:,.1f} s at {size:,} apps, over --budget {budget:g} s"
                    )
        report(tier, table, verdicts)


def _sizes(tier: str, sizes: list[int], wire_sizes: str | None) -> list[int]:
    """The tests' wire server (no MONGODB_URI) takes 154 s to load 10,000 apps (100,000: about
    25 minutes) and minutes per report at 10,000 (a pure-Python engine, ``$in`` by scanning
    its list): it runs the sizes up to 10,000 unless ``--wire-sizes`` names more."""
    if tier != "wire":
        return sizes
    if wire_sizes:
        return sorted(int(size) for size in wire_sizes.split(","))
    if os.environ.get("MONGODB_URI"):
        return sizes
    kept = [size for size in sizes if size <= WIRE_SERVER_MAX] or sizes[:1]
    if kept != sizes:
        print(
            f"wire: the tests' server runs {', '.join(f'{s:,}' for s in kept)} apps"
            " (--wire-sizes for more; MONGODB_URI for a real MongoDB)",
            flush=True,
        )
    return kept


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--tiers", default=",".join(TIERS), help="embedded,wire or one of them")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--budget",
        type=float,
        default=20.0,
        help="seconds: a job slower than this is not run at the larger sizes",
    )
    parser.add_argument(
        "--wire-sizes",
        help="sizes on the wire tier (default: --sizes with MONGODB_URI, else those <= 10,000)",
    )
    parser.add_argument("--browser-apps", type=int, help="apps for the Chromium sign-in")
    parser.add_argument("--browser-runs", type=int, default=3, help="sign-ins in Chromium")
    parser.add_argument("--no-browser", action="store_true", help="skip the Chromium sign-in")
    args = parser.parse_args(argv)
    sizes = sorted(int(size) for size in args.sizes.split(","))
    tiers = [tier for tier in args.tiers.split(",") if tier]
    unknown = set(tiers) - set(TIERS)
    if unknown:
        parser.error(f"unknown tiers: {', '.join(sorted(unknown))} (choose from {TIERS})")
    verdicts = Verdicts()
    started = time.perf_counter()
    browser_due = not args.no_browser
    for tier in tiers:
        asyncio.run(
            run(_sizes(tier, sizes, args.wire_sizes), [tier], args.repeat, args.budget, verdicts)
        )
        if browser_due and tier == "embedded":  # the browser's server is the embedded default
            browser_due = False
            browser.measure(args.browser_apps or sizes[-1], verdicts, args.browser_runs)
    if browser_due:
        browser.measure(args.browser_apps or sizes[-1], verdicts, args.browser_runs)
    print(f"\n== targets ({time.perf_counter() - started:.0f} s in all)")
    for line in verdicts.lines:
        print(f"  {line}")
    if not verdicts.lines:
        print("  none judged: give at least two --sizes")


if __name__ == "__main__":
    main()
