"""``ownership token create|list|revoke`` (and ``create-node``, kept for older scripts)."""

from __future__ import annotations

import argparse
import asyncio
from datetime import datetime, timedelta
from typing import Any

from ownership.config import Settings
from resolvers.ids import decode, encode
from resolvers.tokens import MAX_ACTIVE_TOKENS, MAX_EXPIRY_DAYS, default_expiry_days
from store import people as people_store
from store import token_quota
from store import tokens as token_store
from store.db import Store
from store.pagination import Window
from store.people import Role
from store.records import now
from store.tokens import TokenRecord, TokenScope

SCOPES = [scope.value for scope in TokenScope]


def add_commands(token_sub: Any) -> None:
    create = token_sub.add_parser(
        "create", help="create a token (the secret is printed once, never stored)"
    )
    create.add_argument("--email", help="the person's email (FULL and READ_ONLY tokens)")
    create.add_argument("--name", help="create the person with this name if missing")
    create.add_argument("--support", action="store_true", help="make the person Mendix Support")
    create.add_argument("--scope", choices=SCOPES, default="FULL", help="default FULL")
    create.add_argument("--app", help="METRICS: the Mendix Cloud app's global ID")
    create.add_argument(
        "--expires-in-days",
        type=int,
        help=f"1..{MAX_EXPIRY_DAYS} (default OWNERSHIP_TOKEN_EXPIRY_DAYS, or 90)",
    )
    create.add_argument("--label", help="what it is for (default cli, or node:<subdomain>)")
    node = token_sub.add_parser(
        "create-node", help="create a METRICS token for an app's cloud node"
    )
    node.add_argument("--app", required=True, help="the app's global ID")
    node.add_argument("--expires-in-days", type=int)
    listing = token_sub.add_parser("list", help="list tokens (never their secrets)")
    listing.add_argument("--email", help="only this person's tokens")
    revoke = token_sub.add_parser("revoke", help="revoke a token by its ID (from `token list`)")
    revoke.add_argument("id", help="the token's ID (AccessToken global ID)")


def _expiry(days: int | None) -> datetime:
    if days is None:
        try:
            days = default_expiry_days()
        except ValueError as error:
            raise SystemExit(str(error)) from None
    if not 1 <= days <= MAX_EXPIRY_DAYS:
        raise SystemExit(f"--expires-in-days must be 1..{MAX_EXPIRY_DAYS}")
    return now() + timedelta(days=days)


async def _create_for_person(store: Store, args: argparse.Namespace) -> str:
    if not args.email:
        raise SystemExit("--email is needed for a FULL or READ_ONLY token")
    if args.app:
        raise SystemExit("--app is only for --scope METRICS")
    expires_at = _expiry(args.expires_in_days)  # refused before anything is written
    email = args.email.strip().lower()
    person = await people_store.get_person_by_email(store.db, email)
    if person is None:
        if not args.name:
            raise SystemExit(f"No person with email {args.email}; pass --name to create them")
        person = await people_store.create_person(store.db, email=email, name=args.name)
    if await token_quota.count_active(store.db, person.id, now()) >= MAX_ACTIVE_TOKENS:
        raise SystemExit(_too_many(args.email))  # refused before anything is written
    if args.support:
        await people_store.add_role(store.db, person.id, Role.SUPPORT)
    try:
        secret, _record = await token_quota.issue_within(
            store.db,
            person.id,
            MAX_ACTIVE_TOKENS,
            label=args.label or "cli",
            scope=TokenScope(args.scope),
            expires_at=expires_at,
        )
    except token_quota.TooManyTokens:
        raise SystemExit(_too_many(args.email)) from None
    return secret


def _too_many(email: str) -> str:
    return (
        f"{email} holds {MAX_ACTIVE_TOKENS} active tokens, the most allowed: revoke one first"
        " (`ownership token list --email ...`, then `ownership token revoke ID`)"
    )


async def _create_for_node(store: Store, args: argparse.Namespace) -> str:
    from store import apps as app_store
    from store.apps import Hosting

    if not args.app:
        raise SystemExit("--app is needed for a METRICS token (a cloud node's)")
    if getattr(args, "email", None) or getattr(args, "support", False):
        raise SystemExit("a METRICS token belongs to an app's node, not a person: drop --email")
    expires_at = _expiry(args.expires_in_days)
    key = decode(args.app.strip(), "App")
    if key is None:
        raise SystemExit(f"{args.app!r} is not an App ID (take `id` from an apps query)")
    app = await app_store.get_app(store.db, key)
    if app is None:
        raise SystemExit(f"No app with ID {args.app}")
    if app.hosting is not Hosting.MENDIX_CLOUD:
        raise SystemExit("Only Mendix Cloud apps have a cloud node")
    return await token_store.create_node_token(
        store.db,
        app.id,
        label=getattr(args, "label", None) or f"node:{app.subdomain}",
        expires_at=expires_at,
    )


def _when(value: datetime | None) -> str:
    return "-" if value is None else value.strftime("%Y-%m-%d %H:%M")


async def _rows(store: Store, email: str | None) -> list[list[str]]:
    owner = None
    if email:
        person = await people_store.get_person_by_email(store.db, email.strip().lower())
        if person is None:
            raise SystemExit(f"No person with email {email}")
        owner = person.id
    records: list[TokenRecord] = []
    window = Window(first=100)
    while True:
        page = await token_store.list_tokens(store.db, window, owner)
        records += page.items
        if not page.has_next_page:
            break
        window = Window(first=100, after=page.keys[-1])
    people = await people_store.get_people(
        store.db, list({r.person_id for r in records if r.person_id})
    )
    emails = {p.id: p.email for p in people if p is not None}
    header = ["ID", "LABEL", "SCOPE", "PERSON/APP", "CREATED", "EXPIRES", "LAST USED", "REVOKED"]
    rows = [header]
    for record in records:
        holder = (
            emails.get(record.person_id, str(record.person_id))
            if record.person_id is not None
            else f"app {encode('App', record.app_id)}"  # type: ignore[arg-type]
        )
        rows.append(
            [
                encode("AccessToken", record.key),
                record.label,
                record.scope.value,
                holder,
                _when(record.created_at),
                _when(record.expires_at) + (" (expired)" if record.expired(now()) else ""),
                _when(record.last_used_at),
                _when(record.revoked_at),
            ]
        )
    return rows


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


async def _revoke(store: Store, value: str) -> str:
    key = decode(value.strip(), "AccessToken")
    if key is None:
        raise SystemExit(f"{value!r} is not an access token ID (see `ownership token list`)")
    try:
        record = await token_store.revoke_token(store.db, key, None)
    except token_store.NotRevoked as refusal:
        if refusal.existing is None:
            raise SystemExit(f"No access token with ID {value}") from None
        raise SystemExit(f"Access token {value} is already revoked") from None
    return f"Revoked {value} ({record.label}, {record.scope.value})"


def run(settings: Settings, args: argparse.Namespace, exclusive_data: Any) -> str:
    """Run one ``token`` subcommand in ``exclusive_data`` (ownership/cli.py: refused while a
    server holds the embedded data file); returns what to print."""
    command = args.token_command

    async def with_store() -> str:
        async with exclusive_data(settings, f"token {command}") as store:
            if command == "create-node" or (
                command == "create" and args.scope == TokenScope.METRICS.value
            ):
                return await _create_for_node(store, args)
            if command == "create":
                return await _create_for_person(store, args)
            if command == "list":
                return _table(await _rows(store, args.email))
            return await _revoke(store, args.id)

    return asyncio.run(with_store())
