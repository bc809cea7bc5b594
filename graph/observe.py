"""Operations: the access log line and the Prometheus metrics of every HTTP request.

The access log is JSON lines, one object per request (:data:`KEYS`): ``requestId``,
``method``, ``path``, ``status``, ``durationMs``, ``operation``, ``cost``, ``tokenId`` (the
token's id, never its secret) and ``endedBy`` (``timeout`` / ``disconnect`` when cut short,
else null), on stderr (``OWNERSHIP_ACCESS_LOG``: a file instead, or ``off``).

A request only appends its record (a dictionary, the log line's object) to a
:class:`Recorder`; the metrics and the log lines are made from a batch of them at most
``FLUSH_SECONDS`` later, by C-level iteration (``map``, ``Counter``, one orjson call).
Doing it per request in Python (a dictionary and a histogram update, a LogRecord and the
``logging`` handler chain, a write and a flush) cost more CPU than everything else
protection does (docs/protection.md, "What protection costs"). Metric families are made by
prometheus-client when scraped (:func:`prometheus_endpoint`, ``GET /prometheus``, not the
nodes' ``POST /metrics``): no ``.labels()`` lookup nor lock on the request path.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import weakref
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterator
from functools import partial
from itertools import compress, repeat
from math import fsum
from operator import and_, eq, is_not, itemgetter
from typing import Any

import orjson
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response

log = logging.getLogger(__name__)

_PATHS = frozenset({"/graphql", "/metrics", "/healthz", "/readyz", "/prometheus", "/"})

DURATION_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
COST_BUCKETS = (1, 10, 100, 1_000, 10_000, 100_000, 1_000_000)

FLUSH_SECONDS = 0.2
STDERR = "-"


class _Histogram:
    __slots__ = ("bounds", "counts", "total")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)  # the last one: above every bound (+Inf)
        self.total = 0.0

    def buckets(self) -> list[tuple[str, float]]:
        cumulative, out = 0, []
        for bound, count in zip((*self.bounds, float("inf")), self.counts, strict=True):
            cumulative += count
            out.append(("+Inf" if bound == float("inf") else str(bound), cumulative))
        return out


class _Stats:
    """The process's counts (from the recorders' batches); turned into Prometheus metric
    families by prometheus-client when scraped (:class:`_Collector`)."""

    def __init__(self) -> None:
        self.requests: dict[tuple[str, str, int], int] = {}
        self.durations: dict[str, _Histogram] = {}
        self.cost = _Histogram(COST_BUCKETS)
        self.rate_limited = 0
        self.ended: dict[str, int] = {}


STATS = _Stats()


class _Collector(Collector):
    def collect(self) -> Iterator[Metric]:
        flush_all()
        requests = CounterMetricFamily(
            "ownership_http_requests", "HTTP requests answered", labels=["path", "method", "status"]
        )
        for (path, method, status), count in list(STATS.requests.items()):
            requests.add_metric([path, method, str(status)], count)
        yield requests
        durations = HistogramMetricFamily(
            "ownership_http_request_duration_seconds",
            "Time from the request's arrival to its last byte",
            labels=["path"],
        )
        for path, histogram in list(STATS.durations.items()):
            durations.add_metric([path], histogram.buckets(), histogram.total)
        yield durations
        cost = HistogramMetricFamily(
            "ownership_query_cost", "Cost points of admitted or refused GraphQL operations"
        )
        cost.add_metric([], STATS.cost.buckets(), STATS.cost.total)
        yield cost
        yield CounterMetricFamily(
            "ownership_rate_limited",
            "Requests refused by a token's rate limit (429)",
            value=STATS.rate_limited,
        )
        ended = CounterMetricFamily(
            "ownership_requests_ended",
            "Requests stopped before their answer: deadline (timeout) or client gone (disconnect)",
            labels=["reason"],
        )
        for reason, count in list(STATS.ended.items()):
            ended.add_metric([reason], count)
        yield ended


# One request's record: the access log line's object, with these keys in this order
KEYS = (
    "requestId",
    "method",
    "path",
    "status",
    "durationMs",
    "operation",
    "cost",
    "tokenId",
    "endedBy",
)
Record = dict[str, Any]

_PATH_NAMES = {path: path for path in _PATHS}
_DURATION_MS = tuple(bound * 1000 for bound in DURATION_BUCKETS)
_RECORDERS: weakref.WeakSet[Recorder] = weakref.WeakSet()


class Recorder:
    """What every HTTP request leaves: one :data:`Record` (the request path only appends
    it), turned into metrics and access log lines in batches, within
    ``FLUSH_SECONDS``, by C-level iteration (``map``, ``Counter``, orjson), as nginx's
    buffered ``access_log`` and Envoy's file logger write theirs.

    ``destination``: ``"-"`` (stderr), a file path (appended to), or None (no access log;
    the metrics are counted all the same). A scrape of ``/prometheus`` counts what waits
    first; the app's shutdown writes what waits."""

    def __init__(self, destination: str | None = STDERR) -> None:
        self.destination = destination
        self.pending: list[Record] = []
        self.timer: asyncio.TimerHandle | None = None
        self.loop: asyncio.AbstractEventLoop | None = None  # the timer's
        self._failed = False
        _RECORDERS.add(self)

    def add(self, record: Record) -> None:
        self.pending.append(record)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no event loop (a synchronous caller): at once
            self.flush()
            return
        if self.timer is None or self.loop is not loop:
            self.arm()

    def arm(self) -> None:
        """Flush within ``FLUSH_SECONDS``: no timer is pending in this loop (one pending in a
        loop that was closed never fires)."""
        if self.timer is not None:
            self.timer.cancel()
        self.loop = asyncio.get_running_loop()
        self.timer = self.loop.call_later(FLUSH_SECONDS, self.flush)

    def flush(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        batch, self.pending = self.pending, []
        if not batch:
            return
        _count(batch)
        if self.destination is not None:
            self._write(_lines(batch))

    def _write(self, data: bytes) -> None:
        try:
            if self.destination == STDERR:
                stream = sys.stderr
                stream.write(data.decode())
                stream.flush()
            else:  # opened per batch: a rotated file (logrotate) is followed at once
                with open(self.destination, "ab") as file:
                    file.write(data)
            self._failed = False
        except (OSError, ValueError) as error:  # full disk, closed stream
            if not self._failed:
                log.warning("the access log could not be written: %s", error)
            self._failed = True

    def close(self) -> None:
        self.flush()


# where one record's object ends and the next begins in the batch's JSON array: inside a
# string orjson escapes every quote, so only a boundary can hold this
_BETWEEN = b'},{"' + KEYS[0].encode() + b'":'
_NEWLINE = b'}\n{"' + KEYS[0].encode() + b'":'


def _lines(batch: list[Record]) -> bytes:
    """The batch's access log lines: one orjson call for the whole batch, a JSON array of
    the records, cut into lines at the objects' boundaries. A call per line costs about
    1.5 us more a line than the line itself (orjson's per-call setup, measured here)."""
    return orjson.dumps(batch)[1:-1].replace(_BETWEEN, _NEWLINE) + b"\n"


_PATH = itemgetter("path")
_METHOD = itemgetter("method")
_STATUS = itemgetter("status")
_DURATION = itemgetter("durationMs")
_COST = itemgetter("cost")
_ENDED = itemgetter("endedBy")


def _count(batch: list[Record]) -> None:
    """Add a batch of records to the metrics; per record, only C code runs."""
    stats = STATS
    paths = list(map(_PATH_NAMES.get, map(_PATH, batch), repeat("other")))
    methods = list(map(_METHOD, batch))
    statuses = list(map(_STATUS, batch))
    durations = list(map(_DURATION, batch))
    size = len(batch)
    if paths.count(paths[0]) == size and methods.count(methods[0]) == size:
        # the usual batch, one path and one method: counts of plain values, no tuple a record
        _add(paths[0], methods[0], Counter(statuses), Counter(durations), fsum(durations))
    else:
        for path, method in set(zip(paths, methods, strict=True)):
            chosen = list(map(and_, map(eq, paths, repeat(path)), map(eq, methods, repeat(method))))
            own = list(compress(durations, chosen))
            _add(path, method, Counter(compress(statuses, chosen)), Counter(own), fsum(own))
    costs = list(filter(partial(is_not, None), map(_COST, batch)))
    if costs:
        for index, count in Counter(map(bisect_left, repeat(COST_BUCKETS), costs)).items():
            stats.cost.counts[index] += count
        stats.cost.total += sum(costs)
    for reason, count in Counter(filter(None, map(_ENDED, batch))).items():
        stats.ended[reason] = stats.ended.get(reason, 0) + count


def _add(
    path: str, method: str, statuses: Counter[int], durations: Counter[float], total: float
) -> None:
    """One path and method's requests: their count by status, their durations (ms)."""
    stats = STATS
    for status, count in statuses.items():
        key = (path, method, status)
        stats.requests[key] = stats.requests.get(key, 0) + count
        if status == 429:
            stats.rate_limited += count
    histogram = stats.durations.get(path)
    if histogram is None:
        histogram = stats.durations[path] = _Histogram(DURATION_BUCKETS)
    counts = histogram.counts
    for duration, count in durations.items():  # few values: milliseconds to 2 decimals
        counts[bisect_left(_DURATION_MS, duration)] += count
    histogram.total += total / 1000


def flush_all() -> None:
    """Count (and log) what every recorder of this process holds: before a scrape."""
    for recorder in list(_RECORDERS):
        recorder.flush()


REGISTRY.register(_Collector())


async def prometheus_endpoint(request: Request) -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
