"""What the embedded journal costs: mutations over HTTP with the journal on and off.

``python -m bench.mutations [--seconds 5] [--clients 10]`` (or ``make bench-mutations``) runs,
for each variant, a real ``ownership serve`` on a free loopback port with the demo data in a
temporary data file, then ``--clients`` concurrent clients that each toggle one person's
status (``setPersonStatus``: a conditional update plus an audit record) as fast as answers
come, for ``--seconds``. It prints each variant's median and 95th percentile latency,
mutations per second and, with the journal, how many fsyncs carried them (group commit).

The variant without the journal (``OWNERSHIP_JOURNAL=0``) is the old snapshot-only mode: a
crash loses up to a second of acknowledged writes. It exists for this comparison only.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from ownership.demo import SUPPORT_EMAIL
from store.journal import segments

ROOT = Path(__file__).resolve().parent.parent
PEOPLE = "{ people(first: 50) { nodes { id email } } }"
TOGGLE = """
mutation ($id: ID!, $status: PersonStatus!) {
  setPersonStatus(input: {personId: $id, status: $status}) {
    person { status }
    userErrors { code }
  }
}
"""


def _env(data_file: Path, journal: bool, port: int = 0) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "MONGODB_URI"}
    return env | {
        "OWNERSHIP_DATA_FILE": str(data_file),
        "OWNERSHIP_JOURNAL": "1" if journal else "0",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "PYTHONPATH": str(ROOT),
    }


def _cli(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "ownership", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return result.stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=2) as client:
        for _ in range(1200):
            if process.poll() is not None:
                raise SystemExit("the server exited before it was ready")
            try:
                if (await client.get("/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit("the server did not start within two minutes")


async def _load(
    url: str, token: str, clients: int, seconds: float, data_file: Path
) -> tuple[list[float], float, int]:
    """The measured latencies, the wall time and the fsyncs, after a warm-up second."""
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as http:
        found = (await http.post("/graphql", json={"query": PEOPLE})).json()
        people = [p["id"] for p in found["data"]["people"]["nodes"] if p["email"] != SUPPORT_EMAIL]
        if len(people) < clients:
            raise SystemExit(f"the demo has {len(people)} people besides Support; use fewer")
        latencies: list[float] = []

        async def client(person: str, measure: bool, deadline: float, limit: int) -> None:
            status = "INACTIVE"
            for _ in range(limit):
                if time.perf_counter() >= deadline:
                    return
                started = time.perf_counter()
                body = {"query": TOGGLE, "variables": {"id": person, "status": status}}
                response = await http.post("/graphql", json=body)
                payload = response.json()["data"]["setPersonStatus"]
                if payload["userErrors"]:
                    raise SystemExit(f"refused: {payload['userErrors']}")
                if measure:
                    latencies.append(time.perf_counter() - started)
                status = "ACTIVE" if status == "INACTIVE" else "INACTIVE"

        warmup = time.perf_counter() + 1
        await asyncio.gather(*(client(p, False, warmup, 50) for p in people[:clients]))
        before = _journal_lines(data_file)
        deadline = time.perf_counter() + seconds
        started = time.perf_counter()
        await asyncio.gather(*(client(p, True, deadline, 100_000) for p in people[:clients]))
        wall = time.perf_counter() - started
        return latencies, wall, _journal_lines(data_file) - before


def _variant(journal: bool, clients: int, seconds: float) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="bench-mutations-") as folder:
        data_file = Path(folder) / "embedded.json"
        setup = _env(data_file, journal)
        _cli(setup, "demo")
        token = _cli(setup, "token", "create", "--email", SUPPORT_EMAIL).strip().splitlines()[-1]
        port = _free_port()
        log = open(Path(folder) / "server.log", "wb")  # noqa: SIM115 (closed below)
        process = subprocess.Popen(
            [sys.executable, "-m", "ownership", "serve"],
            env=_env(data_file, journal, port),
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            asyncio.run(_wait_ready(url, process))
            latencies, wall, fsyncs = asyncio.run(_load(url, token, clients, seconds, data_file))
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=120)
            log.close()
    ordered = sorted(latencies)
    return {
        "count": len(latencies),
        "median_ms": statistics.median(ordered) * 1000,
        "p95_ms": ordered[int(len(ordered) * 0.95)] * 1000,
        "per_second": len(latencies) / wall,
        "fsyncs": fsyncs,
    }


def _journal_lines(data_file: Path) -> int:
    return sum(path.read_bytes().count(b"\n") for _, path in segments(data_file))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per variant (default 5)")
    parser.add_argument("--clients", type=int, default=10, help="concurrent clients (10)")
    args = parser.parse_args()
    print(f"setPersonStatus over HTTP, {args.clients} concurrent clients, {args.seconds:g} s each")
    print(
        f"{'variant':<34}{'mutations':>10}{'median ms':>11}{'p95 ms':>9}{'per s':>9}{'fsyncs':>8}"
    )
    for label, journal in (("journal on (default)", True), ("journal off (unsafe, bench)", False)):
        row = _variant(journal, args.clients, args.seconds)
        fsyncs = f"{row['fsyncs']:>8.0f}" if journal else f"{'-':>8}"
        print(
            f"{label:<34}{row['count']:>10.0f}{row['median_ms']:>11.1f}{row['p95_ms']:>9.1f}"
            f"{row['per_second']:>9.0f}{fsyncs}",
            flush=True,
        )


if __name__ == "__main__":
    main()
