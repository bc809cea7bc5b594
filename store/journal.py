"""The embedded engine's journal: every acknowledged change is on disk before the answer.

Each write marks the documents it changed (store/capture.py). Before a write's caller gets
its answer, :meth:`Journal.sync` appends the marked documents' current contents (or their
deletion) as one line to the journal and fsyncs it. Writers that arrive while a flush is on
disk wait for the next one, which takes all of them at once (group commit): one fsync per
batch, not per write.

Records hold whole documents, not operations, so replaying a record twice, or over a snapshot
that already has it, changes nothing: load = snapshot, then every journal line in order.

The journal is a series of segment files next to the data file (``embedded.json.journal.7``).
Compaction (store/snapshot.py) starts a new segment, writes a snapshot that names it as the
first to replay, and only then deletes the older segments; a crash at any step leaves a
snapshot plus every segment it needs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bson import json_util

log = logging.getLogger(__name__)

# Documents are written as MongoDB Extended JSON (canonical: every BSON type round-trips)
# and read back as the engine keeps them: naive UTC datetimes.
WRITE_OPTIONS = json_util.JSONOptions(json_mode=json_util.JSONMode.CANONICAL)
READ_OPTIONS = json_util.JSONOptions(json_mode=json_util.JSONMode.CANONICAL, tz_aware=False)

_DROP = object()  # pending key for "the whole collection was dropped"


class JournalCorrupt(Exception):
    """A journal line other than a torn last one could not be read."""


def segment_path(data_file: Path, number: int) -> Path:
    return data_file.with_name(f"{data_file.name}.journal.{number}")


def segments(data_file: Path) -> list[tuple[int, Path]]:
    """The journal segments next to ``data_file``, oldest first."""
    prefix = f"{data_file.name}.journal."
    found = []
    if data_file.parent.is_dir():
        for path in data_file.parent.iterdir():
            suffix = path.name[len(prefix) :] if path.name.startswith(prefix) else ""
            if suffix.isdigit():
                found.append((int(suffix), path))
    return sorted(found)


def fsync_directory(folder: Path) -> None:
    """Make a created, renamed or deleted name in ``folder`` durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_segment(path: Path) -> Iterator[list[dict[str, Any]]]:
    """The batches of one segment; a torn last line (a write cut by a crash) is skipped."""
    lines = path.read_bytes().split(b"\n")
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            batch = json_util.loads(line, json_options=READ_OPTIONS)
        except ValueError as error:
            if number == len(lines):  # no newline after it: the crash cut this write
                log.warning("%s: skipping a torn last line (never acknowledged)", path)
                return
            raise JournalCorrupt(f"{path} line {number} is unreadable: {error}") from error
        yield batch["ops"]


def apply(database: Any, ops: list[dict[str, Any]]) -> None:
    """Apply one batch to a mongomock ``DatabaseStore`` directly (no capture, no checks)."""
    for op in ops:
        collection = database[op["c"]]
        if "drop" in op:
            collection._documents.clear()
        elif "put" in op:
            document = op["put"]
            collection._documents[document["_id"]] = document
        else:
            collection._documents.pop(op["del"], None)


class Journal:
    """Marks, flushes and rotates; one per open embedded store with a data file.

    ``enabled=False`` (OWNERSHIP_JOURNAL=0, for benchmarks only) keeps the marks, so the
    snapshotter knows when data changed, but writes nothing: acknowledged writes are lost on
    a crash until the next snapshot.
    """

    def __init__(self, data_file: Path, segment: int, *, enabled: bool = True) -> None:
        self.data_file = data_file
        self.enabled = enabled
        self.segment = segment
        self.size = 0  # bytes in the current segment
        self._database: Any = None
        self._fd: int | None = None
        self._pending: dict[tuple[str, Any], None] = {}
        self._seq = 0  # marks so far
        self._durable = 0  # marks whose documents are on disk
        self._snapshot_seq = 0  # marks covered by the last snapshot
        self._flushing: asyncio.Task[None] | None = None

    # --- marks (called by the capture hooks, synchronously, on the event loop's thread) ---

    def bind(self, database: Any) -> None:
        """The mongomock ``DatabaseStore`` whose documents the records are read from."""
        self._database = database

    def touch(self, collection: str, key: Any) -> None:
        if self.enabled:
            self._pending[(collection, key)] = None
        self._seq += 1

    def dropped(self, collection: str) -> None:
        self._seq += 1
        if not self.enabled:
            return
        for entry in [entry for entry in self._pending if entry[0] == collection]:
            del self._pending[entry]
        self._pending[(collection, _DROP)] = None

    def mark_changed(self) -> None:
        """Data changed without a record (replayed at start): the next snapshot is due."""
        self._seq += 1
        self._durable = self._seq

    @property
    def seq(self) -> int:
        return self._seq

    def snapshot_done(self, seq: int) -> None:
        """A durable snapshot holds every change up to mark ``seq``."""
        self._snapshot_seq = seq

    @property
    def changed(self) -> bool:
        """Whether anything changed since the last snapshot was taken."""
        return self._seq != self._snapshot_seq

    # --- durability ---

    async def sync(self) -> None:
        """Return once every change marked so far is on disk (group commit)."""
        if not self.enabled:
            return
        target = self._seq
        while self._durable < target:
            if self._flushing is None:
                self._flushing = asyncio.get_running_loop().create_task(self._flush())
            await asyncio.shield(self._flushing)

    async def _flush(self) -> None:
        try:
            seq, keys = self._seq, self._pending
            self._pending = {}
            if keys:
                line = json_util.dumps({"ops": self._records(keys)}, json_options=WRITE_OPTIONS)
                try:
                    await asyncio.to_thread(self._append, (line + "\n").encode())
                except BaseException:
                    self._pending = {**keys, **self._pending}  # the next flush retries them
                    raise
            self._durable = max(self._durable, seq)
        finally:
            self._flushing = None

    def _records(self, keys: dict[tuple[str, Any], None]) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        collections = self._database._collections
        for name, key in keys:
            if key is _DROP:
                records.append({"c": name, "drop": True})
                continue
            stored = collections.get(name)
            document = stored._documents.get(key) if stored is not None else None
            if document is None:
                records.append({"c": name, "del": key})
            else:
                records.append({"c": name, "put": document})
        return records

    def _append(self, data: bytes) -> None:
        if self._fd is None:
            path = segment_path(self.data_file, self.segment)
            self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            self.size = os.fstat(self._fd).st_size
            fsync_directory(path.parent)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(self._fd, view) :]
            os.fdatasync(self._fd)
        except OSError:
            with contextlib.suppress(OSError):  # no torn line before the retry
                os.ftruncate(self._fd, self.size)
            raise
        self.size += len(data)

    # --- compaction ---

    async def rotate(self) -> int:
        """Start a new segment; return its number. Everything marked before the call lands in
        an older segment or the new one; the caller snapshots right away (no await between)."""
        while self._flushing is not None:
            with contextlib.suppress(Exception):  # its writers see the error
                await asyncio.shield(self._flushing)
        self._close_fd()
        self.segment += 1
        self.size = 0
        return self.segment

    def remove_before(self, number: int) -> None:
        """Delete the segments that a durable snapshot made unnecessary."""
        for found, path in segments(self.data_file):
            if found < number:
                path.unlink(missing_ok=True)

    def settle(self) -> None:
        """After the final snapshot: it covers every mark, nothing needs the journal."""
        self._pending = {}
        self._durable = self._seq
        self._close_fd()
        self.remove_before(self.segment + 1)

    def _close_fd(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
