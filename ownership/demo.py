"""Demo data: a few dozen apps of both hosting types, built through the use cases."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from ownership.demo_activity import DemoApp, add_activity
from resolvers import apps as app_cases
from resolvers import contacts as contact_cases
from resolvers import environments as env_cases
from resolvers import licenses as license_cases
from resolvers import people as people_cases
from resolvers import permissions as permission_cases
from resolvers.ids import encode
from store import people as people_store
from store.db import Database
from store.people import PersonRecord, Role
from store.records import now

SUPPORT_EMAIL = "support@mendix.example"
CONTACT_EMAIL = "tess.turner@acme.example"

_FIRST = [
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
_LAST = [
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
_APPS = [
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
        first, last = _FIRST[index % 20], _LAST[(index * 7) % 20]
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
        name = f"{_APPS[index % len(_APPS)]} {_WORDS[index // len(_APPS)]}"
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
