"""The embedded journal: every write path is recorded, replay rebuilds the same data, group
commit batches concurrent writers, and a crash at any step of a compaction loses nothing.

"Recovering" here is what a restart after kill -9 does: a fresh engine loads the snapshot and
replays the journal from the files alone, while the writing store is still open (so nothing
that a clean shutdown would write can help).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from bson import Int64, ObjectId
from mongomock_motor import AsyncMongoMockClient
from pymongo import DeleteOne, InsertOne, ReturnDocument

from store import capture
from store.db import Store, connect
from store.journal import JournalCorrupt, segments
from store.snapshot import Snapshotter

ROOT = Path(__file__).resolve().parent.parent.parent


async def _recover(path: Path) -> dict[str, list[dict[str, Any]]]:
    """Every collection's documents as a restart would load them from ``path``'s files."""
    client = AsyncMongoMockClient(tz_aware=True)
    snapshotter = Snapshotter(path)
    db = await snapshotter.open(client.get_database("recovered"))
    capture.detach(db)
    return await _contents(db)


async def _contents(db: Any) -> dict[str, list[dict[str, Any]]]:
    found = {}
    for name in sorted(await db.list_collection_names()):
        docs = await db[name].find({}).to_list(None)
        if docs:
            found[name] = sorted(docs, key=lambda doc: str(doc["_id"]))
    return found


@pytest.fixture
async def journaled(tmp_path: Path) -> Any:
    store = await connect(None, data_file=tmp_path / "data.json")
    yield store
    await store.close()


def _line_count(path: Path) -> int:
    return sum(p.read_bytes().count(b"\n") for _, p in segments(path))


async def _every_write(db: Any) -> None:
    """One of each write method the store modules (or anyone) may call."""
    things, other = db["things"], db["other"]
    await things.create_index("code", unique=True)
    first = await things.insert_one(
        {"code": "a", "n": 1, "tags": ["x"], "at": datetime(2026, 1, 2, 3, 4, 5, 6000, UTC)}
    )
    await things.insert_many([{"code": f"m{n}", "n": n, "big": Int64(n)} for n in range(5)])
    await things.update_one({"_id": first.inserted_id}, {"$set": {"n": 2}, "$push": {"tags": "y"}})
    await things.update_many({"code": {"$regex": "^m"}}, {"$inc": {"n": 10}})
    await things.update_one({"code": "up"}, {"$set": {"n": 7}}, upsert=True)
    await things.replace_one({"code": "m0"}, {"code": "m0", "replaced": True})
    await things.find_one_and_update(
        {"code": "m1"}, {"$unset": {"big": ""}}, return_document=ReturnDocument.AFTER
    )
    await things.find_one_and_replace({"code": "m2"}, {"code": "m2", "swapped": 1})
    await things.find_one_and_delete({"code": "m3"})
    await things.delete_one({"code": "m4"})
    # (mongomock 4.3 can't take PyMongo 4.20's UpdateOne/ReplaceOne in a bulk: not used here)
    await things.bulk_write([InsertOne({"code": "b1", "n": 1}), DeleteOne({"code": "up"})])
    with pytest.raises(Exception, match="uplicate"):  # refused: rolled back, still journaled
        await things.update_one({"code": "b1"}, {"$set": {"code": "a"}})
    await other.insert_many([{"_id": n, "nested": {"id": ObjectId()}} for n in range(3)])
    await other.delete_many({"_id": {"$gte": 1}})
    await db["gone"].insert_one({"x": 1})
    await db["gone"].drop()
    await db["renamed_from"].insert_one({"_id": "r", "v": 1})
    await db["renamed_from"].rename("renamed_to")


async def test_every_write_method_is_recovered_after_a_crash(journaled: Store) -> None:
    await _every_write(journaled.db)
    written = await _contents(journaled.db)
    assert set(written) == {"things", "other", "renamed_to"}  # the writes did happen
    assert await _recover(journaled.snapshotter._path) == written  # type: ignore[union-attr]


async def test_without_the_journal_a_crash_loses_the_writes(tmp_path: Path) -> None:
    """The control: with the journal off (OWNERSHIP_JOURNAL=0) the same writes are not on
    disk before a snapshot, so this test would catch a journal that records nothing."""
    store = await connect(None, data_file=tmp_path / "data.json", journal=False)
    try:
        await _every_write(store.db)
        assert await _recover(tmp_path / "data.json") == {}
        assert segments(tmp_path / "data.json") == []
    finally:
        await store.close()
    assert set(await _recover(tmp_path / "data.json")) == {"things", "other", "renamed_to"}


async def test_concurrent_writers_share_fsyncs(journaled: Store) -> None:
    things = journaled.db["things"]
    await asyncio.gather(*(things.insert_one({"_id": n}) for n in range(50)))
    path = journaled.snapshotter._path  # type: ignore[union-attr]
    recovered = await _recover(path)
    assert [doc["_id"] for doc in recovered["things"]] == sorted(range(50), key=str)
    assert 1 <= _line_count(path) < 50  # one line (one fsync) per batch, not per write


async def test_replay_is_idempotent_and_skips_a_torn_last_line(journaled: Store) -> None:
    await journaled.db["things"].insert_one({"_id": 1, "v": 1})
    await journaled.db["things"].update_one({"_id": 1}, {"$set": {"v": 2}})
    await journaled.db["things"].insert_one({"_id": 2})
    path = journaled.snapshotter._path  # type: ignore[union-attr]
    expected = await _recover(path)
    [(_, segment)] = segments(path)
    data = segment.read_bytes()
    # the whole journal twice (as after a snapshot that already holds it), then a cut write
    segment.write_bytes(data + data + data[: len(data) // 3])
    assert await _recover(path) == expected == {"things": [{"_id": 1, "v": 2}, {"_id": 2}]}


async def test_a_corrupt_line_inside_the_journal_stops_the_start(journaled: Store) -> None:
    await journaled.db["things"].insert_one({"_id": 1})
    await journaled.db["things"].insert_one({"_id": 2})
    path = journaled.snapshotter._path  # type: ignore[union-attr]
    [(_, segment)] = segments(path)
    segment.write_bytes(b"{not json\n" + segment.read_bytes())
    with pytest.raises(JournalCorrupt, match="line 1"):
        await _recover(path)


async def test_compaction_writes_a_snapshot_and_drops_the_covered_journal(
    journaled: Store, tmp_path: Path
) -> None:
    path = tmp_path / "data.json"
    await journaled.db["things"].insert_one({"_id": 1})
    [(first, _)] = segments(path)
    assert await journaled.snapshotter.compact()  # type: ignore[union-attr]
    assert segments(path) == []  # everything is in the snapshot
    assert not await journaled.snapshotter.compact()  # type: ignore[union-attr]
    await journaled.db["things"].insert_one({"_id": 2})
    assert [number for number, _ in segments(path)] == [first + 1]
    assert await _recover(path) == {"things": [{"_id": 1}, {"_id": 2}]}
    await journaled.close()
    assert sorted(os.listdir(tmp_path)) == ["data.json", "data.json.lock"]
    assert await _recover(path) == {"things": [{"_id": 1}, {"_id": 2}]}


CRASH = """
import asyncio, os, sys
from pathlib import Path
import store.snapshot as snapshot
from store.db import connect

