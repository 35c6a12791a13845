"""Canonical encodings shared by every signed or hashed document.

A signature is only meaningful over bytes that two honest parties produce identically, so every
signed structure (roster statements, checkpoints, release requests) is serialised here: JSON with
sorted keys, no insignificant whitespace, UTF-8, no floats.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from vault.errors import IntegrityError


def dumps(value: Mapping[str, Any]) -> bytes:
    """Encode a JSON object canonically."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def loads(data: bytes, *, what: str) -> dict[str, Any]:
    """Decode a JSON object written by `dumps`, refusing anything else.

    Raises:
        IntegrityError: the bytes are not a canonical JSON object.
    """
    try:
        value = json.loads(data.decode())
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise IntegrityError(f"{what} is damaged: not valid JSON") from None
    if not isinstance(value, dict):
        raise IntegrityError(f"{what} is damaged: not a JSON object")
    return value


def b64(data: bytes) -> str:
    """Standard base64 text of bytes."""
    return base64.b64encode(data).decode()


def unb64(text: object, *, what: str) -> bytes:
    """Strict base64 decoding of a field read from a file.

    Raises:
        IntegrityError: the field is not canonical base64 text.
    """
    if not isinstance(text, str):
        raise IntegrityError(f"{what} is damaged")
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise IntegrityError(f"{what} is damaged") from None
    if base64.b64encode(data).decode() != text:
        raise IntegrityError(f"{what} is damaged")
    return data


def instant(at: datetime) -> str:
    """ISO-8601 text of an instant in UTC, to the second's microsecond."""
    return at.astimezone(UTC).isoformat()


def parse_instant(text: object, *, what: str) -> datetime:
    """Parse `instant` output back into an aware UTC datetime.

    Raises:
        IntegrityError: the field is not an ISO-8601 instant with a zone.
    """
    if not isinstance(text, str):
        raise IntegrityError(f"{what} is damaged")
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise IntegrityError(f"{what} is damaged") from None
    if value.tzinfo is None:
        raise IntegrityError(f"{what} is damaged")
    return value.astimezone(UTC)
