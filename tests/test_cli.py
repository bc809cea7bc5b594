"""The command line and the embedded default, as a new user runs them."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from bson import json_util

from graph.schema import schema
from ownership.cli import main
from store.db import connect
from store.records import now

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def data_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "embedded.json"
    monkeypatch.setenv("OWNERSHIP_DATA_FILE", str(path))
    monkeypatch.delenv("MONGODB_URI", raising=False)
    return path


def test_schema_export(tmp_path: Path) -> None:
    out = tmp_path / "schema.graphql"
    assert main(["schema", "--output", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == schema.as_str() + "\n"


def test_demo_and_tokens_persist_in_the_embedded_file(
    data_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo"]) == 0
    assert data_file.exists()
    assert main(["token", "create", "--email", "support@mendix.example"]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    assert token.startswith("mxo_")
    with pytest.raises(SystemExit, match="not empty"):
        main(["demo"])
    with pytest.raises(SystemExit, match="--name"):
        main(["token", "create", "--email", "nobody@example.com"])
    assert (
        main(["token", "create", "--email", "New@Example.com", "--name", "New", "--support"]) == 0
    )


async def test_embedded_data_survives_a_restart(tmp_path: Path) -> None:
    from ownership.demo import load_demo
    from store import apps as app_store
    from store.pagination import Window

    path = tmp_path / "data.json"
    store = await connect(None, data_file=path)
    await load_demo(store.db, apps=8)
    page = await app_store.list_apps(store.db, {}, Window(first=100))
    await store.close()
    again = await connect(None, data_file=path)
    try:
        reread = await app_store.list_apps(again.db, {}, Window(first=100))
        assert reread.items == page.items
        assert reread.total_count == 8
    finally:
        await again.close()
    leftovers = [name for name in os.listdir(tmp_path) if ".snapshot-" in name]
    assert leftovers == []  # no temporary files left behind


def test_module_entry_point_prints_help() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "ownership", "--help"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert "serve" in result.stdout and "token" in result.stdout


def test_notices_run_once_and_exactly_once_across_restarts(
    data_file: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`ownership notices run` in fresh processes' worth of state: the second run (a restart,
    reading the same embedded file) queues nothing new; without SMTP mail stays queued."""
    monkeypatch.delenv("SMTP_HOST", raising=False)
    assert main(["demo"]) == 0
    assert main(["notices", "run"]) == 0
    first = capsys.readouterr().out
    assert "Queued " in first and "mail stays in the outbox" in first
    queued = int(first.split("Queued ", 1)[1].split(" ", 1)[0])
    assert queued > 0  # the demo has On-Premises licenses inside their last 60 days
    assert main(["notices", "run"]) == 0
    assert "Queued 0 renewal and 0 maintenance notices" in capsys.readouterr().out


