"""C2: alert settings, metric reports raising one alert per status change, alert history."""

from __future__ import annotations

import asyncio
import random
from typing import Any

from store.people import PersonRecord
from tests.graph.cloud import (
    ALERT_SETTINGS,
    REPORT,
    as_node,
    cloud,
    grant,
    refused,
    report,
)
from tests.helpers import create_app, dump, gql, make_person, pid

F = "updateAlertSettings"

HISTORY = """
query ($id: ID!, $env: ID, $category: AlertCategory) {
  app(id: $id) {
    alerts(first: 100, environmentId: $env, category: $category) {
      totalCount
      nodes { category status previousStatus sequence environmentName production
              recipients { id } emailRecipients environment { id } }
    }
  }
}"""


async def read_alert(db: Any, viewer: PersonRecord, alert_id: str) -> dict[str, Any]:
    document = "query ($id: ID!) { node(id: $id) { ... on Alert { emailRecipients recovered } } }"
    data = await gql(db, viewer, document, {"id": alert_id})
    assert data["node"] is not None
    return dict(data["node"])


def statuses(payload: dict[str, Any]) -> list[tuple[str, str, str]]:
    assert payload["userErrors"] == [], payload
    return [(a["category"], a["previousStatus"], a["status"]) for a in payload["alerts"]]


async def test_threshold_input_is_validated(db: Any, support: PersonRecord) -> None:
    c = await cloud(db, support)
    env = c.production

    async def bad(code: str, **input: Any) -> None:
        await refused(db, c.contact, ALERT_SETTINGS, F, code, environmentId=env, **input)

    def one(category: str, warning: float, critical: float) -> list[dict[str, Any]]:
        return [{"category": category, "warning": warning, "critical": critical}]

    await bad("INVALID_THRESHOLD", thresholds=one("APP_CPU", 80, 120))  # range
    await bad("INVALID_THRESHOLD", thresholds=one("APP_DISK", -1, 85))
    await bad("INVALID_THRESHOLD", thresholds=one("APP_DISK", 90, 80))  # warning before critical
    await bad("INVALID_THRESHOLD", thresholds=one("APP_MEMORY", 90, 90))
    await bad("INVALID_THRESHOLD", thresholds=one("DATABASE_FREE_SPACE", 10, 25))  # inverted
    await bad("INVALID_THRESHOLD", thresholds=one("APP_NOT_RESPONDING", 0, 60))
    await bad("INVALID_THRESHOLD", thresholds=one("APP_CPU", 1, 2) + one("APP_CPU", 3, 4))
    await bad("INVALID_INPUT")  # nothing to change
    await bad("INVALID_ID", recipientIds=[c.production])
    data = await gql(
        db,
        c.contact,
        ALERT_SETTINGS,
        {
            "input": {
                "environmentId": env,
                "thresholds": one("DATABASE_FREE_SPACE", 30, 5) + one("APP_CPU", 60, 80),
                "emailEnabled": False,
            }
        },
    )
    settings = data[F]["environment"]["alertSettings"]
    rows = {t["category"]: (t["warning"], t["critical"]) for t in settings["thresholds"]}
    assert rows["DATABASE_FREE_SPACE"] == (30, 5) and rows["APP_CPU"] == (60, 80)
    assert rows["APP_DISK"] == (75, 85)  # untouched categories keep their values
    assert settings["emailEnabled"] is False


