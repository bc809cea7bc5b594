"""Run mongoeco's MongoDB wire-protocol server (memory engine) until signalled.

Executed by the Python 3.13 interpreter of the wire virtualenv (see server.py),
never imported by the project's tests.

Usage: python run_server.py [PORT] [--host HOST] [--exit-on-stdin-eof]

Prints exactly one line ``READY <port>`` to stdout once the listener accepts
connections, then serves until SIGTERM/SIGINT (or, with
``--exit-on-stdin-eof``, until stdin is closed, e.g. because the parent died).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

from mongoeco.engines.memory import MemoryEngine
from mongoeco.wire import AsyncMongoEcoProxyServer


async def _wait_stdin_eof(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while await reader.read(4096):
        pass
    stop.set()


async def _serve(host: str, port: int, exit_on_stdin_eof: bool) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)

    server = AsyncMongoEcoProxyServer(engine=MemoryEngine(), host=host, port=port)
    address = await server.start()  # listener is serving when this returns
    watcher = asyncio.create_task(_wait_stdin_eof(stop)) if exit_on_stdin_eof else None
    try:
        sys.stdout.write(f"READY {address.port}\n")
        sys.stdout.flush()
        await stop.wait()
    finally:
        if watcher is not None:
            watcher.cancel()
        await server.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("port", nargs="?", type=int, default=0)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--exit-on-stdin-eof", action="store_true")
    args = parser.parse_args(argv)
    asyncio.run(_serve(args.host, args.port, args.exit_on_stdin_eof))
    return 0


if __name__ == "__main__":
    sys.exit(main())
