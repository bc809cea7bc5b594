"""The orders (``orderBy``) of the lists other than apps (resolvers/app_views.py has those).

Each maps a GraphQL order field to a stored key; the list is then keyset-paged over
(key, id) (store/pagination.py), served by an index on (key, _id) (store/orders.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from resolvers.pagination import order_of
from store.pagination import ID_ORDER, Order
from store.support import Priority


class PersonOrderField(StrEnum):
    NAME = "NAME"
    EMAIL = "EMAIL"


class SupportRequestOrderField(StrEnum):
    CREATED_AT = "CREATED_AT"
    UPDATED_AT = "UPDATED_AT"
    PRIORITY = "PRIORITY"


class NotificationOrderField(StrEnum):
    CREATED_AT = "CREATED_AT"


class AuditEventOrderField(StrEnum):
    OCCURRED_AT = "OCCURRED_AT"


# priority ascending: LOW first, CRITICAL last (DESC: the most urgent first)
PRIORITIES = tuple(level.value for level in reversed(Priority))

PEOPLE = {PersonOrderField.NAME: Order("name"), PersonOrderField.EMAIL: Order("email")}
SUPPORT_REQUESTS = {
    SupportRequestOrderField.CREATED_AT: Order("created_at"),
    SupportRequestOrderField.UPDATED_AT: Order("updated_at"),
    SupportRequestOrderField.PRIORITY: Order("priority", ranks=PRIORITIES),
}
NOTIFICATIONS = {NotificationOrderField.CREATED_AT: Order("created_at")}
AUDIT_EVENTS = {AuditEventOrderField.OCCURRED_AT: Order("at")}
NEWEST_FIRST_NOTIFICATIONS = Order("created_at", descending=True)
NEWEST_FIRST_EVENTS = Order("at", descending=True)


def person_order(order_by: Mapping[str, Any] | None) -> Order:
    return order_of(order_by, PEOPLE, ID_ORDER)


def support_request_order(order_by: Mapping[str, Any] | None) -> Order:
    return order_of(order_by, SUPPORT_REQUESTS, ID_ORDER)


def notification_order(order_by: Mapping[str, Any] | None) -> Order:
    """Newest first unless told otherwise."""
    return order_of(order_by, NOTIFICATIONS, NEWEST_FIRST_NOTIFICATIONS)


def audit_event_order(order_by: Mapping[str, Any] | None) -> Order:
    """Newest first unless told otherwise."""
    return order_of(order_by, AUDIT_EVENTS, NEWEST_FIRST_EVENTS)
