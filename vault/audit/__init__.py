"""The tamper-evident audit log (DESIGN §10): hash-chained, encrypted, signed records.

Every action, from a document view to a release, is appended to `log/audit.log` *before* it
happens; if the record cannot be written, `AuditLog.append` raises `AuditUnavailable` and the
action does not happen. Anyone can check the chain with `AuditLog.verify()`; holders of the body
key can check who did what (`verify(public_key_of)`); a signed `Checkpoint` of the head, kept in
release manifests or on paper, catches truncation and restored old copies.

The on-disk format is documented byte by byte in `vault.audit.frame` and `vault.audit.body`.
"""

from vault.audit.body import Entry, JSONValue
from vault.audit.checkpoint import Checkpoint
from vault.audit.frame import Head
from vault.audit.log import AuditLog
from vault.audit.verify import PublicKeyOf, VerifyReport

__all__ = ["AuditLog", "Checkpoint", "Entry", "Head", "JSONValue", "PublicKeyOf", "VerifyReport"]
