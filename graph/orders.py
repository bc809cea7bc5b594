"""``orderBy`` inputs of the lists other than apps (graph/app_views.py has ``AppOrder``).

Ties are broken by id; cursors are positions in the chosen order (resolvers/orders.py).
"""

from __future__ import annotations

import strawberry

from graph.connections import OrderDirection
from resolvers import orders
from resolvers.pagination import Direction

PersonOrderField = strawberry.enum(
    orders.PersonOrderField, description="What people are ordered by (by code point)."
)
SupportRequestOrderField = strawberry.enum(
    orders.SupportRequestOrderField,
    description="What support requests are ordered by. PRIORITY ascending: LOW first, "
    "CRITICAL last (descending: the most urgent first).",
)
NotificationOrderField = strawberry.enum(orders.NotificationOrderField)
AuditEventOrderField = strawberry.enum(orders.AuditEventOrderField)


@strawberry.input(description="How to order people.")
class PersonOrder:
    field: PersonOrderField  # type: ignore[valid-type]
    direction: OrderDirection = Direction.ASC  # type: ignore[valid-type]


@strawberry.input(description="How to order support requests.")
class SupportRequestOrder:
    field: SupportRequestOrderField  # type: ignore[valid-type]
    direction: OrderDirection = Direction.ASC  # type: ignore[valid-type]


@strawberry.input(description="How to order emails (newest first by default).")
class NotificationOrder:
    field: NotificationOrderField  # type: ignore[valid-type]
    direction: OrderDirection = Direction.DESC  # type: ignore[valid-type]


@strawberry.input(description="How to order audit events (newest first by default).")
class AuditEventOrder:
    field: AuditEventOrderField  # type: ignore[valid-type]
    direction: OrderDirection = Direction.DESC  # type: ignore[valid-type]


BY_ID = "Default: oldest first (by id)."
NEWEST_FIRST = "Default: newest first."
