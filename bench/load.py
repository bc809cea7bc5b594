"""Fallback load generator (when wrk is not installed): httpx async, 10 connections.

``python -m bench.load URL TOKEN BODY SECONDS`` prints requests per second.
"""

from __future__ import annotations

import asyncio
import sys
import time

import httpx


async def run(url: str, token: str, body: str, seconds: float) -> float:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    limits = httpx.Limits(max_connections=10, max_keepalive_connections=10)
    done = 0
    async with httpx.AsyncClient(limits=limits, headers=headers, timeout=120) as client:
        end = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal done
            while time.perf_counter() < end:
                response = await client.post(url, content=body)
                response.raise_for_status()
                done += 1

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(10)))
        return done / (time.perf_counter() - start)


if __name__ == "__main__":
    url, token, body, seconds = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    print(f"{asyncio.run(run(url, token, body, seconds)):.1f}")
