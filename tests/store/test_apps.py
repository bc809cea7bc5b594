"""Store functions for apps against a database: conditional updates decide the rules."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from store import apps as app_store
from store.apps import AppStatus, Hosting
from store.db import ensure_indexes
from store.pagination import Window
from tests.helpers import make_person


async def _app(db: Any, hosting: Hosting = Hosting.ON_PREMISES, subdomain: str = "app") -> Any:
    contact = await make_person(db, f"{subdomain}@example.com", "Contact", f"mx-{subdomain}")
    return await app_store.create_app(
        db, name="App", subdomain=subdomain, hosting=hosting, technical_contact_id=contact.id
    )


async def test_subdomain_is_unique_and_indexes_are_idempotent(db: Any) -> None:
    await _app(db, subdomain="same")
    await ensure_indexes(db)  # a second start changes nothing
    other = await make_person(db, "other@example.com", "Other")
    with pytest.raises(app_store.DuplicateSubdomain):
        await app_store.create_app(
            db,
            name="B",
            subdomain="same",
            hosting=Hosting.MENDIX_CLOUD,
            technical_contact_id=other.id,
        )
    assert await db["apps"].count_documents({}) == 1


async def test_only_one_of_many_racing_removals_leaves_a_contact(db: Any) -> None:
    app = await _app(db)
    second = await make_person(db, "second@example.com", "Second", "second")
    change = await app_store.add_technical_contact(db, app.id, second.id, has_mendix_id=True)
    assert change is not None
    contacts = change.after.technical_contact_ids
    attempts = [
        app_store.remove_technical_contact(db, app.id, contacts[index % 2]) for index in range(50)
    ]
    results = await asyncio.gather(*attempts)
    applied = [result for result in results if result is not None]
    assert len(applied) == 1
    stored = await app_store.get_app(db, app.id)
    assert stored is not None and len(stored.technical_contact_ids) == 1
    assert stored.version == 3
    assert applied[0].after == stored


async def test_racing_cloud_replacements_keep_exactly_one_contact(db: Any) -> None:
    app = await _app(db, Hosting.MENDIX_CLOUD)
    members = [await make_person(db, f"m{i}@example.com", f"M{i}", f"m{i}") for i in range(5)]
    for member in members:
        assert await app_store.add_member(db, app.id, member.id) is not None
    attempts = [
        app_store.change_technical_contact(db, app.id, members[i % 5].id, has_mendix_id=True)
        for i in range(50)
    ] + [app_store.remove_member(db, app.id, members[i % 5].id) for i in range(50)]
    await asyncio.gather(*attempts)
    stored = await app_store.get_app(db, app.id)
    assert stored is not None
    assert len(stored.technical_contact_ids) == 1
    assert stored.technical_contact_ids[0] in stored.member_ids


async def test_contact_without_mendix_id_only_while_ordered(db: Any) -> None:
    app = await _app(db, Hosting.MENDIX_CLOUD)
    newbie = await make_person(db, "newbie@example.com", "Newbie")
    await app_store.add_member(db, app.id, newbie.id)
    delivered = await app_store.deliver(db, app.id, app.technical_contact_ids)
    assert delivered is not None and delivered.after.status is AppStatus.DELIVERED
    refused = await app_store.change_technical_contact(db, app.id, newbie.id, has_mendix_id=False)
    assert refused is None


async def test_delivery_refused_when_contacts_changed_since_the_check(db: Any) -> None:
    app = await _app(db)
    other = await make_person(db, "other@example.com", "Other")
    await app_store.add_technical_contact(db, app.id, other.id, has_mendix_id=False)
    assert await app_store.deliver(db, app.id, app.technical_contact_ids) is None
    stored = await app_store.get_app(db, app.id)
    assert stored is not None and stored.status is AppStatus.ORDERED


async def test_move_needs_exactly_one_contact(db: Any) -> None:
    app = await _app(db)
    other = await make_person(db, "other@example.com", "Other", "other")
    await app_store.add_technical_contact(db, app.id, other.id, has_mendix_id=True)
    assert await app_store.move_to_mendix_cloud(db, app.id) is None
    await app_store.remove_technical_contact(db, app.id, other.id)
    moved = await app_store.move_to_mendix_cloud(db, app.id)
    assert moved is not None and moved.after.hosting is Hosting.MENDIX_CLOUD


async def test_expected_version_is_part_of_the_condition(db: Any) -> None:
    app = await _app(db)
    member = await make_person(db, "member@example.com", "Member")
    assert await app_store.add_member(db, app.id, member.id, expected_version=7) is None
    change = await app_store.add_member(db, app.id, member.id, expected_version=app.version)
    assert change is not None and change.after.version == app.version + 1


async def test_listing_with_filters_and_keyset_pages(db: Any) -> None:
    for index in range(5):
        await _app(db, Hosting.MENDIX_CLOUD if index % 2 else Hosting.ON_PREMISES, f"app-{index}")
    query = app_store.apps_query(hosting=[Hosting.ON_PREMISES])
    page = await app_store.list_apps(db, query, Window(first=2))
    assert [app.subdomain for app in page.items] == ["app-0", "app-2"]
    assert page.total_count == 3 and page.has_next_page
    rest = await app_store.list_apps(db, query, Window(first=2, after=page.keys[-1]))
    assert [app.subdomain for app in rest.items] == ["app-4"]
    assert not rest.has_next_page
    found = await app_store.list_apps(db, app_store.apps_query(search="APP-3"), Window(first=5))
    assert [app.subdomain for app in found.items] == ["app-3"]
