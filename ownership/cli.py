"""``ownership``: serve the API, load demo data, create tokens, export the schema."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from ownership import token_commands
from ownership.config import Settings
from ownership.demo import DEMO_TOKENS_FILE, demo_tokens, is_empty, load_demo
from store.db import Store, connect
from store.journal import JournalCorrupt
from store.lock import DataFileInUse, DataLock

log = logging.getLogger("ownership")

FIRST_QUERY = """{
  viewer { name isSupport }
  apps(first: 5) {
    totalCount
    nodes {
      name hosting status
      technicalContacts { name hasMendixId }
    }
  }
}"""


async def open_store(
    settings: Settings, *, lock: DataLock | None = None, purpose: str = "ownership"
) -> Store:
    store = await connect(
        settings.mongodb_uri,
        db_name=settings.db_name,
        data_file=settings.data_file,
        journal=settings.journal,
        lock=lock,
        purpose=purpose,
    )
    if store.embedded:
        where = settings.data_file or "memory only"
        log.warning(
            "Embedded database (%s): single process, for trying things out. "
            "Set MONGODB_URI to use a real MongoDB.",
            where,
        )
        if not settings.journal and settings.data_file:
            log.warning("OWNERSHIP_JOURNAL=0: a crash loses the last second of writes")
    return store


@asynccontextmanager
async def exclusive_data(settings: Settings, command: str) -> AsyncIterator[Store]:
    """The store for a command that writes; ``command`` names it in messages ("token create").

    Wrap every CLI command that changes data in it. On the embedded default one process at a
    time owns the data file: while a server (or another command) holds it, a command's writes
    would never reach the server's memory and vanish at its next snapshot, so the command is
    refused with a clear message (exit status 1, no traceback). With MONGODB_URI it just opens
    the store: the database serves every process.
    """
    try:
        store = await open_store(settings, purpose=f"ownership {command}")
    except DataFileInUse as busy:
        raise SystemExit(
            f"ownership {command}: refused: {busy}. A running server keeps the embedded data "
            "in its memory and would never see this change: stop it, run the command, start "
            "it again (or set MONGODB_URI so that servers and commands share one database)."
        ) from None
    except JournalCorrupt as error:
        raise SystemExit(f"ownership {command}: {error}") from None
    try:
        yield store
    finally:
        await store.close()


async def _demo_banner(store: Store, settings: Settings) -> None:
    if await is_empty(store.db):
        await load_demo(store.db)
        log.info("Loaded demo data")
    url = f"http://{settings.host}:{settings.port}/graphql"
    lines = [f"API ready at {url}"]
    first = None
    kept = None if settings.data_file is None else settings.data_file.parent / DEMO_TOKENS_FILE
    for role, email, token in await demo_tokens(store.db, kept):
        first = first or token
        lines.append(f"{role} ({email}): Authorization: Bearer {token}")
    if first is not None:
        lines += [
            f"In a shell: export TOKEN={first}",
            f"GraphiQL, signed in as Support: {url}#token={first}",
        ]
    lines += ["First query to paste:", FIRST_QUERY]
    print("\n".join(lines), flush=True)


def serve(settings: Settings) -> None:
    import uvicorn

    from resolvers.tokens import default_expiry_days

    try:
        default_expiry_days()  # a bad OWNERSHIP_TOKEN_EXPIRY_DAYS stops the start, not a request
    except ValueError as error:
        raise SystemExit(str(error)) from None

    from graph.app import create_app

    async def on_ready(store: Store) -> None:
        if settings.demo:
            await _demo_banner(store, settings)

    from ownership.mailer import SmtpSettings
    from ownership.tasks import periodic

    lock = None
    if settings.mongodb_uri is None and settings.data_file is not None:
        try:  # before anything starts: a second server on the file must not come up at all
            lock = DataLock.acquire(settings.data_file, "ownership serve")
        except DataFileInUse as busy:
            raise SystemExit(
                f"ownership serve: refused: {busy}. One server per embedded data file: stop "
                "the other one, give this one its own file (OWNERSHIP_DATA_FILE), or set "
                "MONGODB_URI to run several servers on one MongoDB."
            ) from None
    smtp = SmtpSettings.from_env()
    if smtp is None:
        log.warning("SMTP_HOST is not set: email stays in the outbox (see `notifications`)")
    app = create_app(
        lambda: open_store(settings, lock=lock, purpose="ownership serve"),
        on_ready,
        periodic(smtp, settings.notice_interval),
    )
    try:
        # SIGINT/SIGTERM: stop accepting, give requests in flight SHUTDOWN_SECONDS, then
        # cancel them; WebSockets are closed (1012) and live subscriptions end with the
        # lifespan. The access log is graph/observe.py's (a JSON line a request), not uvicorn's.
        uvicorn.run(
            app,
            host=settings.host,
            port=settings.port,
            log_level="info",
            access_log=False,
            timeout_graceful_shutdown=float(os.environ.get("OWNERSHIP_SHUTDOWN_SECONDS", "3")),
        )
    finally:
        if lock is not None:
            lock.release()


async def _with_store(
    settings: Settings, command: str, action: Callable[[Store], Awaitable[None]]
) -> None:
    async with exclusive_data(settings, command) as store:
        await action(store)


async def _rollups(settings: Settings, command: str) -> int:
    from store import rollup_reads

    async with exclusive_data(settings, f"rollups {command}") as store:
        if command == "rebuild":
            await rollup_reads.rebuild(store.db)
            print("Rebuilt the rollups from the apps")
            return 0
        differences = await rollup_reads.verify(store.db)
    for line in differences:
        print(line)
    print("Rollups differ from the apps" if differences else "Rollups equal the apps")
    return 1 if differences else 0


def _documents(args: argparse.Namespace) -> Any:
    """``documents add FILE...`` / ``documents list`` as an action on the open store."""
    from graph.documents import Registry
    from graph.schema import schema
    from resolvers.documents import DocumentError
    from store import documents as document_store

    async def action(store: Store) -> None:
        if args.documents_command == "list":
            for record in await document_store.all_documents(store.db):
                print(f"{record.id}\t{record.source}\t{record.name or ''}")
            return
        registry = Registry(schema._schema)
        failed = []
        for path in args.files:
            try:
                body = path.read_text(encoding="utf-8")
                identifier = await registry.register(store.db, body, "cli", path.stem)
            except (OSError, UnicodeDecodeError, DocumentError) as error:
                failed.append(f"{path}: {error}")
                continue
            print(f"{identifier}\t{path}")
        if failed:
            raise SystemExit("Not registered:\n" + "\n".join(failed))

    return action


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(prog="ownership", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve_cmd = commands.add_parser("serve", help="run the API (HOST/PORT, MONGODB_URI)")
    serve_cmd.add_argument("--demo", action="store_true", help="load demo data, print tokens")
    commands.add_parser("demo", help="load the demo data into an empty database")
    generate_cmd = commands.add_parser(
        "generate", help="bulk-insert realistic demo data of any size (e.g. --apps 100000)"
    )
    generate_cmd.add_argument("--apps", type=int, default=1000, help="apps (default 1000)")
    generate_cmd.add_argument(
        "--seed", type=int, default=1, help="random seed (new data: new seed)"
    )
    token_cmd = commands.add_parser("token", help="manage bearer tokens")
    token_sub = token_cmd.add_subparsers(dest="token_command", required=True)
    token_commands.add_commands(token_sub)
    notices_cmd = commands.add_parser("notices", help="license renewal and maintenance notices")
    notices_sub = notices_cmd.add_subparsers(dest="notices_command", required=True)
    notices_sub.add_parser(
        "run", help="queue due notices once and deliver the outbox (SMTP_HOST, if set)"
    )
    rollups_cmd = commands.add_parser("rollups", help="Support's report counters")
    rollups_sub = rollups_cmd.add_subparsers(dest="rollups_command", required=True)
    rollups_sub.add_parser("verify", help="compare with a direct aggregation (exit 1 on drift)")
    rollups_sub.add_parser("rebuild", help="recompute from the apps (while nothing changes)")
    documents_cmd = commands.add_parser(
        "documents", help="trusted documents: operations clients send by ID (documentId)"
    )
    documents_sub = documents_cmd.add_subparsers(dest="documents_command", required=True)
    add_documents = documents_sub.add_parser(
        "add", help="register .graphql files (each checked against the schema); prints IDs"
    )
    add_documents.add_argument("files", nargs="+", type=Path)
    documents_sub.add_parser("list", help="list registered documents: ID, source, name")
    schema_cmd = commands.add_parser("schema", help="print or write the GraphQL SDL")
    schema_cmd.add_argument("--output", type=Path, help="file to write (default: stdout)")
    args = parser.parse_args(argv)

    settings = Settings.from_env(demo=getattr(args, "demo", False))
    if args.command == "serve":
        serve(settings)
    elif args.command == "demo":

        async def demo(store: Store) -> None:
            if not await is_empty(store.db):
                raise SystemExit("The database is not empty; demo data goes into an empty one")
            await load_demo(store.db)

        asyncio.run(_with_store(settings, "demo", demo))
        print("Loaded demo data")
    elif args.command == "generate":
        from ownership.generate import Collision, generate

        if args.apps < 1:
            raise SystemExit("--apps must be at least 1")

        async def bulk(store: Store) -> None:
            try:
                result = await generate(store.db, args.apps, seed=args.seed)
            except Collision as error:
                raise SystemExit(f"{error}; pass another --seed") from None
            print(f"Generated {result.apps} apps and {result.people} people", flush=True)

        asyncio.run(_with_store(settings, "generate", bulk))
    elif args.command == "token":
        print(token_commands.run(settings, args, exclusive_data))
    elif args.command == "notices":
        from ownership.mailer import SmtpSettings
        from ownership.tasks import run_once

        async def notices(store: Store) -> None:
            report = await run_once(store.db, SmtpSettings.from_env())
            print(
                f"Queued {report.notices.renewal_notices} renewal and "
                f"{report.notices.maintenance_notices} maintenance notices"
            )
            if report.delivery is None:
                print("SMTP_HOST is not set: mail stays in the outbox")
            else:
                delivery = report.delivery
                print(
                    f"Sent {delivery.sent}, retrying {delivery.retried}, failed {delivery.failed}"
                )

        asyncio.run(_with_store(settings, "notices run", notices))
    elif args.command == "rollups":
        return asyncio.run(_rollups(settings, args.rollups_command))
    elif args.command == "documents":
        command = f"documents {args.documents_command}"
        asyncio.run(_with_store(settings, command, _documents(args)))
    elif args.command == "schema":
        from graph.schema import schema

        text = schema.as_str() + "\n"
        if args.output:
            args.output.write_text(text, encoding="utf-8")
        else:
            sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