async def test_who_configures_alerts_and_who_receives_them(db: Any, support: PersonRecord) -> None:
    c = await cloud(db, support)
    env = c.production
    await refused(
        db, c.member, ALERT_SETTINGS, F, "MISSING_RIGHT", environmentId=env, emailEnabled=False
    )
    await refused(
        db, c.contact, ALERT_SETTINGS, F, "RECIPIENT_WITHOUT_MONITORING_ACCESS",
        environmentId=env, recipientIds=[pid(c.member)],
    )  # fmt: skip
    await refused(
        db, c.outsider, ALERT_SETTINGS, F, "NOT_FOUND", environmentId=env, emailEnabled=False
    )
    await grant(db, c.contact, env, c.member, "ACCESS_TO_MONITORING")
    data = await gql(
        db,
        c.member,
        ALERT_SETTINGS,
        {"input": {"environmentId": env, "recipientIds": [pid(c.member)]}},
    )
    assert data[F]["environment"]["alertSettings"]["recipients"] == [{"id": pid(c.member)}]
    alert = (await report(db, c.app["id"], env, APP_DISK=80))["alerts"][0]
    assert alert["emailRecipients"] == []  # the node token sees no person
    alert = await read_alert(db, c.contact, alert["id"])
    assert sorted(alert["emailRecipients"]) == sorted([c.contact.email, c.member.email])
    mails = await db["notifications"].find({"kind": "ALERT"}).to_list(None)
    assert sorted(m["to_email"] for m in mails) == sorted([c.contact.email, c.member.email])
    assert all(m["subject"].startswith("[WARNING]") and "APP_DISK" in m["subject"] for m in mails)
    # a recipient who loses monitoring access is no longer alerted
    revoke = {"environmentId": env, "personId": pid(c.member), "rights": ["ACCESS_TO_MONITORING"]}
    await gql(
        db,
        c.contact,
        "mutation ($i: EnvironmentRightsInput!) { revokeEnvironmentRights(input: $i)"
        " { userErrors { code } } }",
        {"i": revoke},
    )
    alert = (await report(db, c.app["id"], env, APP_DISK=90))["alerts"][0]
    alert = await read_alert(db, c.contact, alert["id"])
    assert alert["emailRecipients"] == [c.contact.email]
    await gql(
        db, c.contact, ALERT_SETTINGS, {"input": {"environmentId": env, "emailEnabled": False}}
    )
    alert = (await report(db, c.app["id"], env, APP_DISK=10))["alerts"][0]
    alert = await read_alert(db, c.contact, alert["id"])
    assert alert["emailRecipients"] == [] and alert["recovered"] is True
    # emails: 2 for WARNING, 1 for CRITICAL, none once email is off
    assert await db["notifications"].count_documents({"kind": "ALERT"}) == 3
    stored = await db["alerts"].find_one({"status": "NORMAL"})
    assert stored["recipient_ids"] == [c.contact.id] and stored["email_enabled"] is False


async def test_one_alert_per_status_change_recovery_included(
    db: Any, support: PersonRecord
) -> None:
    c = await cloud(db, support)
    app, env = c.app["id"], c.production
    steps = [
        ({"APP_CPU": 50}, []),
        ({"APP_CPU": 75}, [("APP_CPU", "NORMAL", "WARNING")]),
        ({"APP_CPU": 80}, []),  # still warning: no new alert
        ({"APP_CPU": 95, "APP_DISK": 70}, [("APP_CPU", "WARNING", "CRITICAL")]),
        ({"APP_CPU": 99}, []),
        ({"APP_CPU": 20}, [("APP_CPU", "CRITICAL", "NORMAL")]),
        ({"DATABASE_FREE_SPACE": 60}, []),  # lower is worse
        ({"DATABASE_FREE_SPACE": 20}, [("DATABASE_FREE_SPACE", "NORMAL", "WARNING")]),
        ({"DATABASE_FREE_SPACE": 5}, [("DATABASE_FREE_SPACE", "WARNING", "CRITICAL")]),
        ({"APP_NOT_RESPONDING": 400}, [("APP_NOT_RESPONDING", "NORMAL", "CRITICAL")]),
        ({"APP_NOT_RESPONDING": 0}, [("APP_NOT_RESPONDING", "CRITICAL", "NORMAL")]),
    ]
    for samples, expected in steps:
        assert statuses(await report(db, app, env, **samples)) == expected, samples
    history = (await gql(db, c.contact, HISTORY, {"id": app}))["app"]["alerts"]
    assert history["totalCount"] == 7
    assert {a["production"] for a in history["nodes"]} == {True}
    cpu = (await gql(db, c.contact, HISTORY, {"id": app, "category": "APP_CPU"}))["app"]["alerts"]
    assert [a["sequence"] for a in cpu["nodes"]] == [1, 2, 3]
    assert (await gql(db, c.contact, HISTORY, {"id": app, "env": c.acceptance}))["app"]["alerts"][
        "totalCount"
    ] == 0


