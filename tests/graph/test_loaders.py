"""Nested reads cost a constant number of database round trips, whatever the page size."""

from __future__ import annotations

from collections import Counter
from typing import Any

from store import apps as app_store
from store.people import PersonRecord
from tests.helpers import gql, make_person

ROUND_TRIPS = {
    "find",
    "find_one",
    "count_documents",
    "distinct",
    "aggregate",
    "find_one_and_update",
    "insert_one",
    "update_one",
}

NESTED = """
query ($first: Int!) {
  apps(first: $first) {
    totalCount
    nodes {
      name
      technicalContacts { name hasMendixId }
      teamMembers { email }
      accountExecutive { name }
    }
  }
}"""


class _Collection:
    def __init__(self, collection: Any, counts: Counter[str]) -> None:
        self._collection = collection
        self._counts = counts

    def __getattr__(self, name: str) -> Any:
        if name.startswith(EMBEDDED):
            raise AttributeError(name)
        if name in ROUND_TRIPS:
            self._counts[name] += 1
        return getattr(self._collection, name)


# Counted, the embedded engine's shortcuts by key (store/db.py) stay off: what is counted is
# the calls a MongoDB server would get.
EMBEDDED = "_AsyncMongoMock"


class CountingDatabase:
    """Wraps a database and counts the calls that go to the server."""

    def __init__(self, db: Any) -> None:
        self._db = db
        self.counts: Counter[str] = Counter()

    def __getitem__(self, name: str) -> _Collection:
        return _Collection(self._db[name], self.counts)

    def __getattr__(self, name: str) -> Any:
        if name.startswith(EMBEDDED):
            raise AttributeError(name)
        return getattr(self._db, name)


async def _seed(db: Any, apps: int) -> None:
    people = [await make_person(db, f"p{i}@example.com", f"P{i}", f"m{i}") for i in range(12)]
    for index in range(apps):
        app = await app_store.create_app(
            db,
            name=f"App {index}",
            subdomain=f"app-{index}",
            hosting=app_store.Hosting.MENDIX_CLOUD,
            technical_contact_id=people[index % 12].id,
            account_executive_id=people[(index + 1) % 12].id,
        )
        for offset in (2, 3):
            await app_store.add_member(db, app.id, people[(index + offset) % 12].id)


async def _round_trips(db: Any, viewer: PersonRecord, first: int) -> tuple[int, dict[str, Any]]:
    counting = CountingDatabase(db)
    data = await gql(counting, viewer, NESTED, {"first": first})  # type: ignore[arg-type]
    return sum(counting.counts.values()), data


async def test_round_trips_do_not_grow_with_the_page(db: Any, support: PersonRecord) -> None:
    await _seed(db, 60)
    small, _ = await _round_trips(db, support, 5)
    large, large_data = await _round_trips(db, support, 60)
    assert len(large_data["apps"]["nodes"]) == 60
    assert all(len(node["teamMembers"]) == 3 for node in large_data["apps"]["nodes"])
    assert all(node["accountExecutive"] for node in large_data["apps"]["nodes"])
    assert small == large == 3  # the page, its count, one batch of people
