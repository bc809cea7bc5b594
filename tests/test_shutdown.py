"""``ownership serve`` stops on SIGINT/SIGTERM within its grace period, cancelling a request
still in flight (issue 13: SIGINT used to wait minutes for a runaway query)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

# the server process: `ownership serve` with every app listing hanging for a minute
SLOW_SERVER = """
import asyncio, sys
from store import apps

async def hang(*args, **kwargs):
    sys.stdout.write("IN FLIGHT\\n"); sys.stdout.flush()
    await asyncio.sleep(60)

apps.list_apps = hang
from ownership.cli import main
main(["serve"])
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_ends_the_server_and_its_requests_in_flight(tmp_path: Path, signum: int) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "OWNERSHIP_DATA_FILE": str(tmp_path / "data.json"),
        "PORT": str(port),
        "OWNERSHIP_SHUTDOWN_SECONDS": "1",
    }
    created = subprocess.run(
        [sys.executable, "-m", "ownership", "token", "create", "--email", "s@x.example",
         "--name", "S", "--support"],
        env=env, capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    token = created.stdout.strip().split()[-1]
    server = subprocess.Popen(
        [sys.executable, "-c", SLOW_SERVER], env=env, stdout=subprocess.PIPE, text=True
    )
    outcome: dict[str, Any] = {}

    def client() -> None:
        try:
            outcome["response"] = httpx.post(
                f"http://127.0.0.1:{port}/graphql",
                json={"query": "{ apps { totalCount } }"},
                headers={"Authorization": f"Bearer {token}"},
                timeout=120,
            )
        except httpx.HTTPError as error:
            outcome["error"] = error

    try:
        for _ in range(300):
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        thread = threading.Thread(target=client)
        thread.start()
        assert server.stdout is not None
        assert server.stdout.readline().strip() == "IN FLIGHT"
        server.send_signal(signum)
        # the hanging request would keep it 60 s; the grace period is 1 s. (uvicorn raises
        # the signal again once it has shut down cleanly: SIGTERM's status is -15)
        assert server.wait(timeout=30) in (0, -signum)
        thread.join(timeout=30)
        assert not thread.is_alive()
        assert "error" in outcome or outcome["response"].status_code >= 500
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        if server.stdout is not None:
            server.stdout.close()
