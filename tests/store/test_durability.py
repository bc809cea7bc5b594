"""The embedded default keeps every acknowledged write across kill -9, and owns its data file.

Each test runs a real ``ownership serve`` in a subprocess on a free loopback port with its own
data file, sends mutations over HTTP and kills the server with SIGKILL the moment the last
answer arrives: no shutdown hook runs, so only what was on disk before the answer counts.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ownership.cli import main
from ownership.demo import SUPPORT_EMAIL
from store import people as people_store
from store.db import connect

ROOT = Path(__file__).resolve().parent.parent.parent

CREATE_PERSON = """
mutation ($email: String!, $name: String!) {
  createPerson(input: {email: $email, name: $name}) {
    person { id email }
    userErrors { code message }
  }
}
"""

PERSON = "query ($id: ID!) { node(id: $id) { ... on Person { email name } } }"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """``ownership serve`` in a subprocess (no MONGODB_URI: the embedded default)."""

    def __init__(self, data_file: Path, log: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {key: value for key, value in os.environ.items() if key != "MONGODB_URI"}
        env |= {
            "OWNERSHIP_DATA_FILE": str(data_file),
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "PYTHONPATH": str(ROOT),
        }
        self.log = log
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "ownership", "serve"],
                env=env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"the server exited early:\n{self.log.read_text()}")
            try:
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        pytest.fail(f"the server did not start:\n{self.log.read_text()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown, no final snapshot."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def data_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "embedded.json"
    monkeypatch.setenv("OWNERSHIP_DATA_FILE", str(path))
    monkeypatch.delenv("MONGODB_URI", raising=False)
    return path


@pytest.fixture
def token(data_file: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """Demo data and a Support token, written before any server starts."""
    assert main(["demo"]) == 0
    assert main(["token", "create", "--email", SUPPORT_EMAIL]) == 0
    return capsys.readouterr().out.strip().splitlines()[-1]


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[list[Server]]:
    started: list[Server] = []
    yield started
    for server in started:
        server.stop()


def _start(servers: list[Server], data_file: Path, tmp_path: Path) -> Server:
    server = Server(data_file, tmp_path / f"server-{len(servers)}.log")
    servers.append(server)
    return server


async def _create_people(url: str, token: str, emails: list[str]) -> list[dict[str, Any]]:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as client:

        async def create(email: str) -> dict[str, Any]:
            variables = {"email": email, "name": email.split("@")[0]}
            response = await client.post(
                "/graphql", json={"query": CREATE_PERSON, "variables": variables}
            )
            assert response.status_code == 200, response.text
            payload = response.json()["data"]["createPerson"]
            assert payload["userErrors"] == []
            return dict(payload["person"])

        return list(await asyncio.gather(*(create(email) for email in emails)))


async def _stored_emails(data_file: Path, emails: list[str]) -> list[str]:
    store = await connect(None, data_file=data_file)
    try:
        found = []
        for email in emails:
            if await people_store.get_person_by_email(store.db, email) is not None:
                found.append(email)
        return found
    finally:
        await store.close()


def test_a_write_acknowledged_just_before_kill_9_survives(
    data_file: Path, token: str, tmp_path: Path, servers: list[Server]
) -> None:
    server = _start(servers, data_file, tmp_path)
    server.wait_ready()
    [person] = asyncio.run(_create_people(server.url, token, ["right-before@example.com"]))
    server.kill()  # at once: the answer is in, nothing else may run

    again = _start(servers, data_file, tmp_path)
    again.wait_ready()
    response = httpx.post(
        again.url + "/graphql",
        json={"query": PERSON, "variables": {"id": person["id"]}},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert response.json()["data"] == {
        "node": {"email": "right-before@example.com", "name": "right-before"}
    }


def test_fifty_concurrent_acknowledged_writes_survive_kill_9(
    data_file: Path, token: str, tmp_path: Path, servers: list[Server]
) -> None:
    server = _start(servers, data_file, tmp_path)
    server.wait_ready()
    emails = [f"burst-{n}@example.com" for n in range(50)]
    people = asyncio.run(_create_people(server.url, token, emails))
    server.kill()

    assert len({person["id"] for person in people}) == 50
    assert asyncio.run(_stored_emails(data_file, emails)) == emails


def test_a_second_server_on_the_same_file_refuses_to_start(
    data_file: Path, token: str, tmp_path: Path, servers: list[Server]
) -> None:
    first = _start(servers, data_file, tmp_path)
    first.wait_ready()
    second = _start(servers, data_file, tmp_path)
    assert second.process.wait(timeout=120) == 1
    said = second.log.read_text()
    assert f"ownership serve: refused: {data_file} is in use by ownership serve (pid " in said
    assert "Traceback" not in said
    # the first one still serves, and what it is told is kept
    [person] = asyncio.run(_create_people(first.url, token, ["still-served@example.com"]))
    assert person["email"] == "still-served@example.com"
    first.kill()
    assert asyncio.run(_stored_emails(data_file, [person["email"]])) == [person["email"]]


def test_writing_commands_refuse_while_the_server_runs(
    data_file: Path, token: str, tmp_path: Path, servers: list[Server]
) -> None:
    server = _start(servers, data_file, tmp_path)
    server.wait_ready()
    env = {key: value for key, value in os.environ.items() if key != "MONGODB_URI"}
    result = subprocess.run(
        [sys.executable, "-m", "ownership", "token", "create", "--email", SUPPORT_EMAIL],
        env=env | {"OWNERSHIP_DATA_FILE": str(data_file), "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert result.stdout == ""  # no token printed that would never work
    assert "ownership token create: refused: " in result.stderr
    assert "in use by ownership serve" in result.stderr and "stop it" in result.stderr
    assert "Traceback" not in result.stderr
    server.stop()  # a clean stop: the command may run now
    assert main(["token", "create", "--email", SUPPORT_EMAIL]) == 0
