"""The values that cross the policy boundary: who asks, to do what, on what, and the answer.

A `Request` is everything the policies may look at; the service builds one before every governed
action and the `Engine` turns it into a `Decision`. These are plain frozen values with no Cedar in
them, so the service, the CLI and the TUI can build and show them without knowing Cedar.

All instants are timezone-aware; they are compared in UTC.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Literal

ResourceKind = Literal["Vault", "Collection", "Document"]

#: Every action the policies govern, as named in `policies/schema.cedarschema`.
ACTIONS: frozenset[str] = frozenset(
    {
        "checkin",
        "read",
        "mark",
        "tag",
        "search",
        "set-embargo",
        "lift-embargo",
        "request-release",
        "approve-release",
        "run-release",
        "grant",
        "revoke",
        "manage-members",
        "change-policy",
        "export-identity",
        "confirm-time",
    }
)

RESOURCE_KINDS: tuple[ResourceKind, ...] = ("Vault", "Collection", "Document")


def _require_aware(name: str, value: datetime | None) -> None:
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        raise ValueError(f"{name} must be a timezone-aware datetime")


def effective_embargo(doc: datetime | None, collection: datetime | None) -> datetime | None:
    """The embargo that holds a document: the later of its own and its collection's.

    A document's own embargo can only make it stricter: a document in an embargoed collection is
    never released earlier than the collection, whatever its own embargo says.

    Args:
        doc: the document's own embargo instant, or None.
        collection: its collection's embargo instant, or None.

    Returns:
        The later of the two in UTC, or None if neither is set.

    Raises:
        ValueError: an instant is not timezone-aware.
    """
    _require_aware("doc", doc)
    _require_aware("collection", collection)
    instants = [t.astimezone(UTC) for t in (doc, collection) if t is not None]
    return max(instants) if instants else None


@dataclass(frozen=True)
class Principal:
    """The member asking, with the roles the signed roster gives them."""

    member: str
    roles: frozenset[str]

    def __post_init__(self) -> None:
        object.__setattr__(self, "roles", frozenset(self.roles))


@dataclass(frozen=True)
class Resource:
    """What the action is on.

    `embargo_until` is the resource's own embargo; for a document, `collection` names its collection
    and `collection_embargo_until` is that collection's embargo. The policies see the effective
    embargo (`effective_embargo`). Use the `vault`, `collection` and `document` constructors.
    """

    kind: ResourceKind
    id: str
    collection: str | None = None
    embargo_until: datetime | None = None
    collection_embargo_until: datetime | None = None

    def __post_init__(self) -> None:
        _require_aware("embargo_until", self.embargo_until)
        _require_aware("collection_embargo_until", self.collection_embargo_until)

    @classmethod
    def vault(cls, vault_id: str) -> Resource:
        """The vault as a whole (members, policy, time)."""
        return cls("Vault", vault_id)

    @classmethod
    def for_collection(cls, collection_id: str, embargo_until: datetime | None = None) -> Resource:
        """A collection, with its embargo if it has one."""
        return cls("Collection", collection_id, embargo_until=embargo_until)

    @classmethod
    def for_document(
        cls,
        document_id: str,
        collection_id: str,
        embargo_until: datetime | None = None,
        collection_embargo_until: datetime | None = None,
    ) -> Resource:
        """A document in a collection, with its own and its collection's embargo."""
        return cls(
            "Document",
            document_id,
            collection=collection_id,
            embargo_until=embargo_until,
            collection_embargo_until=collection_embargo_until,
        )

    @property
    def effective_embargo(self) -> datetime | None:
        """The embargo the policies see for this resource (see `effective_embargo`)."""
        return effective_embargo(self.embargo_until, self.collection_embargo_until)


@dataclass(frozen=True)
class Request:
    """One question for the policies: may `principal` do `action` on `resource` at `now`?

    `approvals` maps a role to the number of valid approvals from distinct members holding it,
    counted by the caller after verifying each signature, never counting the requester's own.
    `approvers` is the number of distinct members behind those approvals: a member holding two
    roles counts under both roles but once here, so one person cannot meet a two-person rule.
    `is_requester` says the principal made the release request being acted on.
    """

    principal: Principal
    action: str
    resource: Resource
    now: datetime
    approvals: Mapping[str, int] = field(default_factory=dict)
    is_requester: bool = False
    approvers: int = 0

    def __post_init__(self) -> None:
        _require_aware("now", self.now)
        object.__setattr__(self, "approvals", MappingProxyType(dict(self.approvals)))

    def describe(self) -> str:
        """One line naming who asks what, e.g. `carol (editor) to run-release collection c1`."""
        roles = ", ".join(sorted(self.principal.roles)) or "no role"
        return (
            f"{self.principal.member} ({roles}) to {self.action} "
            f"{self.resource.kind.lower()} {self.resource.id}"
        )

    def facts(self) -> str:
        """The time-dependent facts the decision used, in words."""
        parts = [f"now {_utc(self.now)}"]
        embargo = self.resource.effective_embargo if self.resource.kind != "Vault" else None
        parts.append(f"embargo until {_utc(embargo)}" if embargo else "no embargo")
        counted = ", ".join(f"{role} {n}" for role, n in sorted(self.approvals.items()) if n)
        parts.append(f"approvals: {counted or 'none'} from {self.approvers} approver(s)")
        if self.is_requester:
            parts.append("asker is the requester")
        return "; ".join(parts)


def _utc(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@dataclass(frozen=True)
class Decision:
    """The policies' answer.

    `reasons` are the `@id`s of the policies that determined it: the permits that allowed it, or
    the forbids that refused it; empty for a default deny. `errors` are evaluation errors: any
    error means the request is refused, whatever the policies said. `notes` hold, per reason, the
    policy's place and one-line description; `asked` and `facts` say what was asked.
    """

    allowed: bool
    reasons: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    asked: str = ""
    facts: str = ""

    def explain(self) -> str:
        """The decision in plain words, a few lines, for `vault policy explain` and refusals."""
        asked = self.asked or "the request"
        if self.allowed:
            lines = [f"allowed: {asked}", *(f"  permitted by {n}" for n in self.notes)]
        elif self.errors:
            lines = [
                f"refused: {asked}",
                "  the policies could not be evaluated without error, and an error always refuses:",
                *(f"  error: {e}" for e in self.errors),
            ]
        elif self.reasons:
            lines = [f"refused: {asked}", *(f"  forbidden by {n}" for n in self.notes)]
        else:
            lines = [
                f"refused: {asked}",
                "  no policy permits it, and what is not permitted is refused",
            ]
        if self.facts:
            lines.append(f"  ({self.facts})")
        return "\n".join(lines)
