"""Flexible app views through GraphQL: orderBy with keyset cursors, the wider AppsFilter (lists,
people, region, plans, expiry, combinable risks), the Person app connections, typed errors."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from bson import ObjectId

from resolvers import app_views
from store import apps as app_store
from store import licenses as license_store
from store import people as people_store
from store.apps import Hosting, LicenseRecord
from store.people import PersonRecord, PersonStatus
from store.records import now
from tests.helpers import dump, gid, gql, gql_errors, make_person, pid

APPS = """
query ($first: Int, $after: String, $last: Int, $before: String, $order: AppOrder,
       $filter: AppsFilter) {
  apps(first: $first, after: $after, last: $last, before: $before, orderBy: $order,
       filter: $filter) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { subdomain } }
  }
}"""
PERSON = """
query ($id: ID!, $order: AppOrder, $filter: AppsFilter) {
  node(id: $id) { ... on Person {
    technicalContactOf(orderBy: $order, filter: $filter) { totalCount nodes { subdomain } }
    teamMemberOf(orderBy: $order, filter: $filter) { totalCount nodes { subdomain } }
    accountExecutiveOf(orderBy: $order, filter: $filter) { totalCount nodes { subdomain } }
  } }
}"""
RENEW = """
mutation ($input: RenewLicenseInput!) { renewLicense(input: $input) { userErrors { code } } }"""

# subdomain: (name, hosting, region, license days ahead and plan or None); created in this order
APPS_SEEDED = {
    "kilo": ("kilo", Hosting.ON_PREMISES, None, (40, "Standard")),
    "alpha": ("Alpha", Hosting.MENDIX_CLOUD, "eu-1", (10, "Premium")),
    "echo": ("echo", Hosting.MENDIX_CLOUD, "us-1", None),
    "bravo": ("bravo", Hosting.ON_PREMISES, None, (10, "Standard")),
    "delta": ("Alpha", Hosting.MENDIX_CLOUD, "eu-1", (-5, "Standard")),  # a name tie; expired
    "zulu": ("zulu", Hosting.ON_PREMISES, None, (400, "Premium")),
}
DELIVERED = ["alpha", "echo", "zulu"]  # in this order (ties in a millisecond: by id)


async def _license(db: Any, app_id: ObjectId, days: int, plan: str) -> str:
    expires = now() + timedelta(days=days)
    license_id = f"L-{ObjectId()}"
    license = LicenseRecord(
        license_id=license_id, plan=plan, named_users=10, concurrent_users=5,
        starts_at=expires - timedelta(days=365), expires_at=expires,
    )  # fmt: skip
    assert await license_store.add_license(db, app_id, license) is not None
    return license_id


async def _world(db: Any) -> dict[str, Any]:
    tess = await make_person(db, "tess@example.com", "Tess", "tess")
    ann = await make_person(db, "ann@example.com", "Ann")  # no MendixID
    ae = await make_person(db, "ae@example.com", "Ed")
    apps, licenses = {}, {}
    for subdomain, (name, hosting, region, license) in APPS_SEEDED.items():
        contact = ann if subdomain in ("kilo", "bravo") else tess
        app = await app_store.create_app(
            db, name=name, subdomain=subdomain, hosting=hosting, technical_contact_id=contact.id,
            region=region, account_executive_id=ae.id if subdomain in ("alpha", "zulu") else None,
        )  # fmt: skip
        apps[subdomain] = app.id
        if license is not None:
            licenses[subdomain] = await _license(db, app.id, *license)
    assert await app_store.add_member(db, apps["zulu"], ann.id)
    for subdomain in DELIVERED:
        assert await app_store.deliver(db, apps[subdomain], (tess.id,))
    return {"tess": tess, "ann": ann, "ae": ae, "apps": apps, "licenses": licenses}


def _subdomains(connection: dict[str, Any]) -> list[str]:
    if "edges" in connection:
        return [edge["node"]["subdomain"] for edge in connection["edges"]]
    return [node["subdomain"] for node in connection["nodes"]]


# the reference orders of APPS_SEEDED (ties by id = creation order)
EXPECTED = {
    ("NAME", "ASC"): ["alpha", "delta", "bravo", "echo", "kilo", "zulu"],  # code point order
    ("ORDERED_AT", "ASC"): list(APPS_SEEDED),
    ("DELIVERED_AT", "ASC"): [*DELIVERED, "kilo", "bravo", "delta"],  # not delivered: last
    ("NEXT_LICENSE_EXPIRY", "ASC"): ["alpha", "bravo", "kilo", "zulu", "echo", "delta"],
}


@pytest.mark.parametrize("field", ["NAME", "ORDERED_AT", "DELIVERED_AT", "NEXT_LICENSE_EXPIRY"])
@pytest.mark.parametrize("direction", ["ASC", "DESC"])
async def test_every_order_pages_both_ways_like_the_sorted_list(
    db: Any, support: PersonRecord, field: str, direction: str
) -> None:
    await _world(db)
    expected = EXPECTED[(field, "ASC")]
    if direction == "DESC":
        expected = expected[::-1]
    order = {"field": field, "direction": direction}
    whole = (await gql(db, support, APPS, {"first": 100, "order": order}))["apps"]
    assert _subdomains(whole) == expected and whole["totalCount"] == 6
    cursors = [edge["cursor"] for edge in whole["edges"]]
    for index, cursor in enumerate(cursors):
        after = {"first": 2, "after": cursor, "order": order}
        page = (await gql(db, support, APPS, after))["apps"]
        assert _subdomains(page) == expected[index + 1 : index + 3]
        assert page["pageInfo"]["hasNextPage"] == (index + 3 < len(expected))
        before = {"last": 2, "before": cursor, "order": order}
        page = (await gql(db, support, APPS, before))["apps"]
        assert _subdomains(page) == expected[max(0, index - 2) : index]
        assert page["pageInfo"]["hasPreviousPage"] == (index > 2)


async def test_direction_defaults_to_ascending_and_no_order_is_oldest_first(
    db: Any, support: PersonRecord
) -> None:
    await _world(db)
    named = await gql(db, support, APPS, {"order": {"field": "NAME"}})
    assert _subdomains(named["apps"]) == EXPECTED[("NAME", "ASC")]
    plain = await gql(db, support, APPS, {})
    assert _subdomains(plain["apps"]) == list(APPS_SEEDED)


async def test_the_next_expiry_follows_license_changes_and_time(
    db: Any, support: PersonRecord, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = await _world(db)
    order = {"field": "NEXT_LICENSE_EXPIRY", "direction": "ASC"}
    renewal = {
        "appId": gid("App", world["apps"]["alpha"]),
        "licenseId": world["licenses"]["alpha"],
        "expiresAt": (now() + timedelta(days=500)).isoformat(),
    }
    data = await gql(db, support, RENEW, {"input": renewal})
    assert data["renewLicense"]["userErrors"] == []
    renewed = await gql(db, support, APPS, {"order": order})
    assert _subdomains(renewed["apps"]) == ["bravo", "kilo", "zulu", "alpha", "echo", "delta"]
    await _license(db, world["apps"]["echo"], 1, "Standard")  # a new, sooner license
    sooner = await gql(db, support, APPS, {"order": order})
    assert _subdomains(sooner["apps"])[:2] == ["echo", "bravo"]
    # 50 days on: echo's, bravo's and kilo's licenses have expired, nobody wrote anything
    later = now() + timedelta(days=50)
    monkeypatch.setattr(app_views, "now", lambda: later)
    aged = await gql(db, support, APPS, {"order": order})
    assert _subdomains(aged["apps"]) == ["zulu", "alpha", "kilo", "echo", "bravo", "delta"]


FILTERS: list[tuple[dict[str, Any], list[str]]] = [
    ({"hosting": "ON_PREMISES"}, ["kilo", "bravo", "zulu"]),  # one value, coerced to a list
    ({"hosting": ["ON_PREMISES", "MENDIX_CLOUD"]}, list(APPS_SEEDED)),
    ({"hosting": []}, []),
    ({"status": ["DELIVERED"], "hosting": ["MENDIX_CLOUD"]}, ["alpha", "echo"]),
    ({"region": ["eu-1", "us-1"]}, ["alpha", "echo", "delta"]),
    ({"licensePlan": ["Premium"]}, ["alpha", "zulu"]),
    ({"licenseExpiresWithinDays": 30}, ["alpha", "bravo"]),
    ({"licenseExpiresWithinDays": 3650, "licensePlan": ["Standard"]}, ["kilo", "bravo"]),
    ({"risks": ["LICENSE_EXPIRING"]}, ["alpha", "bravo"]),
    ({"risks": ["LICENSE_EXPIRING"], "licenseExpiresWithinDays": 60}, ["kilo", "alpha", "bravo"]),
    ({"risks": ["TECHNICAL_CONTACT_WITHOUT_MENDIX_ID"]}, ["kilo", "bravo"]),
    ({"risks": ["TECHNICAL_CONTACT_WITHOUT_MENDIX_ID", "LICENSE_EXPIRING"]}, ["bravo"]),
    ({"risks": ["NO_ALERT_EMAIL"]}, ["alpha", "echo", "delta"]),
    ({"risks": ["NO_ALERT_EMAIL", "TECHNICAL_CONTACT_INACTIVE"]}, []),
    ({"risks": ["PRODUCTION_MANAGE_PERMISSIONS_HELD_BY_OTHERS"]}, []),
    ({"risks": []}, list(APPS_SEEDED)),
    ({"accountExecutiveId": "ae", "status": ["DELIVERED"]}, ["alpha", "zulu"]),
    ({"teamMemberId": "ann"}, ["kilo", "bravo", "zulu"]),
    ({"teamMemberId": "ann", "technicalContactId": "ann"}, ["kilo", "bravo"]),
    ({"teamMemberId": "ann", "search": "ZU"}, ["zulu"]),
]


@pytest.mark.parametrize(("filter", "expected"), FILTERS)
async def test_filters_combine(
    db: Any, support: PersonRecord, filter: dict[str, Any], expected: list[str]
) -> None:
    world = await _world(db)
    people = {"ann": pid(world["ann"]), "ae": pid(world["ae"]), "tess": pid(world["tess"])}
    resolved = {key: people.get(str(value), value) for key, value in filter.items()}
    data = await gql(db, support, APPS, {"filter": resolved})
    assert _subdomains(data["apps"]) == expected and data["apps"]["totalCount"] == len(expected)


async def test_an_inactive_contact_is_a_risk_combined_with_others(
    db: Any, support: PersonRecord
) -> None:
    world = await _world(db)
    await people_store.set_status(db, world["ann"].id, PersonStatus.INACTIVE)
    risks = ["TECHNICAL_CONTACT_INACTIVE", "TECHNICAL_CONTACT_WITHOUT_MENDIX_ID"]
    data = await gql(db, support, APPS, {"filter": {"risks": risks}})
    assert _subdomains(data["apps"]) == ["kilo", "bravo"]
    at_risk = """query ($filter: AppsFilter, $order: AppOrder) {
      appsWithInactiveTechnicalContact(filter: $filter, orderBy: $order) { nodes { subdomain } }
    }"""
    order = {"field": "NAME", "direction": "DESC"}
    narrowed = {"risks": ["LICENSE_EXPIRING"], "licenseExpiresWithinDays": 60}
    data = await gql(db, support, at_risk, {"filter": narrowed, "order": order})
    assert _subdomains(data["appsWithInactiveTechnicalContact"]) == ["kilo", "bravo"]


async def test_person_connections_filter_order_and_stay_scoped(
    db: Any, support: PersonRecord
) -> None:
    world = await _world(db)
    order = {"field": "NAME", "direction": "DESC"}
    ann = (await gql(db, support, PERSON, {"id": pid(world["ann"]), "order": order}))["node"]
    assert _subdomains(ann["technicalContactOf"]) == ["kilo", "bravo"]
    assert _subdomains(ann["teamMemberOf"]) == ["zulu", "kilo", "bravo"]
    assert ann["accountExecutiveOf"]["totalCount"] == 0
    ae = {"id": pid(world["ae"]), "filter": {"hosting": ["ON_PREMISES"]}}
    data = (await gql(db, support, PERSON, ae))["node"]
    assert _subdomains(data["accountExecutiveOf"]) == ["zulu"]
    # a filter can't widen a person's connection: the person's role and the filter both hold
    widened = {"id": pid(world["ann"]), "filter": {"technicalContactId": pid(world["tess"])}}
    data = (await gql(db, support, PERSON, widened))["node"]
    assert data["technicalContactOf"]["totalCount"] == 0
    # Ann sees only her own apps, even in the executive's connection
    seen = (await gql(db, world["ann"], PERSON, {"id": pid(world["ae"])}))["node"]
    assert _subdomains(seen["accountExecutiveOf"]) == ["zulu"]


@pytest.mark.parametrize(
    ("variables", "code", "field"),
    [
        ({"filter": {"licenseExpiresWithinDays": 0}}, "INVALID_INPUT", "licenseExpiresWithinDays"),
        ({"filter": {"licenseExpiresWithinDays": 3651}}, "INVALID_INPUT", None),
        ({"filter": {"teamMemberId": "bogus"}}, "INVALID_ID", "teamMemberId"),
        ({"filter": {"accountExecutiveId": "bogus"}}, "INVALID_ID", "accountExecutiveId"),
        ({"filter": {"region": ["EU West!"]}}, "INVALID_FORMAT", None),
        ({"filter": {"licensePlan": [""]}}, "BLANK", None),
        ({"filter": {"hosting": ["ON_PREMISES"] * 51}}, "TOO_LONG", "hosting"),
        ({"order": {"field": "NAME"}, "after": "not-a-cursor"}, "INVALID_CURSOR", None),
    ],
)
async def test_bad_views_are_typed_errors_and_change_nothing(
    db: Any, support: PersonRecord, variables: dict[str, Any], code: str, field: str | None
) -> None:
    await _world(db)
    before = await dump(db)
    errors = await gql_errors(db, support, APPS, variables)
    assert [error.extensions["code"] for error in errors] == [code]
    if field is not None:
        assert errors[0].extensions["field"][:2] == ["filter", field]
    assert await dump(db) == before


async def test_a_cursor_of_another_order_is_refused(db: Any, support: PersonRecord) -> None:
    await _world(db)
    named = (await gql(db, support, APPS, {"first": 2, "order": {"field": "NAME"}}))["apps"]
    plain = (await gql(db, support, APPS, {"first": 2}))["apps"]
    mixes = [
        {"after": named["pageInfo"]["endCursor"]},
        {"after": plain["pageInfo"]["endCursor"], "order": {"field": "NAME"}},
        {"before": named["pageInfo"]["endCursor"], "order": {"field": "DELIVERED_AT"}},
    ]
    for variables in mixes:
        errors = await gql_errors(db, support, APPS, variables)
        assert [error.extensions["code"] for error in errors] == ["INVALID_CURSOR"]
    # the same key in the other direction is the same position: accepted
    descending = {"field": "NAME", "direction": "DESC"}
    flipped = {"after": named["pageInfo"]["endCursor"], "order": descending}
    back = (await gql(db, support, APPS, flipped))["apps"]
    assert _subdomains(back) == ["alpha"]
