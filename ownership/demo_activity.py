"""Demo activity on top of the demo apps, so every dashboard panel has something to show:
an INACTIVE technical contact, Mendix Cloud apps whose alert email is off, Manage permissions
on production held by a team member who is not the contact, alerts, support requests (open,
triaged, resolved, an approved contact change) and with them an audit trail. All through the
use cases, as a user would make them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from resolvers import alerts as alert_cases
from resolvers import environments as env_cases
from resolvers import people as people_cases
from resolvers import permissions as permission_cases
from resolvers import support as support_cases
from resolvers.ids import encode
from store.apps import AppRecord
from store.db import Database
from store.people import PersonRecord


@dataclass
class DemoApp:
    app: AppRecord
    contact: PersonRecord
    members: list[PersonRecord]
    environments: dict[str, Any] = field(default_factory=dict)  # name -> environment view

    @property
    def gid(self) -> str:
        return encode("App", self.app.id)

    def env_gid(self, name: str) -> str:
        return encode("Environment", self.environments[name].id)


def _cloud(apps: list[DemoApp]) -> list[DemoApp]:
    return [a for a in apps if a.environments]


async def _alerts(db: Database, apps: list[DemoApp]) -> None:
    """Status changes reported by the apps' nodes: warnings, a critical, recoveries."""
    series = [
        ("Production", [("APP_CPU", 85.0), ("APP_CPU", 97.0), ("APP_CPU", 40.0)]),
        ("Production", [("APP_DISK", 80.0), ("DATABASE_FREE_SPACE", 8.0)]),
        ("Acceptance", [("APP_MEMORY", 91.0), ("APP_MEMORY", 50.0)]),
    ]
    for demo, (env_name, samples) in zip(_cloud(apps), series, strict=False):
        for category, value in samples:
            await alert_cases.report_metrics(
                db,
                demo.app.id,
                {
                    "environment_id": demo.env_gid(env_name),
                    "samples": [{"category": category, "value": value}],
                },
            )


async def _support(db: Database, support: PersonRecord, apps: list[DemoApp]) -> None:
    on_prem = [a for a in apps if not a.environments]
    cloud = _cloud(apps)
    requests = [
        (cloud[0], "INCIDENT", "Production is slow every morning", "HIGH", "HIGH", None),
        (cloud[1], "QUESTION", "How do we rotate the API keys?", "LOW", "MEDIUM", None),
        (on_prem[0], "CHANGE", "Add a second technical contact", "MEDIUM", "MEDIUM", "member"),
        (on_prem[1], "QUESTION", "Renewal quote for next year", "LOW", "LOW", None),
    ]
    made = []
    for demo, kind, subject, impact, urgency, contact in requests:
        data: dict[str, Any] = {
            "kind": kind,
            "app_id": demo.gid,
            "subject": subject,
            "body": f"{subject}. Details in the attached notes.",
            "impact": impact,
            "urgency": urgency,
        }
        if contact:
            ready = [m for m in demo.members if m.mendix_id and m.id != demo.contact.id]
            if not ready:
                continue
            data["technical_contact_id"] = encode("Person", ready[0].id)
        made.append(await support_cases.submit(db, demo.contact, data))
    gid = {request.subject: encode("SupportRequest", request.id) for request in made}
    await support_cases.triage(
        db, support, {"request_id": gid[requests[0][2]], "impact": "HIGH", "urgency": "MEDIUM"}
    )
    resolution = "Keys rotate under Environments > API."
    await support_cases.resolve(
        db, support, {"request_id": gid[requests[1][2]], "resolution": resolution}
    )
    if requests[2][2] in gid:
        await support_cases.approve(db, support, {"request_id": gid[requests[2][2]]})


async def add_activity(db: Database, support: PersonRecord, apps: list[DemoApp]) -> None:
    cloud = _cloud(apps)
    if len(cloud) < 4 or len(apps) - len(cloud) < 2:
        return  # too few apps to show it all (tests load a handful)
    # a technical contact who left: INACTIVE (Support marks it)
    leaver = next(
        a.contact
        for a in apps[4:]
        if a.contact.mendix_id and a.contact.email != apps[0].contact.email
    )
    await people_cases.set_person_status(
        db, support, {"person_id": encode("Person", leaver.id), "status": "INACTIVE"}
    )
    # alert email switched off in every environment of two Mendix Cloud apps
    for demo in cloud[-2:]:
        for name in demo.environments:
            await alert_cases.update_alert_settings(
                db, demo.contact, {"environment_id": demo.env_gid(name), "email_enabled": False}
            )
    # Manage permissions on production granted to a team member who is not the contact
    for demo in cloud[2:4]:
        await permission_cases.grant_rights(
            db,
            demo.contact,
            {
                "environment_id": demo.env_gid("Production"),
                "person_id": encode("Person", demo.members[0].id),
                "rights": ["MANAGE_PERMISSIONS"],
            },
        )
    # production running everywhere, one acceptance environment stopped (the contacts)
    for demo in cloud:
        await env_cases.set_environment_state(
            db, demo.contact, {"environment_id": demo.env_gid("Production"), "state": "RUNNING"}
        )
    await env_cases.set_environment_state(
        db, cloud[1].contact, {"environment_id": cloud[1].env_gid("Acceptance"), "state": "STOPPED"}
    )
    await _alerts(db, apps)
    await _support(db, support, apps)
