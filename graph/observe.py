"""Operations: the access log line and the Prometheus metrics of every HTTP request.

The access log (logger ``ownership.access``, INFO) is one JSON object per request:
``requestId``, ``method``, ``path``, ``status``, ``durationMs``, ``operation``, ``cost``,
``tokenId`` (the token's id, never its secret) and ``endedBy`` (``timeout`` / ``disconnect``).
Metrics are served by :func:`prometheus_endpoint` (``GET /prometheus``, not the nodes'
``POST /metrics``).
"""

from __future__ import annotations

import logging
from bisect import bisect_left
from collections.abc import Iterator
from typing import Any

import orjson
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response

access_log = logging.getLogger("ownership.access")

_PATHS = frozenset({"/graphql", "/metrics", "/healthz", "/readyz", "/prometheus", "/"})

DURATION_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
COST_BUCKETS = (1, 10, 100, 1_000, 10_000, 100_000, 1_000_000)


class _Histogram:
    __slots__ = ("bounds", "counts", "total")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)  # the last one: above every bound (+Inf)
        self.total = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self.bounds, value)] += 1
        self.total += value

    def buckets(self) -> list[tuple[str, float]]:
        cumulative, out = 0, []
        for bound, count in zip((*self.bounds, float("inf")), self.counts, strict=True):
            cumulative += count
            out.append(("+Inf" if bound == float("inf") else str(bound), cumulative))
        return out


class _Stats:
    """Counted in plain Python per request (a few dictionary and list updates); turned into
    Prometheus metric families by prometheus-client when scraped (:class:`_Collector`)."""

    def __init__(self) -> None:
        self.requests: dict[tuple[str, str, str], int] = {}
        self.durations: dict[str, _Histogram] = {}
        self.cost = _Histogram(COST_BUCKETS)
        self.rate_limited = 0
        self.ended: dict[str, int] = {}


STATS = _Stats()


class _Collector(Collector):
    def collect(self) -> Iterator[Metric]:
        requests = CounterMetricFamily(
            "ownership_http_requests", "HTTP requests answered", labels=["path", "method", "status"]
        )
        for labels, count in list(STATS.requests.items()):
            requests.add_metric(list(labels), count)
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


REGISTRY.register(_Collector())


def observe(scope: Any, info: Any, seconds: float) -> None:
    path = scope["path"] if scope["path"] in _PATHS else "other"
    status = info.status
    key = (path, scope["method"], str(status))
    STATS.requests[key] = STATS.requests.get(key, 0) + 1
    histogram = STATS.durations.get(path)
    if histogram is None:
        histogram = STATS.durations[path] = _Histogram(DURATION_BUCKETS)
    histogram.observe(seconds)
    if info.cost is not None:
        STATS.cost.observe(info.cost)
    if status == 429:
        STATS.rate_limited += 1
    if info.ended_by is not None:
        STATS.ended[info.ended_by] = STATS.ended.get(info.ended_by, 0) + 1
    if access_log.isEnabledFor(logging.INFO):
        line = {
            "requestId": info.request_id,
            "method": scope["method"],
            "path": scope["path"],
            "status": status,
            "durationMs": round(seconds * 1000, 2),
            "operation": info.operation,
            "cost": info.cost,
            "tokenId": info.token_id,
        }
        if info.ended_by is not None:
            line["endedBy"] = info.ended_by
        # a record made directly: logging's findCaller (a stack walk) is of no use here
        message = orjson.dumps(line).decode()
        access_log.handle(
            access_log.makeRecord(access_log.name, logging.INFO, __file__, 0, message, None, None)
        )


async def prometheus_endpoint(request: Request) -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
