"""Report pipelines on both tiers: summary, top contacts (keyset), a person's load, at risk."""

from __future__ import annotations

from typing import Any

from bson import ObjectId

from store import apps as app_store
from store import people as people_store
from store import reports
from store.apps import AppStatus, Hosting
from store.pagination import Window
from store.people import PersonRecord, PersonStatus
from tests.helpers import make_person


async def _app(
    db: Any,
    contact: PersonRecord,
    hosting: Hosting = Hosting.MENDIX_CLOUD,
    *,
    deliver: bool = False,
) -> ObjectId:
    app = await app_store.create_app(
        db, name="A", subdomain=f"a-{ObjectId()}", hosting=hosting, technical_contact_id=contact.id
    )
    if deliver:
        assert await app_store.deliver(db, app.id, app.technical_contact_ids) is not None
    return app.id


async def _world(db: Any) -> dict[str, Any]:
    """ann: 3 apps (2 cloud, 1 on-prem), bob (inactive): 2, cy (no MendixID): 1 ordered."""
    ann = await make_person(db, "ann@example.com", "Ann", "ann")
    bob = await make_person(db, "bob@example.com", "Bob", "bob")
    cy = await make_person(db, "cy@example.com", "Cy")
    apps = {
        "ann1": await _app(db, ann, deliver=True),
        "ann2": await _app(db, ann),
        "ann3": await _app(db, ann, Hosting.ON_PREMISES, deliver=True),
        "bob1": await _app(db, bob, deliver=True),
        "bob2": await _app(db, bob, Hosting.ON_PREMISES),
        "cy1": await _app(db, cy, Hosting.ON_PREMISES),
    }
    await people_store.set_status(db, bob.id, PersonStatus.INACTIVE)
    return {"ann": ann, "bob": bob, "cy": cy, "apps": apps}


async def test_summary_counts_hosting_by_status_with_zeros(db: Any) -> None:
    await _world(db)
    rows = {(row.hosting, row.status): row.count for row in await reports.summary(db, None)}
    assert rows == {
        (Hosting.MENDIX_CLOUD, AppStatus.ORDERED): 1,
        (Hosting.MENDIX_CLOUD, AppStatus.DELIVERED): 2,
        (Hosting.ON_PREMISES, AppStatus.ORDERED): 2,
        (Hosting.ON_PREMISES, AppStatus.DELIVERED): 1,
    }


async def test_summary_of_an_empty_database_is_all_zeros(db: Any) -> None:
    assert [row.count for row in await reports.summary(db, None)] == [0, 0, 0, 0]


async def test_summary_is_scoped(db: Any) -> None:
    world = await _world(db)
    rows = await reports.summary(db, app_store.visible_to(world["bob"].id))
    assert sum(row.count for row in rows) == 2


async def test_top_contacts_in_both_orders_and_keyset_pages(db: Any) -> None:
    world = await _world(db)
    page, more = await reports.top_contacts(db, None, limit=2)
    assert [(row.id, row.app_count) for row in page] == [(world["ann"].id, 3), (world["bob"].id, 2)]
    assert more
    first = page[0]
    assert (first.mendix_cloud_count, first.on_premises_count, first.ordered_count) == (2, 1, 1)
    rest, more = await reports.top_contacts(db, None, limit=2, after=(2, world["bob"].id))
    assert [row.id for row in rest] == [world["cy"].id]
    assert not more
    ascending, _ = await reports.top_contacts(db, None, limit=5, descending=False)
    assert [row.app_count for row in ascending] == [1, 2, 3]
    assert await reports.count_contacts(db, None) == 3


async def test_top_contacts_break_ties_by_person(db: Any) -> None:
    people = [await make_person(db, f"p{index}@example.com") for index in range(3)]
    for person in people:
        await _app(db, person)
    page, _ = await reports.top_contacts(db, None, limit=3)
    assert [row.id for row in page] == sorted(person.id for person in people)
    after, _ = await reports.top_contacts(db, None, limit=3, after=(1, page[0].id))
    assert [row.id for row in after] == [row.id for row in page[1:]]


async def test_a_persons_load_is_scoped_and_zero_when_none(db: Any) -> None:
    world = await _world(db)
    load = await reports.contact_load(db, None, world["ann"].id)
    assert (load.app_count, load.mendix_cloud_count, load.on_premises_count) == (3, 2, 1)
    assert (
        await reports.contact_load(db, app_store.visible_to(world["bob"].id), world["ann"].id)
    ).app_count == 0


async def test_at_risk_filters(db: Any) -> None:
    world = await _world(db)
    apps = world["apps"]

    async def ids(risk: str, query: dict[str, Any]) -> set[ObjectId]:
        page = await app_store.list_apps(
            db, await reports.risk_query(db, risk, query), Window(first=100)
        )
        assert page.total_count == len(page.items)
        return set(page.keys)

    assert await ids("inactive_contact", {}) == {apps["bob1"], apps["bob2"]}
    assert await ids("contact_without_mendix_id", {}) == {apps["cy1"]}
    hosting = {"hosting": Hosting.ON_PREMISES.value}
    assert await ids("inactive_contact", hosting) == {apps["bob2"]}
    assert await ids("inactive_contact", app_store.visible_to(world["ann"].id)) == set()


async def test_at_risk_with_several_contacts(db: Any) -> None:
    world = await _world(db)
    app_id = world["apps"]["ann3"]
    assert await app_store.add_technical_contact(db, app_id, world["bob"].id, has_mendix_id=True)
    page = await app_store.list_apps(
        db, await reports.risk_query(db, "inactive_contact", {}), Window(first=100)
    )
    assert app_id in page.keys
