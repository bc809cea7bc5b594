"""Shared pieces of the pydantic records the store returns."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from bson import ObjectId
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field


def _aware(value: Any) -> Any:
    # mongomock hands back naive UTC datetimes; PyMongo with tz_aware=True aware ones.
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


UtcDatetime = Annotated[datetime, BeforeValidator(_aware)]


def now() -> datetime:
    """The current time at MongoDB's millisecond precision, so it round-trips unchanged."""
    moment = datetime.now(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


class Record(BaseModel):
    """A stored document: ``id`` maps to ``_id``; unknown keys are ignored."""

    model_config = ConfigDict(
        arbitrary_types_allowed=True, populate_by_name=True, frozen=True, extra="ignore"
    )

    id: ObjectId = Field(alias="_id")
