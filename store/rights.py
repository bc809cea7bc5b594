"""Authority as data: who may make a change, stated once, used both to write and to tell.

An :class:`Authority` has two halves:

- ``granted``: what the person alone decides (Mendix Support), checked per request;
- ``condition``: what the app document must say for this person (technical contact, team
  member, an environment grant), a filter fragment. The conditional update carries it beside
  the rule (so a right lost between the read and the write refuses the write), and
  :meth:`Authority.holds` evaluates the very same fragment on a record with mongomock's own
  filter (so ``viewerCan`` and the refusal explanation can never disagree with the write).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from bson import ObjectId
from mongomock.filtering import filter_applies

from store.apps import AppRecord
from store.cloud import EnvironmentRight
from store.db import Document
from store.environments import holds as holds_right


@dataclass(frozen=True)
class Authority:
    granted: bool
    condition: Document = field(default_factory=dict)
    reason: str = "You may not do this"

    def holds(self, app: AppRecord) -> bool:
        """Whether the update's authority filter matches ``app`` (as stored)."""
        if not self.granted:
            return False
        return not self.condition or filter_applies(self.condition, stored(app, self.condition))

    def __or__(self, other: Authority) -> Authority:
        """Either one suffices; the refusal explains with the first's reason."""
        options = [part for part in (self, other) if part.granted]
        if not options:
            return Authority(False, reason=self.reason)
        if any(not part.condition for part in options):
            return Authority(True, reason=self.reason)
        if len(options) == 1:
            return Authority(True, options[0].condition, self.reason)
        return Authority(True, {"$or": [part.condition for part in options]}, self.reason)


def anyone(reason: str = "") -> Authority:
    return Authority(True, reason=reason)


def nobody(reason: str) -> Authority:
    return Authority(False, reason=reason)


def technical_contact(person_id: ObjectId, reason: str) -> Authority:
    return Authority(True, {"technical_contact_ids": person_id}, reason)


def team_member(person_id: ObjectId, reason: str) -> Authority:
    return Authority(True, {"member_ids": person_id}, reason)


def environment_right(
    environment_id: ObjectId, person_id: ObjectId, right: EnvironmentRight, reason: str
) -> Authority:
    """Holds ``right`` on the environment (technical contacts hold every right)."""
    return Authority(True, holds_right(environment_id, person_id, right), reason)


def stored(record: AppRecord, condition: Document | None = None) -> Document:
    """The record as its document is stored (``_id``, lists, enum values); only the keys
    ``condition`` names, when given (a right reads one or two arrays of a large record)."""
    keys = None if condition is None else _keys(condition) & type(record).model_fields.keys()
    return _plain(record.model_dump(by_alias=True, mode="python", include=keys))


def _keys(condition: Any) -> set[str]:
    """The top-level document keys a filter names."""
    found: set[str] = set()
    if isinstance(condition, dict):
        for key, value in condition.items():
            if key.startswith("$"):
                found |= _keys(value)
            else:
                found.add(key.split(".")[0])
    elif isinstance(condition, list):
        for item in condition:
            found |= _keys(item)
    return found


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, Enum):
        return value.value
    return value
