"""The tests' wire server (mongoeco's memory engine behind its wire protocol, as
tests/wire/run_server.py serves it), with a bulk load for the benchmark.

Run by the wire virtualenv's Python 3.13 (tests/wire/server.py ``ensure_venv``), never
imported by the project. mongoeco's ``insert`` command stores each document with its own
``insert_one``, which compares the new ``_id`` with every stored one: quadratic over the
wire (1,000 apps: 28 s; 100,000: days). Building an index over stored documents is slow too.
So the benchmark creates the indexes over the wire on the empty database (store/indexes.py,
as at every start), then writes ``LOAD <folder> <database>`` on this script's stdin: each
``<collection>.bson`` file there goes in with the engine's ``insert_many`` (keys checked by
lookup, indexes kept up as it goes), 5,000 a batch, answered by ``LOADED <documents>
<seconds>`` on stdout.

Usage: python wire_server.py

Prints ``READY <port>`` on stdout, then serves on 127.0.0.1 until SIGTERM/SIGINT or the end
of stdin (its parent died).
"""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from pathlib import Path

import bson
from mongoeco import AsyncMongoClient
from mongoeco.engines.memory import MemoryEngine
from mongoeco.wire import AsyncMongoEcoProxyServer

BATCH = 5_000


async def _load(engine: MemoryEngine, files: list[Path], db_name: str) -> int:
    db = AsyncMongoClient(engine).get_database(db_name)
    loaded = 0
    for path in files:
        docs = bson.decode_all(path.read_bytes())
        for start in range(0, len(docs), BATCH):
            await db[path.stem].insert_many(
                docs[start : start + BATCH], ordered=False, bypass_document_validation=True
            )
        loaded += len(docs)
    return loaded


def _files(folder: str) -> list[Path]:
    return sorted(Path(folder).glob("*.bson"))


async def _commands(engine: MemoryEngine, stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        words = line.decode().split()
        if words[:1] == ["LOAD"]:
            start = time.perf_counter()
            files = await asyncio.to_thread(_files, words[1])
            loaded = await _load(engine, files, words[2])
            print(f"LOADED {loaded} {time.perf_counter() - start:.1f}", flush=True)
    stop.set()


async def _serve() -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    engine = MemoryEngine()
    server = AsyncMongoEcoProxyServer(engine=engine, host="127.0.0.1", port=0)
    address = await server.start()
    commands = asyncio.create_task(_commands(engine, stop))
    try:
        print(f"READY {address.port}", flush=True)
        await stop.wait()
    finally:
        commands.cancel()
        await server.close()


if __name__ == "__main__":
    asyncio.run(_serve())
