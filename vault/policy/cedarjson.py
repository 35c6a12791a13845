"""Translating a `Request` into Cedar's JSON request and entities.

The shape is the one `policies/schema.cedarschema` declares:

- the principal is `Member::"<member>"`, a child of `Role::"<role>"` for each of its roles;
- the resource is `Vault::"<id>"`, `Collection::"<id>"` or `Document::"<id>"` (a child of its
  `Collection`); a collection or document carries `embargo_until` (a `datetime`) only when it is
  embargoed — for a document, its effective embargo (the later of its own and its collection's);
- the context is `{now: datetime, approvals: {<role>: Long, …}, approvers: Long,
  is_requester: Bool}`, with a count for every role the schema declares (0 when none was given).

Cedar datetimes have millisecond precision. Instants are rounded so that an embargo never lifts
early: `now` is rounded down and embargo instants up.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from vault.policy.model import Request

JsonObject = dict[str, Any]
# cedarpy quotes the whole entity list in entity errors; the reason after it is what matters.
_ENTITY_DUMP = re.compile(r"^failed to parse entities from:\s*\[.*\]: ", re.DOTALL)


def short_error(message: str) -> str:
    """A Cedar error message without the entity list cedarpy sometimes prefixes to it."""
    return _ENTITY_DUMP.sub("entities do not fit the schema: ", message)


def cedar_datetime(instant: datetime, *, round_up: bool = False) -> JsonObject:
    """A Cedar `datetime` extension value for an aware instant, at millisecond precision."""
    utc = instant.astimezone(UTC)
    extra = utc.microsecond % 1000
    utc -= timedelta(microseconds=extra)
    if round_up and extra:
        utc += timedelta(milliseconds=1)
    text = f"{utc.year:04d}-{utc:%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}Z"
    return {"__extn": {"fn": "datetime", "arg": text}}


def _uid(kind: str, ident: str) -> JsonObject:
    return {"type": kind, "id": ident}


def _embargo_attrs(until: datetime | None) -> JsonObject:
    return {} if until is None else {"embargo_until": cedar_datetime(until, round_up=True)}


def to_cedar(request: Request, roles: Sequence[str]) -> tuple[JsonObject, list[JsonObject]]:
    """The Cedar request and entity list for `request`.

    Args:
        request: a request whose roles, approvals and resource the caller has already checked.
        roles: every role the schema declares (each gets an approvals count).

    Returns:
        (request, entities) as cedarpy's `is_authorized` takes them.
    """
    principal = _uid("Member", request.principal.member)
    entities: list[JsonObject] = [
        {
            "uid": principal,
            "attrs": {},
            "parents": [_uid("Role", r) for r in sorted(request.principal.roles)],
        }
    ]
    resource = request.resource
    uid = _uid(resource.kind, resource.id)
    if resource.kind == "Document":
        collection = _uid("Collection", resource.collection or "")
        entities.append(
            {
                "uid": collection,
                "attrs": _embargo_attrs(resource.collection_embargo_until),
                "parents": [],
            }
        )
        entities.append(
            {
                "uid": uid,
                "attrs": _embargo_attrs(resource.effective_embargo),
                "parents": [collection],
            }
        )
    elif resource.kind == "Collection":
        entities.append(
            {"uid": uid, "attrs": _embargo_attrs(resource.effective_embargo), "parents": []}
        )
    else:
        entities.append({"uid": uid, "attrs": {}, "parents": []})
    context: JsonObject = {
        "now": cedar_datetime(request.now),
        "approvals": {role: int(request.approvals.get(role, 0)) for role in roles},
        "approvers": int(request.approvers),
        "is_requester": bool(request.is_requester),
    }
    cedar_request: JsonObject = {
        "principal": principal,
        "action": _uid("Action", request.action),
        "resource": uid,
        "context": context,
    }
    return cedar_request, entities
