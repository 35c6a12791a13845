"""The two interfaces a recipient type implements: wrap a file key, unwrap it again.

A `Recipient` turns the 16-byte file key into stanzas for the header. An `Identity` looks at
every stanza of a parsed header and returns the file key if one of them is addressed to it,
None if none is (stanzas of other types, including unknown "grease" types, are ignored), and
raises `HeaderError` if a stanza of its own type is malformed — a file that is malformed for us
must be refused, not reported as "not for me".
"""

from collections.abc import Sequence
from typing import Protocol

from vault.age.header import Stanza

FILE_KEY_SIZE = 16


class Recipient(Protocol):
    """Something a file can be encrypted to."""

    def wrap(self, file_key: bytes) -> list[Stanza]:
        """Wrap `file_key` into one or more header stanzas."""
        ...


class Identity(Protocol):
    """Something that can decrypt files encrypted to its recipient."""

    def unwrap(self, stanzas: Sequence[Stanza]) -> bytes | None:
        """Return the file key from the first stanza addressed to this identity, or None.

        Raises:
            HeaderError: a stanza of this identity's type is malformed.
        """
        ...
