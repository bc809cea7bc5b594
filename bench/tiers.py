"""The two tiers ``make bench`` measures, each a fresh database holding ``ownership generate``'s
data of N apps:

- ``embedded``: the embedded default as ``ownership serve`` opens it (``store.db.connect``
  without a URI), seeded by ``ownership.generate.generate`` (bulk inserts, rollups rebuilt);
- ``wire``: PyMongo's AsyncMongoClient over TCP, as the tests' wire tier runs. With
  ``MONGODB_URI`` set: that server, in a fresh ``bench_<random>`` database (dropped after),
  seeded by the same ``generate`` (``insert_many`` in batches of 5,000). Otherwise the
  tests' MongoDB-compatible wire server (mongoeco's memory engine, in the virtualenv
  tests/wire/server.py builds), one per size, started by bench/wire_server.py: the indexes
  are created over the wire on the empty database (``store.db.connect``, as at every start),
  then ``generate``'s documents (made on a scratch embedded engine, every collection written
  out as BSON) go in through the engine's ``insert_many``; its ``insert`` command over the
  wire is quadratic (see bench/wire_server.py).
"""

from __future__ import annotations

import asyncio
import gc
import os
import subprocess
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import bson

from ownership.generate import generate
from store.db import Store, connect

TIERS = ("embedded", "wire")
WIRE_SERVER = Path(__file__).with_name("wire_server.py")


def describe(tier: str) -> str:
    if tier == "embedded":
        return "embedded default (mongomock, as `ownership serve` opens it)"
    if os.environ.get("MONGODB_URI"):
        return "wire: the MongoDB at MONGODB_URI"
    return "wire: the tests' MongoDB-compatible server (mongoeco, memory engine)"


def _say(text: str) -> None:
    print(f"  {text}", flush=True)


@asynccontextmanager
async def seeded(tier: str, apps: int) -> AsyncIterator[Store]:
    """A fresh store on ``tier`` holding ``apps`` generated apps (seed ``apps``)."""
    if tier == "embedded":
        store = await connect(None)
        try:
            start = time.perf_counter()
            await generate(store.db, apps, seed=apps)
            _say(f"seeded {apps:,} apps in {time.perf_counter() - start:.1f} s")
            # as the server after its start (graph/app.py): the data lives as long as the
            # process, so keep it out of the garbage collector's passes
            gc.collect()
            gc.freeze()
            yield store
        finally:
            gc.unfreeze()
            await store.close()
        return
    uri = os.environ.get("MONGODB_URI")
    if uri:
        name = f"bench_{uuid.uuid4().hex[:10]}"
        store = await connect(uri, db_name=name)
        try:
            start = time.perf_counter()
            await generate(store.db, apps, seed=apps)
            _say(f"seeded {apps:,} apps (insert_many) in {time.perf_counter() - start:.1f} s")
            yield store
        finally:
            await store.client.drop_database(name)
            await store.close()
        return
    with tempfile.TemporaryDirectory(prefix="bench-wire-") as folder:
        start = time.perf_counter()
        await _dump_generated(apps, Path(folder))
        _say(f"generated {apps:,} apps in {time.perf_counter() - start:.1f} s")
        with _LoadingServer() as server:
            store = await connect(server.uri, db_name="bench")  # creates the indexes
            try:
                count, seconds = await asyncio.to_thread(server.load, Path(folder), "bench")
                _say(f"wire server loaded {count:,} documents in {seconds:.1f} s")
                yield store
            finally:
                await store.close()


async def _dump_generated(apps: int, folder: Path) -> None:
    """``generate`` on a scratch embedded engine, every collection written to
    ``folder/<name>.bson``."""
    scratch = await connect(None)
    try:
        await generate(scratch.db, apps, seed=apps)
        for name in await scratch.db.list_collection_names():
            docs = await scratch.db[name].find({}).to_list(None)
            if docs:
                (folder / f"{name}.bson").write_bytes(b"".join(bson.encode(d) for d in docs))
    finally:
        await scratch.close()


class _LoadingServer:
    """bench/wire_server.py in the tests' wire virtualenv."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[bytes] | None = None
        self.uri = ""

    def _line(self, word: str) -> list[str]:
        """The server's next line starting with ``word`` (its words)."""
        assert self.proc is not None and self.proc.stdout is not None
        for raw in self.proc.stdout:
            words = raw.decode().split()
            if words[:1] == [word]:
                return words
        raise RuntimeError(f"the wire server ended before {word} (exit {self.proc.wait()})")

    def __enter__(self) -> _LoadingServer:
        from tests.wire.server import ensure_venv

        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        self.proc = subprocess.Popen(
            [str(ensure_venv()), "-I", str(WIRE_SERVER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env={**env, "PYTHONUNBUFFERED": "1"},
        )
        try:
            port = self._line("READY")[1]
        except BaseException:
            self.__exit__()
            raise
        # the server answers one request at a time: a long report or the load must not look
        # like a dead server to the driver's monitor (its pool would be cleared)
        self.uri = f"mongodb://127.0.0.1:{port}/?connectTimeoutMS=3600000"
        return self

    def load(self, folder: Path, db_name: str) -> tuple[int, float]:
        """Every ``folder/<collection>.bson`` into ``db_name``: (documents, seconds)."""
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write(f"LOAD {folder} {db_name}\n".encode())
        self.proc.stdin.flush()
        words = self._line("LOADED")
        return int(words[1]), float(words[2])

    def __exit__(self, *exc: Any) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        for pipe in (proc.stdin, proc.stdout):
            if pipe is not None:
                pipe.close()
