"""Keeps the embedded engine's data in a file between runs (atomic snapshots)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

from bson import json_util

log = logging.getLogger(__name__)

_JSON_OPTIONS = json_util.JSONOptions(
    json_mode=json_util.JSONMode.CANONICAL, tz_aware=True, tzinfo=None
)


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".snapshot-", suffix=".tmp")
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


class Snapshotter:
    """Loads a snapshot at start, then rewrites it whenever the data changed.

    Each write goes to a temporary file in the same folder and replaces the old snapshot with
    ``os.replace``, so a crash leaves either the old or the new file, never half of one.
    """

    def __init__(self, db: Any, path: Path, interval: float = 1.0) -> None:
        self._db = db
        self._path = path
        self._interval = interval
        self._digest = ""
        self._task: asyncio.Task[None] | None = None

    async def load(self) -> int:
        if not self._path.exists():
            return 0
        data = json_util.loads(self._path.read_text(encoding="utf-8"), json_options=_JSON_OPTIONS)
        count = 0
        for name, docs in data.items():
            if docs:
                await self._db[name].insert_many(docs)
                count += len(docs)
        self._digest = hashlib.sha256(self._path.read_bytes()).hexdigest()
        return count

    async def dump(self) -> bool:
        """Write a snapshot if anything changed since the last one; return whether it wrote."""
        data: dict[str, list[dict[str, Any]]] = {}
        for name in sorted(await self._db.list_collection_names()):
            data[name] = await self._db[name].find({}).sort("_id", 1).to_list(None)
        text = json_util.dumps(data, json_options=_JSON_OPTIONS)
        digest = hashlib.sha256(text.encode()).hexdigest()
        if digest == self._digest:
            return False
        await asyncio.to_thread(_write_atomically, self._path, text)
        self._digest = digest
        return True

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.dump()
            except Exception:  # keep serving; the next tick tries again
                log.exception("embedded snapshot failed")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.dump()