def test_node_token_for_a_cloud_app(data_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import asyncio

    from resolvers.auth import authenticate, authenticate_node
    from resolvers.ids import encode
    from store import apps as app_store
    from store.apps import Hosting
    from store.pagination import Window

    assert main(["demo"]) == 0

    async def app_ids() -> dict[Hosting, str]:
        store = await connect(None, data_file=data_file)
        try:
            page = await app_store.list_apps(store.db, {}, Window(first=10))
            return {app.hosting: encode("App", app.id) for app in page.items}
        finally:
            await store.close()

    ids = asyncio.run(app_ids())
    capsys.readouterr()
    assert main(["token", "create-node", "--app", ids[Hosting.MENDIX_CLOUD]]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    assert token.startswith("mxo_")

    async def check() -> None:
        store = await connect(None, data_file=data_file)
        try:
            header = f"Bearer {token}"
            assert await authenticate(store.db, header) is None  # not a person's token
            key = await authenticate_node(store.db, header)
            assert key is not None and encode("App", key) == ids[Hosting.MENDIX_CLOUD]
        finally:
            await store.close()

    asyncio.run(check())
    with pytest.raises(SystemExit, match="Mendix Cloud"):
        main(["token", "create-node", "--app", ids[Hosting.ON_PREMISES]])
    with pytest.raises(SystemExit, match="not an App ID"):
        main(["token", "create-node", "--app", "nope"])


def test_generate_bulk_data_into_the_embedded_file(
    data_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["generate", "--apps", "500"]) == 0
    assert "Generated 500 apps" in capsys.readouterr().out
    assert data_file.exists()
    with pytest.raises(SystemExit, match="another --seed"):
        main(["generate", "--apps", "10"])
    with pytest.raises(SystemExit, match="at least 1"):
        main(["generate", "--apps", "0"])
    assert main(["generate", "--apps", "10", "--seed", "2"]) == 0


def test_token_create_list_revoke(
    data_file: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    from resolvers.auth import identify
    from store.tokens import TokenScope

    assert main(["demo"]) == 0
    capsys.readouterr()
    args = ["token", "create", "--email", "tess.turner@acme.example", "--label", "ci"]
    assert main([*args, "--scope", "READ_ONLY", "--expires-in-days", "7"]) == 0
    read_only = capsys.readouterr().out.strip().splitlines()[-1]
    monkeypatch.setenv("OWNERSHIP_TOKEN_EXPIRY_DAYS", "30")
    assert main(["token", "create", "--email", "support@mendix.example"]) == 0
    full = capsys.readouterr().out.strip().splitlines()[-1]

    async def credentials() -> list[Any]:
        store = await connect(None, data_file=data_file)
        try:
            return [await identify(store.db, f"Bearer {t}") for t in (read_only, full)]
        finally:
            await store.close()

    first, second = asyncio.run(credentials())
    assert first.scope is TokenScope.READ_ONLY and second.scope is TokenScope.FULL
    assert 6.9 < (first.expires_at - now()).total_seconds() / 86400 <= 7
    assert 29.9 < (second.expires_at - now()).total_seconds() / 86400 <= 30
    assert main(["token", "list"]) == 0
    listing = capsys.readouterr().out
    assert read_only not in listing and full not in listing  # never a secret
    header, *rows = listing.strip().splitlines()
    assert header.split() == [
        "ID", "LABEL", "SCOPE", "PERSON/APP", "CREATED", "EXPIRES", "LAST", "USED", "REVOKED"
    ]  # fmt: skip
    ci = next(row for row in rows if " ci " in row)
    assert "READ_ONLY" in ci and "tess.turner@acme.example" in ci
    assert main(["token", "list", "--email", "support@mendix.example"]) == 0
    assert "tess.turner" not in capsys.readouterr().out
    token_id = ci.split()[0]
    assert main(["token", "revoke", token_id]) == 0
    assert "Revoked" in capsys.readouterr().out
    assert asyncio.run(credentials())[0] is None  # refused from now on
    with pytest.raises(SystemExit, match="already revoked"):
        main(["token", "revoke", token_id])
    with pytest.raises(SystemExit, match="not an access token ID"):
        main(["token", "revoke", "nope"])
    assert main(["token", "list"]) == 0
    listed = capsys.readouterr().out
    revoked_row = next(r for r in listed.splitlines() if r.startswith(token_id))
    assert re.fullmatch(r".*\d{4}-\d\d-\d\d \d\d:\d\d", revoked_row.rstrip())  # REVOKED set
    new = ["token", "create", "--email", "new@example.com", "--name", "New"]
    for bad, message in (
        ([*new, "--expires-in-days", "0"], "1..3650"),
        ([*new, "--expires-in-days", "3651"], "1..3650"),
        ([*new, "--scope", "METRICS"], "--app"),
        ([*new, "--app", "x"], "only for --scope METRICS"),
        (["token", "create", "--scope", "METRICS", "--app", "x"], "not an App ID"),
        (["token", "revoke", "nope"], "not an access token ID"),
    ):
        with pytest.raises(SystemExit, match=message):
            main(bad)
    monkeypatch.setenv("OWNERSHIP_TOKEN_EXPIRY_DAYS", "forever")
    with pytest.raises(SystemExit, match="OWNERSHIP_TOKEN_EXPIRY_DAYS"):
        main(new)
    monkeypatch.delenv("OWNERSHIP_TOKEN_EXPIRY_DAYS")
    # nothing was written: no new person, no new token
    with pytest.raises(SystemExit, match="pass --name"):
        main(["token", "create", "--email", "new@example.com"])
    assert main(["token", "list"]) == 0
    assert capsys.readouterr().out == listed


def test_demo_tokens_are_kept_across_restarts(tmp_path: Path) -> None:
    import asyncio

    from ownership.demo import demo_tokens, load_demo
    from store import tokens as token_store

    path = tmp_path / "embedded.json"
    kept = tmp_path / "demo-tokens.json"

    async def start(fresh: bool = False) -> tuple[list[tuple[str, str, str]], int]:
        store = await connect(None, data_file=path)
        try:
            if fresh:
                await load_demo(store.db, apps=3)
            shown = await demo_tokens(store.db, kept)
            return shown, await store.db["tokens"].count_documents({})
        finally:
            await store.close()

    first, count = asyncio.run(start(fresh=True))
    assert [(role, email) for role, email, _ in first] == [
        ("Support", "support@mendix.example"),
        ("Technical contact", "tess.turner@acme.example"),
    ]
    assert count == 2 and oct(kept.stat().st_mode & 0o777) == "0o600"
    again, count = asyncio.run(start())
    assert again == first and count == 2  # reused, none minted
    secrets = {email: token for _, email, token in first}

    async def revoke_support() -> None:
        store = await connect(None, data_file=path)
        try:
            record = await token_store.find_token(store.db, secrets["support@mendix.example"])
            assert record is not None
            await token_store.revoke_token(store.db, record.key, None)
        finally:
            await store.close()

    asyncio.run(revoke_support())
    third, count = asyncio.run(start())
    assert count == 3  # only the revoked one was replaced
    assert third[1] == first[1] and third[0][2] != first[0][2]
    assert json.loads(kept.read_text())["support@mendix.example"] == third[0][2]
    kept.write_text("not json")
    fourth, count = asyncio.run(start())
    assert count == 5 and fourth[0][2] != third[0][2]  # unreadable file: fresh tokens


WRITING_COMMANDS = {
    "demo": ["demo"],
    "generate": ["generate", "--apps", "5"],
    "token create": ["token", "create", "--email", "support@mendix.example"],
    "token create-node": [
        "token",
        "create-node",
        "--app",
        "QXBwOjY1YTAwMDAwMDAwMDAwMDAwMDAwMDAwMA==",
    ],
    "token revoke": ["token", "revoke", "QWNjZXNzVG9rZW46NjVhMDAwMDAwMDAwMDAwMDAwMDAwMDAw"],
    "notices run": ["notices", "run"],
}


@pytest.mark.parametrize("name", WRITING_COMMANDS)
def test_writing_commands_refuse_while_another_process_holds_the_data(
    data_file: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    """What a running server does to the file (tests/store/test_durability.py runs a real
    one): hold its lock. Every command that writes says so and changes nothing."""
    from store.lock import DataLock

    assert main(["demo"]) == 0
    before = data_file.read_bytes()
    capsys.readouterr()
    server = DataLock.acquire(data_file, "ownership serve")
    try:
        with pytest.raises(SystemExit) as refused:
            main(WRITING_COMMANDS[name])
    finally:
        server.release()
    message = str(refused.value)
    assert message.startswith(f"ownership {name}: refused: ")
    assert f"refused: {data_file} is in use by ownership serve (pid {os.getpid()})" in message
    assert "stop it, run the command, start it again" in message
    assert capsys.readouterr().out == ""
    assert data_file.read_bytes() == before
    assert sorted(os.listdir(data_file.parent)) == ["embedded.json", "embedded.json.lock"]


def test_a_corrupt_journal_stops_a_command_with_a_clear_message(data_file: Path) -> None:
    assert main(["demo"]) == 0
    before = data_file.read_bytes()
    first = json_util.loads(before)["$journal"]  # the first segment the snapshot replays
    segment = data_file.with_name(f"embedded.json.journal.{first}")
    segment.write_text('{"ops": [\n{"ops": []}\n', encoding="utf-8")  # a bad line, then more
    with pytest.raises(SystemExit, match=rf"ownership token create: .*\.{first} line 1 is unre"):
        main(["token", "create", "--email", "support@mendix.example"])
    assert data_file.read_bytes() == before
