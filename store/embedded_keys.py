"""The embedded engine finds a document by its ``_id`` by key, not by a scan.

mongomock answers every query, reads and updates alike, by testing every stored document
(``Collection._iter_documents``): at 100,000 apps each ``{"_id": x, ...}`` lookup or
conditional update costs a pass over all of them. When a filter's top-level ``_id`` is
one ObjectId or string (values whose Python equality is BSON equality), only the document
stored under that key can match: :func:`install` makes mongomock test just that one, with
its own matcher (so the rest of the filter means what it meant). Anything else (other
``_id`` forms, collections with TTL indexes) is answered as before.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from bson import ObjectId
from mongomock.collection import Collection
from mongomock.filtering import filter_applies

_KEYS = (ObjectId, str)
_original = Collection._iter_documents


def _iter_documents(self: Any, filter: Any) -> Iterator[Any]:
    key = filter.get("_id") if isinstance(filter, dict) else None
    stored = self._store
    if type(key) not in _KEYS or stored._ttl_indexes or stored.is_empty:
        return _original(self, filter)  # type: ignore[no-any-return]
    found = stored._documents.get(key)  # the engine runs on the loop's thread: no lock
    return iter([found] if found is not None and filter_applies(filter, found) else [])


def install() -> None:
    """Answer ``_id`` filters by key in every mongomock collection (idempotent)."""
    Collection._iter_documents = _iter_documents
