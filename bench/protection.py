"""What protection costs on the fast path over HTTP, and how fast the abusive query is refused
(issue 13). Part of ``make bench-reads``; ``python -m bench.protection`` runs it alone.

The same server (bench/serve.py, records in memory, the fast front) runs without protection
(``OWNERSHIP_PROTECTION=0``, for this comparison only) and with it (the Guard: request id,
body limit, deadline, disconnect watch, Prometheus metrics; the cost plan, the cost limit and
the rate limit, with budgets large enough never to refuse), once with the access log written
(to /dev/null) and once with it off; alternately, twice each.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.queries import NESTED_100, TINY

ABUSIVE = (
    "{ apps(first:100){nodes{teamMembers{technicalContactOf(first:100){nodes{teamMembers"
    "{technicalContactOf(first:100){totalCount}}}}}}}}"
)
HUGE = str(10**15)
TARGETS = {"tiny": 0.10, "nested 100": 0.05}


# (label, OWNERSHIP_PROTECTION, access log file or None)
CONFIGS = [
    ("without protection", "0", None),
    ("with protection, access log written", "1", os.devnull),
    ("with protection, access log off", "1", None),
]


def _server(size: int, port: int, protection: str, log: str | None) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "OWNERSHIP_FAST_READS": "1",
        "OWNERSHIP_PROTECTION": protection,
        "OWNERSHIP_RATE_LIMIT": HUGE,
        "OWNERSHIP_RATE_LIMIT_SUPPORT": HUGE,
    }
    env.pop("BENCH_ACCESS_LOG", None)
    if log is not None:
        env["BENCH_ACCESS_LOG"] = log
    return subprocess.Popen(
        [sys.executable, "-m", "bench.serve", str(size), str(port), "memory"],
        stdout=subprocess.PIPE,
        env=env,
        text=True,
    )


def refusal_times(port: int, token: str, count: int = 50) -> list[float]:
    """Milliseconds to refuse the abusive query (issue 13), one keep-alive client."""
    import httpx

    url = f"http://127.0.0.1:{port}/graphql"
    times = []
    with httpx.Client(headers={"Authorization": f"Bearer {token}"}) as client:
        for _ in range(count):
            start = time.perf_counter()
            answer = client.post(url, json={"query": ABUSIVE})
            times.append((time.perf_counter() - start) * 1000)
            assert answer.json()["errors"][0]["extensions"]["code"] == "MAX_COST_EXCEEDED"
    return times


def _cpu_seconds(pid: int) -> float:
    """The process's CPU time (user + system) from /proc: what serving cost it, whatever
    else the shared machine runs meanwhile."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def overhead(size: int, seconds: float, port: int) -> None:
    from bench.reads import http_load, wait_ready

    runs = [("tiny", TINY, {}), ("nested 100", NESTED_100, {"first": 100})]
    rates: dict[tuple[str, str], float] = {}
    cpu: dict[tuple[str, str], list[float]] = {}  # server CPU seconds, requests
    refusals: list[float] = []
    for label, protection, log in CONFIGS * 2:  # alternately, twice each
        server = _server(size, port, protection, log)
        try:
            token = wait_ready(server, port)
            for query, document, variables in runs:
                body = json.dumps({"query": document, "variables": variables})
                before = _cpu_seconds(server.pid)
                rate = http_load(port, token, body, seconds)
                spent = cpu.setdefault((query, label), [0.0, 0.0])
                spent[0] += _cpu_seconds(server.pid) - before
                spent[1] += rate * seconds
                rates[query, label] = rates.get((query, label), 0) + rate
            if log is not None:
                refusals += refusal_times(port, token)
        finally:
            server.terminate()
            try:
                server.wait(20)
            except subprocess.TimeoutExpired:  # stuck in work that never yields
                server.kill()
                server.wait()
    print(
        f"\nprotection over HTTP (fast front, records in memory, {size:,} apps; two alternating"
        " runs each; req/s, and the server's CPU time per request, which the other processes"
        " on a shared machine disturb less; overhead = with / without - 1 of the CPU time):"
    )
    base = CONFIGS[0][0]
    for query, _document, _variables in runs:
        per = {label: cpu[query, label][0] / cpu[query, label][1] for label, _p, _l in CONFIGS}
        print(f"  {query} (target <= {TARGETS[query] * 100:.0f} %):")
        for label, _protection, _log in CONFIGS:
            cells = f"    {label:<38} {rates[query, label] / 2:7.0f} req/s"
            cells += f" {per[label] * 1e6:9.0f} us CPU/request"
            if label != base:
                extra = per[label] / per[base] - 1
                verdict = "ok" if extra <= TARGETS[query] else "OVER"
                cells += f"  overhead {extra * 100:5.1f} % ({verdict})"
            print(cells)
    refusals.sort()
    p95 = refusals[int(len(refusals) * 0.95) - 1]
    print(
        f"  refusing the abusive query (MAX_COST_EXCEEDED, cost 2,102,101): median"
        f" {statistics.median(refusals):.1f} ms, p95 {p95:.1f} ms, max {refusals[-1]:.1f} ms"
        " (target < 50 ms)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=3)
    parser.add_argument("--port", type=int, default=int(os.environ.get("BENCH_PORT", "8731")))
    args = parser.parse_args()
    overhead(args.size, args.seconds, args.port)
