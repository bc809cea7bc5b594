"""At most MAX_ACTIVE_TOKENS active tokens per person: createAccessToken and
``ownership token create`` refuse beyond it (typed, nothing created), also when racing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from graph.app import create_app
from ownership.cli import main
from resolvers.tokens import MAX_ACTIVE_TOKENS
from store import token_quota
from store import tokens as token_store
from store.db import Store, connect
from store.people import PersonRecord
from store.records import now
from tests.graph.test_tokens import CREATE, REVOKE, ok
from tests.helpers import dump, make_person

CREATE_READ_ONLY = {"input": {"label": "more", "scope": "READ_ONLY"}}


@pytest.fixture
async def http(store: Store) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(lambda: None)  # type: ignore[arg-type, return-value]
    app.state.store = store
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def _holding(db: Any, person: PersonRecord, active: int) -> str:
    """``active`` active tokens for the person (returns one), and one revoked and one expired
    that do not count."""
    secret, _record = await token_store.issue_token(
        db, scope=token_store.TokenScope.FULL, label="cli", person_id=person.id
    )
    for index in range(active - 1):
        await token_store.create_token(db, person.id, label=f"t{index}")
    _gone, revoked = await token_store.issue_token(
        db, scope=token_store.TokenScope.FULL, label="revoked", person_id=person.id
    )
    await token_store.revoke_token(db, revoked.key, person.id)
    await token_store.create_token(db, person.id, label="expired", expires_at=now() - timedelta(1))
    return secret


async def test_create_access_token_refuses_beyond_the_maximum(
    http: httpx.AsyncClient, db: Any, support: PersonRecord
) -> None:
    ann = await make_person(db, "ann@example.com", "Ann")
    token = await _holding(db, ann, MAX_ACTIVE_TOKENS - 1)
    await ok(http, token, "{ viewer { name } }")  # its last use is recorded before the dump
    made = (await ok(http, token, CREATE, CREATE_READ_ONLY))["createAccessToken"]
    assert made["userErrors"] == [] and made["token"].startswith("mxo_")
    assert await token_quota.count_active(db, ann.id, now()) == MAX_ACTIVE_TOKENS
    before = await dump(db)
    refused = (await ok(http, token, CREATE, CREATE_READ_ONLY))["createAccessToken"]
    assert (refused["token"], refused["accessToken"]) == (None, None)
    assert [(e["code"], e["field"]) for e in refused["userErrors"]] == [("TOO_MANY_TOKENS", None)]
    assert str(MAX_ACTIVE_TOKENS) in refused["userErrors"][0]["message"]
    assert await dump(db) == before
    # revoking one makes room for one; others' tokens never count against you
    await ok(http, token, REVOKE, {"id": made["accessToken"]["id"]})
    again = (await ok(http, token, CREATE, CREATE_READ_ONLY))["createAccessToken"]
    assert again["userErrors"] == []
    support_token = await token_store.create_token(db, support.id)
    theirs = (await ok(http, support_token, CREATE, CREATE_READ_ONLY))["createAccessToken"]
    assert theirs["userErrors"] == []


async def test_racing_creations_never_pass_the_maximum(
    http: httpx.AsyncClient, db: Any, support: PersonRecord
) -> None:
    ann = await make_person(db, "ann@example.com", "Ann")
    token = await _holding(db, ann, MAX_ACTIVE_TOKENS - 1)
    answers = await asyncio.gather(
        *(ok(http, token, CREATE, {"input": {"label": f"race{i}"}}) for i in range(4))
    )
    made = [a["createAccessToken"] for a in answers if a["createAccessToken"]["token"]]
    refused = [a["createAccessToken"] for a in answers if not a["createAccessToken"]["token"]]
    assert len(made) <= 1 and len(made) + len(refused) == 4
    assert all([e["code"] for e in r["userErrors"]] == ["TOO_MANY_TOKENS"] for r in refused)
    assert await token_quota.count_active(db, ann.id, now()) == MAX_ACTIVE_TOKENS - 1 + len(made)
    # a refused creation left nothing behind: only the shown tokens exist
    raced = await db["tokens"].count_documents({"label": {"$regex": "^race"}})
    assert raced == len(made)


def test_cli_token_create_refuses_beyond_the_maximum(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OWNERSHIP_DATA_FILE", str(tmp_path / "embedded.json"))
    monkeypatch.delenv("MONGODB_URI", raising=False)
    create = ["token", "create", "--email", "ann@example.com", "--name", "Ann"]
    assert main(create) == 0
    capsys.readouterr()

    async def fill() -> None:
        store = await connect(None, data_file=tmp_path / "embedded.json")
        try:
            ann = await store.db["people"].find_one({"email": "ann@example.com"})
            for index in range(MAX_ACTIVE_TOKENS - 1):
                await token_store.create_token(store.db, ann["_id"], label=f"t{index}")
        finally:
            await store.close()

    asyncio.run(fill())
    assert main(["token", "list"]) == 0
    listed = capsys.readouterr().out
    with pytest.raises(SystemExit, match=f"holds {MAX_ACTIVE_TOKENS} active tokens"):
        main([*create, "--support", "--scope", "READ_ONLY"])
    assert main(["token", "list"]) == 0
    assert capsys.readouterr().out == listed  # nothing created
