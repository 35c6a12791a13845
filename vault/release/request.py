"""Release requests: immutable, canonical documents signed by the requester.

A request names what leaves the vault (a collection and object ids), why, when it may run
(`not_before`, never earlier than any embargo on what it names), until when (`expires`), who
asked, and the audit head when it was made. Its canonical bytes are what the requester and every
approver sign, as SSH signatures (`vault.release.sshsig`), so approvals of one request never
carry over to another and a third party can check them with `ssh-keygen -Y verify`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from vault import canonical
from vault.errors import IntegrityError

FORMAT = "embargo-vault release request v1"


@dataclass(frozen=True)
class ReleaseRequest:
    """What a release will publish, and under which conditions."""

    id: str
    vault_id: str
    collection: str
    documents: tuple[str, ...]
    reason: str
    destination: str  # "directory" or "age-recipient"
    not_before: datetime
    expires: datetime | None
    requester: str
    created: datetime
    checkpoint_seq: int
    checkpoint_digest: str

    def encode(self) -> bytes:
        """The canonical bytes everyone signs."""
        return canonical.dumps(self._fields())

    @property
    def digest(self) -> str:
        """SHA-256 of the canonical bytes: the request's identity for approvals."""
        return hashlib.sha256(self.encode()).hexdigest()

    def _fields(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "id": self.id,
            "vault_id": self.vault_id,
            "collection": self.collection,
            "documents": list(self.documents),
            "reason": self.reason,
            "destination": self.destination,
            "not_before": canonical.instant(self.not_before),
            "expires": canonical.instant(self.expires) if self.expires else None,
            "requester": self.requester,
            "created": canonical.instant(self.created),
            "checkpoint": {"seq": self.checkpoint_seq, "digest": self.checkpoint_digest},
        }

    @classmethod
    def decode(cls, data: bytes) -> ReleaseRequest:
        """Parse canonical request bytes strictly.

        Raises:
            IntegrityError: not a canonical release request.
        """
        doc = canonical.loads(data, what="release request")
        try:
            checkpoint = doc["checkpoint"]
            request = cls(
                id=_text(doc["id"]),
                vault_id=_text(doc["vault_id"]),
                collection=_text(doc["collection"]),
                documents=tuple(_text(d) for d in doc["documents"]),
                reason=_text(doc["reason"], empty=True),
                destination=_text(doc["destination"]),
                not_before=canonical.parse_instant(doc["not_before"], what="release request"),
                expires=None
                if doc["expires"] is None
                else canonical.parse_instant(doc["expires"], what="release request"),
                requester=_text(doc["requester"]),
                created=canonical.parse_instant(doc["created"], what="release request"),
                checkpoint_seq=int(checkpoint["seq"]),
                checkpoint_digest=_text(checkpoint["digest"]),
            )
        except (KeyError, TypeError, ValueError):
            raise IntegrityError("release request is damaged") from None
        if doc.get("format") != FORMAT or request.encode() != data:
            raise IntegrityError("release request is not in canonical form")
        return request


def _text(value: object, *, empty: bool = False) -> str:
    if not isinstance(value, str) or (not value and not empty):
        raise ValueError("expected text")
    return value
