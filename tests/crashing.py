"""Crash injection between any two writes: a database whose n-th write raises :class:`Crash`
instead of being made, as if the process died right before it (writes 0..n-1 are in).

A test runs a use case on ``CrashingDatabase(db, at=n)`` for every n from 0 to the number of
writes it makes, then "restarts" (the periodic task's recovery on the real database) and
checks the outcome. Reads pass through; so does everything but the collections' writes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from store.capture import COLLECTION_WRITES


class Crash(BaseException):
    """The process died here (a BaseException: no ``except Exception`` of the code under test
    catches it, as none catches a kill)."""


class CrashingDatabase:
    def __init__(self, db: Any, at: int) -> None:
        self.db = db
        self.at = at
        self.writes = 0

    def __getitem__(self, name: str) -> CrashingCollection:
        return CrashingCollection(self, self.db[name])

    def get_collection(self, name: str, *args: Any, **kwargs: Any) -> CrashingCollection:
        return CrashingCollection(self, self.db.get_collection(name, *args, **kwargs))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.db, name)

    def count(self) -> None:
        if self.writes == self.at:
            raise Crash(f"killed before write {self.at}")
        self.writes += 1


class CrashingCollection:
    def __init__(self, owner: CrashingDatabase, collection: Any) -> None:
        self._owner = owner
        self._collection = collection

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._collection, name)
        if name not in COLLECTION_WRITES:
            return method

        async def write(*args: Any, **kwargs: Any) -> Any:
            self._owner.count()
            return await method(*args, **kwargs)

        return write


async def writes_made(db: Any, action: Callable[[Any], Awaitable[Any]]) -> int:
    """How many writes ``action`` makes when nothing crashes (it runs once, for real)."""
    counting = CrashingDatabase(db, at=-1)
    await action(counting)
    return counting.writes
