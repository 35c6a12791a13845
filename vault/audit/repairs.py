"""Repairs of the audit log's tail since the newest checkpoint, for `vault check` to warn of.

When a vault opens, a torn final record is cut off and the cut logged as `audit-repair` (DESIGN
§10). Someone with the disk who cuts the log inside a record — dropping it and everything after
it — leaves exactly what a crash mid-append leaves, and the cut is repaired and logged the same
way. The log alone cannot tell the two apart: a checkpoint exported after the lost records can.
So a repair logged after the newest checkpoint the vault knows of is a warning that says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vault.audit.body import Entry

REPAIR = "audit-repair"
CHECKPOINT = "audit-checkpoint"


@dataclass
class RepairWatch:
    """Fed every audit entry in order; names the repairs no checkpoint has seen since."""

    newest_checkpoint: int = 0
    _repairs: list[tuple[int, object]] = field(default_factory=list)

    def see(self, entry: Entry) -> None:
        """Take one audit entry into account."""
        if entry.action == CHECKPOINT:
            self.newest_checkpoint = max(self.newest_checkpoint, entry.seq)
        elif entry.action == REPAIR:
            self._repairs.append((entry.seq, entry.details.get("torn_bytes_removed")))

    def warnings(self, *, stored_checkpoint: int = 0) -> list[str]:
        """One warning per repair after the newest checkpoint, logged or stored.

        Args:
            stored_checkpoint: the seq of the newest checkpoint in `log/checkpoints/` (0: none).
        """
        since = max(self.newest_checkpoint, stored_checkpoint)
        anchor = f"the newest checkpoint (seq {since})" if since else "any checkpoint"
        return [
            f"audit log: a torn final record ({removed} bytes) was cut off at seq {seq}, after "
            f"{anchor}: a crash mid-append and records cut off on purpose look the same; "
            "compare the log with a checkpoint exported before it (`vault audit verify "
            "--checkpoint FILE`)"
            for seq, removed in self._repairs
            if seq > since
        ]
