"""Opaque global IDs (base64 of ``Type:hex``, the Relay convention) and their checks."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Annotated

from bson import ObjectId
from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

from resolvers.errors import ErrorCode, fail

MAX_ID_LENGTH = 100


def encode(type_name: str, key: ObjectId) -> str:
    return base64.b64encode(f"{type_name}:{key}".encode()).decode()


def decode(value: object, type_name: str) -> ObjectId | None:
    """The ObjectId inside a global ID of ``type_name``, or None when it is not one."""
    if not isinstance(value, str) or not value or len(value) > MAX_ID_LENGTH:
        return None
    try:
        text = base64.b64decode(value, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    prefix, _, key = text.partition(":")
    if prefix != type_name or not ObjectId.is_valid(key) or len(key) != 24:
        return None
    return ObjectId(key)


def _checked(type_name: str) -> BeforeValidator:
    def check(value: object) -> ObjectId:
        key = decode(value, type_name)
        if key is None:
            raise PydanticCustomError("invalid_id", f"is not a valid {type_name} ID")
        return key

    return BeforeValidator(check)


AppId = Annotated[ObjectId, _checked("App")]
PersonId = Annotated[ObjectId, _checked("Person")]
SupportRequestId = Annotated[ObjectId, _checked("SupportRequest")]
EnvironmentId = Annotated[ObjectId, _checked("Environment")]
AccessTokenId = Annotated[ObjectId, _checked("AccessToken")]


def parse_key(value: str) -> ObjectId | None:
    """The ObjectId in the key part of a global ID, or None."""
    return ObjectId(value) if len(value) == 24 and ObjectId.is_valid(value) else None


_TYPE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def split_global(value: object) -> tuple[str, ObjectId | None] | None:
    """``(type name, key)`` of a well-formed global ID (base64 of ``Type:key``), whatever the
    type; the key is None when it is not an ObjectId. None when the ID is malformed."""
    if not isinstance(value, str) or not value or len(value) > MAX_ID_LENGTH:
        return None
    try:
        text = base64.b64decode(value, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    type_name, colon, key = text.partition(":")
    if not colon or not key or not _TYPE_NAME.match(type_name):
        return None
    return type_name, (ObjectId(key) if len(key) == 24 and ObjectId.is_valid(key) else None)


def global_id(value: object, field: list[str]) -> tuple[str, ObjectId | None]:
    """:func:`split_global`, refusing a malformed ID (INVALID_ID at ``field``)."""
    split = split_global(value)
    if split is None:
        fail(ErrorCode.INVALID_ID, f"{field[-1]}: is not a valid global ID", field)
    return split
