"""Demo data: a few dozen apps of both hosting types, built through the use cases."""

from __future__ import annotations

import json
import os
import random
from datetime import timedelta
from pathlib import Path
from typing import Any

from ownership.demo_activity import DemoApp, add_activity
from resolvers import apps as app_cases
from resolvers import contacts as contact_cases
from resolvers import environments as env_cases
from resolvers import licenses as license_cases
from resolvers import people as people_cases
from resolvers import permissions as permission_cases
from resolvers.ids import encode
from resolvers.tokens import default_expiry_days
from store import people as people_store
from store import tokens as token_store
from store.db import Database
from store.people import PersonRecord, Role
from store.records import now

SUPPORT_EMAIL = "support@mendix.example"
CONTACT_EMAIL = "tess.turner@acme.example"
# who `make run` prints a token for, and where it keeps them between starts (the data dir)
DEMO_VIEWERS = (("Support", SUPPORT_EMAIL), ("Technical contact", CONTACT_EMAIL))
DEMO_TOKENS_FILE = "demo-tokens.json"

FIRST_NAMES = [
    "Ada",
    "Ben",
    "Chloe",
    "Dev",
    "Eva",
    "Finn",
    "Gwen",
    "Hugo",
    "Ines",
    "Joost",
    "Kim",
    "Lars",
    "Mira",
    "Noor",
    "Otto",
    "Pia",
    "Quinn",
    "Ravi",
    "Sofie",
    "Timo",
]
LAST_NAMES = [
    "Jansen",
    "de Vries",
    "Bakker",
    "Visser",
    "Smit",
    "Meijer",
    "Mulder",
    "Bos",
    "Vos",
    "Peters",
    "Hendriks",
    "Dekker",
    "Brouwer",
    "Dijkstra",
    "Kok",
    "Jacobs",
    "Vermeulen",
    "van Dijk",
    "Willems",
    "Hoekstra",
]
APP_NAMES = [
    "Claims Portal",
    "Fleet Tracker",
    "HR Onboarding",
    "Inventory Hub",
    "Field Service",
    "Quote Builder",
    "Partner Portal",
    "Expense Flow",
    "Asset Registry",
    "Lab Results",
    "Order Desk",
    "Shift Planner",
]
_WORDS = ["Nord", "Zuid", "Oost", "West", "Prime", "Core"]


def _gid(person: PersonRecord) -> str:
    return encode("Person", person.id)


_REGIONS = ("eu-central-1", "us-east-1")


def _demo_license(app_id: str, index: int) -> dict[str, Any]:
    """Expiries spread over the coming months, so some On-Premises ones are due notices."""
    today = now().replace(hour=0, minute=0, second=0, microsecond=0)
    return {
        "app_id": app_id,
        "license_id": f"LIC-{1000 + index}",
        "plan": ("Standard", "Premium")[index % 2],
        "named_users": 25 * (1 + index % 4),
        "concurrent_users": 5 * (1 + index % 4),
        "starts_at": today - timedelta(days=300),
        "expires_at": today + timedelta(days=5 + 11 * index),
    }


async def is_empty(db: Database) -> bool:
    return await db[people_store.COLLECTION].count_documents({}) == 0


