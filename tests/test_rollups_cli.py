"""`ownership rollups verify` / `rebuild` on the embedded default, as an operator runs them."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ownership.cli import main
from store import rollups
from store.db import connect


@pytest.fixture
def data_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "embedded.json"
    monkeypatch.setenv("OWNERSHIP_DATA_FILE", str(path))
    monkeypatch.delenv("MONGODB_URI", raising=False)
    return path


async def _spoil(path: Path) -> None:
    store = await connect(None, data_file=path)
    try:
        await store.db[rollups.COUNTERS].update_many({}, {"$inc": {"count": 1}})
    finally:
        await store.close()


def test_verify_finds_drift_and_rebuild_repairs_it(
    data_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo"]) == 0
    assert main(["generate", "--apps", "40", "--seed", "3"]) == 0
    assert main(["rollups", "verify"]) == 0
    assert capsys.readouterr().out.strip().endswith("Rollups equal the apps")

    asyncio.run(_spoil(data_file))
    assert main(["rollups", "verify"]) == 1
    out = capsys.readouterr().out
    assert "summary:" in out and out.strip().endswith("Rollups differ from the apps")
    assert main(["rollups", "rebuild"]) == 0
    assert main(["rollups", "verify"]) == 0


async def _spoil_risks(path: Path) -> None:
    """Change people and day counters behind the store's back (as a restore or a hand edit
    would): their apps' at-risk counts no longer match."""
    store = await connect(None, data_file=path)
    try:
        await store.db["people"].update_many({}, {"$set": {"status": "INACTIVE"}})
        await store.db[rollups.DAYS].update_many({}, {"$inc": {"prev.none": 1}})
    finally:
        await store.close()


def test_verify_and_rebuild_cover_every_at_risk_count(
    data_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["generate", "--apps", "40", "--seed", "4"]) == 0
    assert main(["rollups", "verify"]) == 0
    capsys.readouterr()

    asyncio.run(_spoil_risks(data_file))
    assert main(["rollups", "verify"]) == 1
    out = capsys.readouterr().out
    assert "rollups risk:inactive_contact:" in out
    assert "rollup_days " in out and "contact_risks" in out
    assert main(["rollups", "rebuild"]) == 0
    assert main(["rollups", "verify"]) == 0