def crash(*args, **kwargs):
    os._exit(9)

async def main(path, step):
    store = await connect(None, data_file=Path(path))
    things = store.db["things"]
    await things.insert_many([{"_id": n, "v": 0} for n in range(20)])
    assert await store.snapshotter.compact()
    await things.update_many({"_id": {"$lt": 10}}, {"$set": {"v": 1}})
    await things.delete_one({"_id": 19})
    await things.insert_one({"_id": 20, "v": 2})
    if step == "before-snapshot":
        snapshot._write_atomically = crash
    elif step == "before-rename":
        snapshot.os.replace = crash
    elif step == "before-cleanup":
        store.snapshotter.journal.remove_before = crash
    await store.snapshotter.compact()
    print("the crash was not injected")

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


@pytest.mark.parametrize("step", ["before-snapshot", "before-rename", "before-cleanup"])
def test_a_crash_during_compaction_loses_nothing(tmp_path: Path, step: str) -> None:
    path = tmp_path / "data.json"
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(CRASH), str(path), step],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 9, result.stdout + result.stderr
    expected = [{"_id": n, "v": 1 if n < 10 else 0} for n in range(19)] + [{"_id": 20, "v": 2}]
    assert asyncio.run(_recover(path)) == {"things": sorted(expected, key=lambda d: str(d["_id"]))}

    async def reopen() -> None:  # and the store opens, writes and closes cleanly
        store = await connect(None, data_file=path)
        await store.db["things"].insert_one({"_id": 21})
        await store.close()

    asyncio.run(reopen())
    assert sorted(os.listdir(tmp_path)) == ["data.json", "data.json.lock"]
    assert len(asyncio.run(_recover(path))["things"]) == 21


async def test_closing_during_a_compaction_keeps_the_later_snapshot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A compaction still writing when the store closes must not land after (and over) the
    final snapshot, whose journal is gone by then."""
    import threading

    from store import snapshot

    path = tmp_path / "data.json"
    store = await connect(None, data_file=path)
    await store.db["things"].insert_one({"_id": "before"})
    started, release = threading.Event(), threading.Event()
    write = snapshot._write_atomically

    def slow_first_write(target: Path, text: str) -> None:
        if not started.is_set():
            started.set()
            release.wait(timeout=60)
        write(target, text)

    monkeypatch.setattr(snapshot, "_write_atomically", slow_first_write)
    running = asyncio.create_task(store.snapshotter.compact())  # type: ignore[union-attr]
    await asyncio.to_thread(started.wait, 60)
    await store.db["things"].insert_one({"_id": "during"})
    asyncio.get_running_loop().call_later(0.3, release.set)
    await store.close()
    await running
    assert await _recover(path) == {"things": [{"_id": "before"}, {"_id": "during"}]}
