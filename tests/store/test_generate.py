"""Generated demo data (bulk inserts) on both tiers: sizes, the domain rules, unique keys."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from ownership.generate import Collision, generate
from store import apps as app_store
from store import licenses, reports, risks
from store import people as people_store
from store.apps import NEXT_EXPIRY, AppRecord, next_expiry
from store.people import PersonRecord
from store.records import now


async def test_generated_data_keeps_the_rules(db: Any) -> None:
    result = await generate(db, 300, seed=3)
    assert result.apps == 300
    apps = [
        AppRecord.model_validate(doc) for doc in await db[app_store.COLLECTION].find().to_list(None)
    ]
    people = {
        doc["_id"]: PersonRecord.model_validate(doc)
        for doc in await db[people_store.COLLECTION].find().to_list(None)
    }
    assert len(apps) == 300 and len(people) == result.people
    for app in apps:
        contacts = app.technical_contact_ids
        assert contacts and set(contacts) <= set(app.member_ids)
        if app.hosting == "MENDIX_CLOUD":
            assert len(contacts) == 1
        if any(people[key].mendix_id is None for key in contacts):
            assert app.status == "ORDERED"  # A3
    assert await people_store.get_person_by_email(db, "support@mendix.example") is not None
    # every panel has something to show
    assert any(row.count for row in await reports.summary(db, None))
    for risk in reports.RISKS:
        assert await db[app_store.COLLECTION].count_documents(
            await reports.risk_query(db, risk, {})
        )
    moment = now()
    expiring = risks.expiring_licenses(moment, moment + timedelta(days=90))
    assert await db[app_store.COLLECTION].count_documents(expiring)
    assert all(row.count for row in await risks.expiry_timeline(db, None, moment, 6))


async def test_generating_twice_needs_another_seed(db: Any) -> None:
    await generate(db, 30, seed=4)
    before = await db[app_store.COLLECTION].count_documents({})
    with pytest.raises(Collision):
        await generate(db, 30, seed=4)
    assert await db[app_store.COLLECTION].count_documents({}) == before
    await generate(db, 30, seed=5)
    assert await db[app_store.COLLECTION].count_documents({}) == before + 30


async def test_generated_apps_carry_their_next_license_expiry(db: Any) -> None:
    """Like the use cases store it: the first read ordered by expiry has nothing to settle."""
    await generate(db, 60, seed=6)
    moment = now()
    for doc in await db[app_store.COLLECTION].find().to_list(None):
        expiries = [item["expires_at"] for item in doc.get("licenses", ())]
        assert doc[NEXT_EXPIRY] == next_expiry(expiries, moment), doc["_id"]
    assert await licenses.settle_next_expiries(db, moment) == 0
