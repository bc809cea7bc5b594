"""The embedded engine's page reads (store/embedded.py ``mock_matching``: one scan, a set-based
``$in``, no copies) page exactly like the plain query.

Differential: every window over the same filter, once through the embedded path and once
with it switched off (mongomock's own find, sort and count), must give equal pages. On the
wire tier both runs take the ordinary query, so the test also pins that the filter means
the same on MongoDB.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from bson import ObjectId

from store import embedded
from store import pagination as pagination_module
from store.pagination import Window, paginate
from store.records import Record, UtcDatetime


class Thing(Record):
    """Stored documents become records, as in every store module."""

    n: int
    kind: str
    at: UtcDatetime
    ids: Any = None


def _parse(doc: dict[str, Any]) -> Thing:
    return Thing.model_validate(doc)


async def _seed(db: Any) -> tuple[list[ObjectId], list[ObjectId]]:
    people = [ObjectId() for _ in range(80)]
    docs = []
    for index in range(120):
        doc: dict[str, Any] = {
            "_id": ObjectId(),
            "n": index,
            "kind": "ab"[index % 2],
            "at": datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=index, microseconds=index),
        }
        if index % 7 == 0:
            doc["ids"] = people[index % 80]  # a scalar, not an array
        elif index % 11 == 0:
            doc["ids"] = [{"nested": people[0]}, "text", None]  # no ObjectId element
        elif index % 13 != 0:  # index % 13 == 0: the field is missing
            doc["ids"] = [people[index % 80], people[(index * 3) % 80]]
        docs.append(doc)
    await db["things"].insert_many(docs)
    return people, [doc["_id"] for doc in docs]


QUERIES = {
    "in": lambda ids: {"ids": {"$in": ids}},
    "and": lambda ids: {"$and": [{"kind": "a"}, {"$and": [{}, {"ids": {"$in": ids}}]}]},
    "implicit and": lambda ids: {"ids": {"$in": ids}, "n": {"$gte": 10}},
    "or untouched": lambda ids: {"$or": [{"ids": {"$in": ids}}, {"n": 3}]},
    "mixed values": lambda ids: {"ids": {"$in": [*ids, None]}},
    "few ids": lambda ids: {"ids": {"$in": ids[:3]}},
    "no $in": lambda ids: {"kind": "b", "n": {"$lt": 100}},
    "everything": lambda ids: {},
    # aware datetimes against the engine's naive stored ones, microseconds cut to millis
    "aware datetime": lambda ids: {
        "at": {"$gte": datetime(2026, 1, 2, 3, 0, 0, 3999, tzinfo=timezone(timedelta(hours=2)))}
    },
}


@pytest.mark.parametrize("name", sorted(QUERIES))
async def test_set_path_pages_like_the_query(
    db: Any, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    people, keys = await _seed(db)
    query = QUERIES[name](people[::2] + [ObjectId() for _ in range(10)])
    ordered = sorted(keys)
    windows = [
        Window(first=0),
        Window(first=5),
        Window(first=100),
        Window(first=7, after=ordered[20]),
        Window(last=6),
        Window(last=4, before=ordered[90]),
        Window(first=3, after=ordered[-1]),
    ]
    fast = [await paginate(db["things"], query, window, _parse) for window in windows]
    monkeypatch.setattr(pagination_module, "mock_matching", lambda *_args: None)
    plain = [await paginate(db["things"], query, window, _parse) for window in windows]
    assert fast == plain
    assert fast[2].total_count > 0


async def test_the_embedded_path_is_taken_on_the_embedded_engine_only(db: Any, tier: str) -> None:
    people, _ = await _seed(db)
    found = embedded.mock_matching(db["things"], {"ids": {"$in": people}})
    few = embedded.mock_matching(db["things"], {"ids": {"$in": people[:3]}})
    if tier == "mock":
        assert found is not None and len(found) > 50
        assert few is not None and 0 < len(few) < len(found)
    else:
        assert found is None and few is None