async def test_reports_are_scoped_to_the_nodes_app(db: Any, support: PersonRecord) -> None:
    c = await cloud(db, support)
    other_contact = await make_person(db, "o@x.example", "O", "o")
    other = await create_app(db, support, other_contact, "MENDIX_CLOUD", "other")
    variables = {
        "input": {"environmentId": c.production, "samples": [{"category": "APP_CPU", "value": 99}]}
    }
    before = await dump(db)
    refused_ = (await as_node(db, other["id"], REPORT, variables))["reportMetrics"]
    assert [e["code"] for e in refused_["userErrors"]] == ["NOT_FOUND"]
    person = (await gql(db, c.contact, REPORT, variables))["reportMetrics"]
    assert [e["code"] for e in person["userErrors"]] == ["FORBIDDEN"]
    for samples, code in (
        ([{"category": "APP_CPU", "value": 101}], "INVALID_INPUT"),
        ([{"category": "APP_CPU", "value": float("nan")}], None),
        ([], "BLANK"),
    ):
        data = {"input": {"environmentId": c.production, "samples": samples}}
        if code is None:  # NaN is no JSON/GraphQL float; the schema refuses it
            continue
        payload = (await as_node(db, c.app["id"], REPORT, data))["reportMetrics"]
        assert [e["code"] for e in payload["userErrors"]] == [code]
    assert await dump(db) == before


async def test_concurrent_identical_reports_raise_one_alert(db: Any, support: PersonRecord) -> None:
    c = await cloud(db, support)
    results = await asyncio.gather(
        *(report(db, c.app["id"], c.production, APP_MEMORY=96) for _ in range(25))
    )
    raised = [a for payload in results for a in payload["alerts"]]
    assert [(a["previousStatus"], a["status"]) for a in raised] == [("NORMAL", "CRITICAL")]
    assert await db["alerts"].count_documents({}) == 1
    assert await db["events"].count_documents({}) == 1
    assert await db["notifications"].count_documents({"kind": "ALERT"}) == 1  # the contact


async def test_concurrent_mixed_reports_raise_one_alert_per_change(
    db: Any, support: PersonRecord
) -> None:
    c = await cloud(db, support)
    rng = random.Random(5)
    values = [rng.choice([10, 50, 80, 88, 99]) for _ in range(40)]  # APP_DISK: 75/85
    results = await asyncio.gather(
        *(report(db, c.app["id"], c.production, APP_DISK=v) for v in values)
    )
    assert all(payload["userErrors"] == [] for payload in results)
    alerts = await db["alerts"].find({"category": "APP_DISK"}).sort("sequence", 1).to_list(None)
    assert [a["sequence"] for a in alerts] == list(range(1, len(alerts) + 1))
    status = "NORMAL"
    for alert in alerts:  # a chain of real changes: each starts where the previous ended
        assert alert["previous_status"] == status != alert["status"]
        status = alert["status"]
    stored = await db["apps"].find_one({"subdomain": "shop"})
    assert stored["environments"][0]["alert_status"]["APP_DISK"] == status
    assert len(alerts) == sum(len(p["alerts"]) for p in results) > 1


async def test_alert_history_is_scoped(db: Any, support: PersonRecord) -> None:
    c = await cloud(db, support)
    await report(db, c.app["id"], c.production, APP_CPU=99)
    await report(db, c.app["id"], c.acceptance, APP_CPU=99)

    async def count(viewer: PersonRecord) -> int | None:
        app = (await gql(db, viewer, HISTORY, {"id": c.app["id"]}))["app"]
        return None if app is None else app["alerts"]["totalCount"]

    assert await count(c.contact) == 2
    assert await count(support) == 2
    assert await count(c.member) == 0  # on the team, but no Access to monitoring
    await grant(db, c.contact, c.acceptance, c.member, "ACCESS_TO_MONITORING")
    assert await count(c.member) == 1
    assert await count(c.outsider) is None
    alert_id = (await db["alerts"].find_one({"environment_id": {"$exists": True}}))["_id"]
    from resolvers.ids import encode

    node = "query ($id: ID!) { node(id: $id) { ... on Alert { status } } }"
    gid = encode("Alert", alert_id)
    assert (await gql(db, c.contact, node, {"id": gid}))["node"] == {"status": "CRITICAL"}
    assert (await gql(db, c.outsider, node, {"id": gid}))["node"] is None
