"""App records: the app document's shape (``AppRecord``), its projected reads, and the
``Change``/``Write`` values the conditional writes (store/app_changes.py, store/app_rules.py)
take and return. ``store.apps`` re-exports all of it: import from there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from functools import lru_cache

from bson import ObjectId
from pydantic import BaseModel, ConfigDict, create_model

from store.cloud import EnvironmentRecord, GrantRecord
from store.db import Document
from store.records import Record, UtcDatetime

COLLECTION = "apps"
# the soonest future license expiry, kept in the document (store/licenses.py); NO_EXPIRY when
# no license expires after now, so such apps come last in ascending order
NEXT_EXPIRY = "next_license_expiry"
NO_EXPIRY = datetime(9999, 12, 31, tzinfo=UTC)
PENDING = "pending_events"  # audit events written with a change (store/audit.py drains)


class Hosting(StrEnum):
    MENDIX_CLOUD = "MENDIX_CLOUD"
    ON_PREMISES = "ON_PREMISES"


class AppStatus(StrEnum):
    ORDERED = "ORDERED"
    DELIVERED = "DELIVERED"


class LicenseRecord(BaseModel):
    """One license, embedded in its app (``licenses``)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    license_id: str
    plan: str
    named_users: int
    concurrent_users: int
    starts_at: UtcDatetime
    expires_at: UtcDatetime


class AppRecord(Record):
    name: str
    subdomain: str
    hosting: Hosting
    status: AppStatus
    technical_contact_ids: tuple[ObjectId, ...]
    member_ids: tuple[ObjectId, ...]
    account_executive_id: ObjectId | None = None
    ordered_at: UtcDatetime
    delivered_at: UtcDatetime | None = None
    version: int
    region: str | None = None
    licenses: tuple[LicenseRecord, ...] = ()
    # Mendix Cloud (store/cloud.py): environments, explicit grants, the connected project
    environments: tuple[EnvironmentRecord, ...] = ()
    grants: tuple[GrantRecord, ...] = ()
    project_id: str | None = None


def next_expiry(licenses: Iterable[LicenseRecord | datetime | None], moment: datetime) -> datetime:
    """The soonest of these expiries (or licenses') after ``moment``; NO_EXPIRY if none."""
    found = NO_EXPIRY
    for item in licenses:
        value = item.expires_at if isinstance(item, LicenseRecord) else item
        if isinstance(value, datetime):
            value = value if value.tzinfo else value.replace(tzinfo=UTC)
            if moment < value < found:
                found = value
    return found


# --- projected reads ------------------------------------------------------------------------
# A read may name the attributes it needs (``fields``; None = all). MongoDB then returns only
# those keys and they are validated into an ``AppRecord`` subclass that has only those
# fields: a malformed key that was not asked for is not read, so it cannot fail the read,
# and an attribute that was not asked for raises AttributeError (never a made-up default).

Fields = frozenset[str] | None


@lru_cache(maxsize=256)
def projected(fields: frozenset[str]) -> type[AppRecord] | None:
    """``AppRecord`` with only ``fields`` (``id`` included); None when it can't be built
    (an unknown name, or a pydantic whose model rebuilding ignores pruned fields): then
    read the whole document."""
    known = AppRecord.model_fields
    if "id" not in fields or not fields <= known.keys():
        return None
    cls = create_model(AppRecord.__name__, __base__=AppRecord, __module__=__name__)
    cls.__qualname__ = AppRecord.__qualname__
    cls.__pydantic_fields__ = {name: info for name, info in known.items() if name in fields}
    cls.model_rebuild(force=True)
    return cls if cls.model_fields.keys() == fields else None


def reading(fields: Fields) -> tuple[Document | None, type[AppRecord]]:
    """The find projection and the record class for a read of ``fields``."""
    cls = projected(fields) if fields is not None else None
    if cls is None:
        return None, AppRecord
    known = AppRecord.model_fields
    return {known[name].alias or name: 1 for name in sorted(fields)}, cls  # type: ignore[arg-type]


@dataclass(frozen=True)
class Change:
    """An applied change: the app before and after it."""

    before: AppRecord
    after: AppRecord


class DuplicateSubdomain(Exception):
    pass


Events = Callable[[Change], list[Document]]


@dataclass(frozen=True)
class Write:
    """How a use case applies a change: to the app as it read it (``base``: the update's
    filter pins its version, so the events describe exactly the state it replaced), with the
    caller's authority stated in the filter (``authority``, store/rights.py), and the audit
    events that record it pushed into the app's ``pending_events`` in the same update
    (store/audit.py drains them into the audit trail)."""

    base: AppRecord
    authority: Document
    events: Events


APPLIED = "applied_request_ids"  # support requests whose change the app has (support.py)
