"""The encrypted body of an audit record: canonical JSON, sealed to its position in the log.

A body is the canonical JSON (UTF-8, sorted keys, no whitespace) of
``{"action", "actor", "at", "details", "target"}``, with `at` written as
``YYYY-MM-DDTHH:MM:SS.ffffffZ`` in UTC. It is encrypted with ChaCha20-Poly1305 under the log's
32-byte body key, a fresh random 12-byte nonce, and AAD = seq || prev, so a body moved to another
position, or re-chained, no longer opens. Bodies read back are parsed strictly: anything but the
exact canonical encoding is refused, even under a valid tag.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from typing import TypeAlias

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from vault.audit.frame import NONCE_LEN, Frame, position
from vault.errors import IntegrityError

JSONValue: TypeAlias = (
    str | int | float | bool | list["JSONValue"] | dict[str, "JSONValue"] | None
)

MAX_DEPTH = 32
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                            allow_nan=False)
_DECODER = json.JSONDecoder()
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z", re.ASCII)
_FIELDS = frozenset({"action", "actor", "at", "details", "target"})


@dataclass(frozen=True)
class Entry:
    """One audit record, decrypted: who did what to what, when, with details."""

    seq: int
    at: datetime
    actor: str
    action: str
    target: str
    details: Mapping[str, JSONValue]


def format_time(at: datetime) -> str:
    """An aware instant as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` in UTC.

    Raises:
        ValueError: the datetime is naive.
    """
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("audit times must be timezone-aware")
    return at.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def parse_time(text: str) -> datetime:
    """The inverse of `format_time`, refusing every other spelling.

    Raises:
        ValueError: not exactly the format `format_time` writes.
    """
    if not _TIME.fullmatch(text):
        raise ValueError("time is not YYYY-MM-DDTHH:MM:SS.ffffffZ")
    return datetime.fromisoformat(text[:-1]).replace(tzinfo=UTC)


def check_json(value: object, depth: int = 0) -> None:
    """Refuse anything that is not plain JSON: str keys, finite floats, bounded nesting.

    Raises:
        TypeError: a value of a type JSON does not have (tuples, sets, bytes, non-str keys...).
        ValueError: NaN or infinity, or nesting deeper than `MAX_DEPTH`.
    """
    if depth > MAX_DEPTH:
        raise ValueError(f"JSON nested deeper than {MAX_DEPTH}")
    if value is None or isinstance(value, str | bool | int):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("JSON numbers must be finite")
        return
    if isinstance(value, list):
        for item in value:
            check_json(item, depth + 1)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError("JSON object keys must be str")
            check_json(item, depth + 1)
        return
    raise TypeError(f"{type(value).__name__} is not a JSON value")


def canonical_json(value: object) -> bytes:
    """Canonical JSON bytes: UTF-8, sorted keys, no whitespace (call `check_json` first)."""
    return _ENCODER.encode(value).encode("utf-8")


def strict_json(data: bytes | str) -> object:
    """Parse JSON, refusing duplicate keys, NaN/Infinity and nesting beyond `MAX_DEPTH`.

    Raises:
        ValueError: not such JSON (also bad UTF-8 and over-long integers).
    """

    def pairs(items: list[tuple[str, object]]) -> dict[str, object]:
        result = dict(items)
        if len(result) != len(items):
            raise ValueError("duplicate key in JSON object")
        return result

    def constant(name: str) -> object:
        raise ValueError(f"{name} is not allowed in JSON")

    try:
        value: object = json.loads(data, object_pairs_hook=pairs, parse_constant=constant)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    check_json(value)
    return value


def encode_body(*, at: datetime, actor: str, action: str, target: str,
                details: Mapping[str, JSONValue]) -> bytes:
    """The canonical plaintext of a record.

    Raises:
        TypeError, ValueError: a naive time, an empty actor, a non-str field, details that are
            not plain JSON, or text that is not encodable as UTF-8.
    """
    for name, text in (("actor", actor), ("action", action), ("target", target)):
        if not isinstance(text, str):
            raise TypeError(f"audit {name} must be str")
    if not actor:
        raise ValueError("audit actor must not be empty")
    body = {"action": action, "actor": actor, "at": format_time(at), "target": target,
            "details": dict(details)}
    check_json(body)
    return canonical_json(body)


def decode_body(plaintext: bytes, seq: int) -> Entry:
    """Parse an authenticated plaintext into an `Entry`.

    Duplicate keys, NaN and every other non-canonical spelling fail the final comparison with
    the canonical re-encoding, so a plain parse is strict enough here (and is what keeps
    verifying a long log fast).

    Raises:
        ValueError: anything but a canonical body with the right fields and types.
    """
    value = _DECODER.decode(plaintext.decode("utf-8"))
    if not isinstance(value, dict) or set(value) != _FIELDS:
        raise ValueError("not an object with exactly action, actor, at, details, target")
    actor, action, target = value["actor"], value["action"], value["target"]
    at, details = value["at"], value["details"]
    if not (isinstance(actor, str) and isinstance(action, str) and isinstance(target, str)
            and isinstance(at, str) and isinstance(details, dict) and actor):
        raise ValueError("a field has the wrong type")
    if canonical_json(value) != plaintext:  # raises ValueError for NaN and infinities
        raise ValueError("not in canonical form")
    return Entry(seq=seq, at=parse_time(at), actor=actor, action=action, target=target,
                 details=MappingProxyType(details))


def seal(aead: ChaCha20Poly1305, seq: int, prev: bytes, plaintext: bytes) -> tuple[bytes, bytes]:
    """Encrypt a body for position (seq, prev); returns (nonce, ciphertext)."""
    nonce = os.urandom(NONCE_LEN)
    return nonce, aead.encrypt(nonce, plaintext, position(seq, prev))


def open_body(aead: ChaCha20Poly1305, frame: Frame) -> Entry:
    """Decrypt and parse the body of a record.

    Raises:
        IntegrityError: the body does not authenticate at this position, or is not a valid
            body; the message names the record.
    """
    try:
        plaintext = aead.decrypt(frame.nonce, frame.ciphertext, position(frame.seq, frame.prev))
    except InvalidTag:
        raise IntegrityError(
            f"{frame.where}: the body does not authenticate (modified or moved record, "
            "or the wrong body key)"
        ) from None
    try:
        return decode_body(plaintext, frame.seq)
    except RecursionError:
        raise IntegrityError(f"{frame.where}: the body is nested too deeply") from None
    except ValueError as exc:
        raise IntegrityError(
            f"{frame.where}: the body is not a valid audit entry ({exc})"
        ) from None
