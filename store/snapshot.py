"""Keeps the embedded engine's data in a file: a snapshot plus a journal (store/journal.py).

At start: load the snapshot, then replay the journal segments it names. While open: every
acknowledged write is in the journal; about every second the snapshotter checks whether a
compaction is due (the journal passed ``compact_bytes``, or ``compact_seconds`` went by with
changes) and then writes a new snapshot and drops the segments it covers. At close: a final
snapshot, and no journal left.

Compaction, and why a crash at any step loses nothing:

1. start a new journal segment N (writes go on, into N);
2. copy every document (on the event loop, no await: one consistent moment);
3. write the snapshot, naming N as the first segment to replay, to a temporary file in the
   same folder, fsync, ``os.replace`` over the old one, fsync the folder;
4. delete the segments before N.

Before 3 ends the old snapshot and all its segments are there; after it, the new one and N.
Replaying records that the snapshot already holds changes nothing (they hold whole documents).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import bson
from bson import json_util
from bson.codec_options import CodecOptions

from store import capture
from store.journal import (
    READ_OPTIONS,
    WRITE_OPTIONS,
    Journal,
    apply,
    fsync_directory,
    read_segment,
    segments,
)

log = logging.getLogger(__name__)

META = "$journal"  # the snapshot's first journal segment to replay (never a collection name)
_RAW = CodecOptions(tz_aware=False)


def _temporary_prefix(path: Path) -> str:
    return f".{path.name}.snapshot-"


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=_temporary_prefix(path), suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    fsync_directory(path.parent)


def _encode(first_segment: int, copies: dict[str, list[bytes]]) -> str:
    data: dict[str, Any] = {META: first_segment}
    for name, documents in copies.items():
        data[name] = [bson.decode(raw, codec_options=_RAW) for raw in documents]
    return json_util.dumps(data, json_options=WRITE_OPTIONS)


class Snapshotter:
    """Opens, journals and compacts one embedded database kept in ``path``."""

    def __init__(
        self,
        path: Path,
        *,
        journal: bool = True,
        interval: float = 1.0,
        compact_seconds: float = 60.0,
        compact_bytes: int = 8 << 20,
    ) -> None:
        self._path = path
        self._journal_on = journal
        self._interval = interval
        self._compact_seconds = compact_seconds
        self._compact_bytes = compact_bytes
        self._last = time.monotonic()
        self._task: asyncio.Task[None] | None = None
        self._compacting = asyncio.Lock()
        self._db: Any = None
        self.journal: Journal | None = None

    async def open(self, db: Any) -> Any:
        """Load the file and its journal into ``db`` (a fresh mongomock-motor database);
        return the journaled database that the store must use from now on."""
        documents = capture.database_store(db)
        first, count = await asyncio.to_thread(self._load, documents)
        self.journal = Journal(self._path, first, enabled=self._journal_on)
        if count:
            self.journal.mark_changed()  # the next snapshot holds the replayed records
        self._db = capture.attach(db, self.journal)
        return self._db

    def _load(self, documents: Any) -> tuple[int, int]:
        if self._path.parent.is_dir():  # a crash between writing a snapshot and renaming it
            for leftover in self._path.parent.glob(_temporary_prefix(self._path) + "*.tmp"):
                leftover.unlink(missing_ok=True)
        first = 1
        if self._path.exists():
            data = json_util.loads(
                self._path.read_text(encoding="utf-8"), json_options=READ_OPTIONS
            )
            first = int(data.pop(META, 1))
            for name, docs in data.items():
                stored = documents[name]._documents
                for doc in docs:
                    stored[doc["_id"]] = doc
        batches, last = 0, first - 1
        for number, path in segments(self._path):
            if number < first:
                path.unlink()  # left by a crash after its snapshot was written
                continue
            for ops in read_segment(path):
                apply(documents, ops)
                batches += 1
            last = number
        if batches:
            log.info("Replayed %d journal batches after %s", batches, self._path)
        return last + 1, batches

    async def compact(self, *, final: bool = False) -> bool:
        """Write a snapshot and drop the journal it covers; False when nothing changed.
        One at a time: a later snapshot must never be replaced by an earlier one."""
        async with self._compacting:
            return await self._compact(final)

    async def _compact(self, final: bool) -> bool:
        journal = self.journal
        if journal is None or not journal.changed:
            return False
        first = await journal.rotate()
        seq = journal.seq
        # one moment: no await until every document is copied (BSON: fast, immutable)
        documents = capture.database_store(self._db)
        copies = {
            name: [bson.encode(doc) for doc in stored._documents.values()]
            for name, stored in documents._collections.items()
            if stored._documents
        }
        text = await asyncio.to_thread(_encode, first, copies)
        await asyncio.to_thread(_write_atomically, self._path, text)
        journal.snapshot_done(seq)
        self._last = time.monotonic()
        if final and journal.seq == seq:
            journal.settle()  # the snapshot holds everything: no journal left behind
        else:
            await journal.sync()  # (a write that came in meanwhile stays in the journal)
            await asyncio.to_thread(journal.remove_before, first)
        return True

    def _due(self) -> bool:
        journal = self.journal
        if journal is None or not journal.changed:
            return False
        if not journal.enabled:
            return True  # no journal: a snapshot about every second, as before it existed
        waited = time.monotonic() - self._last
        return journal.size >= self._compact_bytes or waited >= self._compact_seconds

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                if self._due():  # shielded: stop() waits for it instead of cutting it short
                    await asyncio.shield(self.compact())
            except Exception:  # keep serving: the journal still holds every change
                log.exception("embedded snapshot failed")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._db is not None:
            try:
                await self.compact(final=True)
            finally:
                capture.detach(self._db)
                self._db = None
