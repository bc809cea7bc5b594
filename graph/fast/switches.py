"""What the rest of the application uses at import time: the switches and the field
declarations. Nothing here touches a dependency's internals, so this module loads (and
domain types declare their fields) on any version of strawberry and graphql-core."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

LOADS = "fast_reads.loads"
READS = "projection.reads"

FAST: ContextVar[bool] = ContextVar(
    "fast_reads", default=os.environ.get("OWNERSHIP_FAST_READS", "1") != "0"
)
PROJECTIONS: ContextVar[bool] = ContextVar(
    "projections", default=os.environ.get("OWNERSHIP_PROJECTIONS", "1") != "0"
)


def enabled() -> bool:
    """Whether the compiled path (and the front) may serve the current request."""
    return FAST.get()


@contextmanager
def standard() -> Iterator[None]:
    """Run the block (and tasks it starts) with standard execution only."""
    token = FAST.set(False)
    try:
        yield
    finally:
        FAST.reset(token)


@contextmanager
def whole_documents() -> Iterator[None]:
    """Run the block (and tasks it starts) reading whole documents (no projections)."""
    token = PROJECTIONS.set(False)
    try:
        yield
    finally:
        PROJECTIONS.reset(token)


def loads(attribute: str, loader: str, *, many: bool) -> dict[str, Any]:
    """Field metadata declaring a resolver that only loads stored keys through a DataLoader.

    ``many=True`` declares exactly ``[x for x in await info.context.loaders.<loader>
    .load_many(list(root.<attribute>)) if x is not None]``; ``many=False`` declares ``None if
    root.<attribute> is None else await info.context.loaders.<loader>.load(root.<attribute>)``.
    The compiled path then runs that load itself (same loader, same batching, same error
    handling) instead of calling the resolver; the differential tests hold it to the
    resolver's results.
    """
    return {LOADS: (attribute, loader, many)}


def reads(*attributes: str, nested: bool = False) -> dict[str, Any]:
    """Field metadata: the resolver reads these attributes of the record it is on."""
    return {READS: (tuple(attributes), nested)}


def declare(field: Any, *attributes: str, nested: bool = False) -> Any:
    """:func:`reads` for a strawberry field built by a helper; returns the field."""
    field.metadata = {**(field.metadata or {}), **reads(*attributes, nested=nested)}
    return field
