"""Hypothesis settings and byte mutations shared by the fuzz suites.

CI runs a modest number of examples per property; set `VAULT_FUZZ_EXAMPLES` (e.g. 5000) for a
long run (SECURITY.md, "How the claims are tested").
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

EXAMPLES = int(os.environ.get("VAULT_FUZZ_EXAMPLES", "50"))

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,  # the CI machine is shared: time is not what these properties are about
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@dataclass(frozen=True)
class Mutation:
    """One edit of a byte string: what it does, where, and with what."""

    how: str  # flip, set, insert, delete, duplicate, truncate, append
    at: int
    span: int
    data: bytes

    def apply(self, original: bytes) -> bytes:
        """The original with this edit made (positions are taken modulo its length)."""
        if not original:
            return self.data
        at = self.at % len(original)
        end = min(len(original), at + max(1, self.span))
        if self.how == "flip":
            return (
                original[:at] + bytes([original[at] ^ (1 << (self.span % 8))]) + original[at + 1 :]
            )
        if self.how == "set":
            return (
                original[:at] + self.data[: end - at] + original[at + len(self.data[: end - at]) :]
            )
        if self.how == "insert":
            return original[:at] + self.data + original[at:]
        if self.how == "delete":
            return original[:at] + original[end:]
        if self.how == "duplicate":
            return original[:end] + original[at:end] + original[end:]
        if self.how == "truncate":
            return original[:at]
        return original + self.data


mutations = st.builds(
    Mutation,
    how=st.sampled_from(["flip", "set", "insert", "delete", "duplicate", "truncate", "append"]),
    at=st.integers(min_value=0, max_value=1 << 20),
    span=st.integers(min_value=1, max_value=64),
    data=st.binary(min_size=1, max_size=64),
)


def mutate(original: bytes, edits: list[Mutation]) -> bytes:
    """Apply edits in order."""
    for edit in edits:
        original = edit.apply(original)
    return original


edit_lists = st.lists(mutations, min_size=1, max_size=4)