async def load_demo(db: Database, apps: int = 36, seed: int = 7) -> dict[str, Any]:
    """Create the demo people and apps; returns the support and technical-contact people."""
    rng = random.Random(seed)
    support = await people_store.create_person(
        db, email=SUPPORT_EMAIL, name="Sam Support", mendix_id="sam.support", roles=(Role.SUPPORT,)
    )

    async def person(email: str, name: str, mendix_id: str | None) -> PersonRecord:
        data = {"email": email, "name": name, "mendix_id": mendix_id}
        return await people_cases.create_person(db, support, data)

    tess = await person(CONTACT_EMAIL, "Tess Turner", "tess.turner")
    executives = [
        await person("alex.account@mendix.example", "Alex Account", "alex.account"),
        await person("robin.sales@mendix.example", "Robin Sales", "robin.sales"),
    ]
    people = [tess]
    for index in range(24):
        first, last = FIRST_NAMES[index % 20], LAST_NAMES[(index * 7) % 20]
        handle = f"{first}.{last}".lower().replace(" ", "")
        mendix_id = None if index % 5 == 4 else f"{handle}{index}"
        people.append(
            await person(f"{handle}{index}@customer.example", f"{first} {last}", mendix_id)
        )
    no_mendix = [p for p in people if p.mendix_id is None]

    async def call(use_case: Any, **data: Any) -> Any:
        return await use_case(db, support, data)

    built: list[DemoApp] = []
    for index in range(apps):
        hosting = "ON_PREMISES" if index % 3 == 0 else "MENDIX_CLOUD"
        contact = tess if index % 6 == 0 else rng.choice(people)
        if index == 1:
            contact = no_mendix[0]  # the app still ORDERED: its contact has no MendixID yet
        name = f"{APP_NAMES[index % len(APP_NAMES)]} {_WORDS[index // len(APP_NAMES)]}"
        app = await call(
            app_cases.create_app,
            name=name,
            subdomain=name.lower().replace(" ", "-"),
            hosting=hosting,
            technical_contact_id=_gid(contact),
            account_executive_id=_gid(executives[index % 2]),
            region=None if hosting == "ON_PREMISES" else _REGIONS[index % 2],
        )
        app_id = encode("App", app.id)
        members = rng.sample([p for p in people if p.id != contact.id], k=rng.randint(1, 4))
        for member in members:
            await call(app_cases.add_team_member, app_id=app_id, person_id=_gid(member))
        demo = DemoApp(app, contact, members)
        built.append(demo)
        if hosting == "MENDIX_CLOUD":  # environments, and a grant by the technical contact
            for env_name, production in (("Acceptance", False), ("Production", True)):
                env = await call(
                    env_cases.add_environment, app_id=app_id, name=env_name, production=production
                )
                demo.environments[env_name] = env
            await permission_cases.grant_rights(
                db,
                contact,
                {
                    "environment_id": encode("Environment", env.id),
                    "person_id": _gid(members[0]),
                    "rights": ["ACCESS_TO_MONITORING", "VIEW_LOGS"],
                },
            )
        if index == 3:  # an On-Premises app with two technical contacts
            second = next(p for p in people if p.mendix_id and p.id != contact.id)
            await call(contact_cases.add_technical_contact, app_id=app_id, person_id=_gid(second))
        if contact.mendix_id is not None and index % 4 != 2:
            await call(contact_cases.deliver_app, app_id=app_id)
        await call(license_cases.add_license, **_demo_license(app_id, index))
    await add_activity(db, support, built)
    return {"support": support, "contact": tess}


def _kept_secrets(path: Path | None) -> dict[str, str]:
    if path is None:
        return {}
    try:
        kept = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(kept, dict):
        return {}
    return {k: v for k, v in kept.items() if isinstance(k, str) and isinstance(v, str)}


def _keep_secrets(path: Path, secrets: dict[str, str]) -> None:
    """Write the file readable by its owner only, atomically (temporary file + rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        json.dump(secrets, out, indent=2)
    os.replace(temporary, path)


async def demo_tokens(db: Database, kept: Path | None) -> list[tuple[str, str, str]]:
    """(role, email, secret) of a FULL token for each demo viewer, for the start banner.

    The secrets are kept in ``kept`` (``data/demo-tokens.json``, mode 0600) and reused on
    the next start while they are still valid (known to this database, theirs, FULL, not
    expired or revoked); only missing or invalid ones are minted, so restarts don't pile up
    tokens. Without a file (``kept`` None) every start mints new ones."""
    secrets = _kept_secrets(kept)
    shown: list[tuple[str, str, str]] = []
    changed = False
    for role, email in DEMO_VIEWERS:
        person = await people_store.get_person_by_email(db, email)
        if person is None:
            continue
        secret = secrets.get(email)
        record = (
            None if secret is None else (await token_store.find_token_and_person(db, secret))[0]
        )
        if (
            secret is None
            or record is None
            or record.person_id != person.id
            or record.scope is not token_store.TokenScope.FULL
            or not record.usable(now())
        ):
            expires_at = now() + timedelta(days=default_expiry_days())
            secret = await token_store.create_token(
                db, person.id, label="demo", expires_at=expires_at
            )
            secrets[email] = secret
            changed = True
        shown.append((role, email, secret))
    if changed and kept is not None:
        _keep_secrets(kept, secrets)
    return shown
