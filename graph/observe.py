"""Operations: the access log line and the Prometheus metrics of every HTTP request.

The access log (logger ``ownership.access``, INFO) is one JSON object per request:
``requestId``, ``method``, ``path``, ``status``, ``durationMs``, ``operation``, ``cost``,
``tokenId`` (the token's id, never its secret) and ``endedBy`` (``timeout`` / ``disconnect``).
Metrics are served by :func:`prometheus_endpoint` (``GET /prometheus``, not the nodes'
``POST /metrics``).
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response

access_log = logging.getLogger("ownership.access")

_PATHS = frozenset({"/graphql", "/metrics", "/healthz", "/readyz", "/prometheus", "/"})

REQUESTS = Counter(
    "ownership_http_requests_total", "HTTP requests answered", ["path", "method", "status"]
)
DURATION = Histogram(
    "ownership_http_request_duration_seconds",
    "Time from the request's arrival to its last byte",
    ["path"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
COST = Histogram(
    "ownership_query_cost",
    "Cost points of admitted or refused GraphQL operations",
    buckets=(1, 10, 100, 1_000, 10_000, 100_000, 1_000_000),
)
RATE_LIMITED = Counter(
    "ownership_rate_limited_total", "Requests refused by a token's rate limit (429)"
)
ENDED = Counter(
    "ownership_requests_ended_total",
    "Requests stopped before their answer: deadline (timeout) or client gone (disconnect)",
    ["reason"],
)


_children: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def _series(path: str, method: str, status: int) -> tuple[Any, Any]:
    """The request counter and duration histogram of a (path, method, status), looked up
    once (prometheus_client's ``labels`` takes a lock and builds a key on every call)."""
    key = (path, method, status)
    found = _children.get(key)
    if found is None:
        found = _children[key] = (REQUESTS.labels(path, method, str(status)), DURATION.labels(path))
    return found


def observe(scope: Any, info: Any, seconds: float) -> None:
    path = scope["path"] if scope["path"] in _PATHS else "other"
    status = info.status
    requests, duration = _series(path, scope["method"], status)
    requests.inc()
    duration.observe(seconds)
    if info.cost is not None:
        COST.observe(info.cost)
    if status == 429:
        RATE_LIMITED.inc()
    if info.ended_by is not None:
        ENDED.labels(info.ended_by).inc()
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
        access_log.info(orjson.dumps(line).decode())


async def prometheus_endpoint(request: Request) -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
