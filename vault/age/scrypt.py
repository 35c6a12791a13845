"""Passphrase recipients: the scrypt stanza.

`-> scrypt <salt> <log2 N>`: the wrapping key is scrypt(passphrase, salt =
"age-encryption.org/v1/scrypt" || 16-byte salt, N = 2^log2N, r = 8, p = 1). An scrypt stanza must
be the only stanza in a header, or anyone holding another recipient's key could swap in their own
passphrase without the header MAC noticing. On decrypt the work factor is a decimal with no sign
and no leading zero, and is bounded (`max_work_factor`, default 22, about 4 GiB and seconds of
work) so a hostile file cannot make us spend unbounded memory and time.
"""

import os
import re
from collections.abc import Sequence

from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from vault.age import b64
from vault.age.errors import HeaderError
from vault.age.header import Stanza
from vault.age.wrapping import check_body_size, open_file_key, seal_file_key

STANZA_TYPE = "scrypt"
DEFAULT_WORK_FACTOR = 18
DEFAULT_MAX_WORK_FACTOR = 22
_LABEL = b"age-encryption.org/v1/scrypt"
_SALT_SIZE = 16
_DECIMAL = re.compile(r"[1-9][0-9]*")
# Beyond this, even encrypting is unreasonable (and scrypt's memory use overflows sanity).
_MAX_ENCRYPT_WORK_FACTOR = 30
_MALFORMED = "malformed age stanza"


def _wrapping_key(passphrase: bytes, salt: bytes, work_factor: int) -> bytes:
    kdf = Scrypt(salt=_LABEL + salt, length=32, n=1 << work_factor, r=8, p=1)
    return kdf.derive(passphrase)


def check_scrypt_alone(stanzas: Sequence[Stanza]) -> None:
    """Refuse a header where an scrypt stanza is not the only stanza.

    Raises:
        HeaderError: an scrypt stanza sits beside another stanza.
    """
    if len(stanzas) > 1 and any(s.type == STANZA_TYPE for s in stanzas):
        raise HeaderError("malformed age header")


class ScryptRecipient:
    """Encrypt to a passphrase. It must be the file's only recipient."""

    __slots__ = ("_passphrase", "_work_factor")

    def __init__(self, passphrase: bytes, work_factor: int = DEFAULT_WORK_FACTOR) -> None:
        """Encrypt to `passphrase`.

        Args:
            passphrase: the passphrase bytes (non-empty).
            work_factor: log2 of scrypt's N; 18 takes about a second.

        Raises:
            ValueError: empty passphrase or a work factor outside 1..30.
        """
        if not passphrase:
            raise ValueError("the passphrase is empty")
        if not 1 <= work_factor <= _MAX_ENCRYPT_WORK_FACTOR:
            raise ValueError("the scrypt work factor must be between 1 and 30")
        self._passphrase = bytes(passphrase)
        self._work_factor = work_factor

    def wrap(self, file_key: bytes) -> list[Stanza]:
        """Wrap the file key under the passphrase with a fresh salt."""
        salt = os.urandom(_SALT_SIZE)
        key = _wrapping_key(self._passphrase, salt, self._work_factor)
        args = (b64.encode(salt), str(self._work_factor))
        return [Stanza(STANZA_TYPE, args, seal_file_key(key, file_key))]

    def __repr__(self) -> str:
        return f"ScryptRecipient(work_factor={self._work_factor})"


class ScryptIdentity:
    """Decrypt with a passphrase, refusing work factors above `max_work_factor`."""

    __slots__ = ("_max_work_factor", "_passphrase")

    def __init__(self, passphrase: bytes, max_work_factor: int = DEFAULT_MAX_WORK_FACTOR) -> None:
        """Decrypt with `passphrase`.

        Args:
            passphrase: the passphrase bytes.
            max_work_factor: the largest log2 N accepted; a file asking more is refused.
        """
        self._passphrase = bytes(passphrase)
        self._max_work_factor = max_work_factor

    def unwrap(self, stanzas: Sequence[Stanza]) -> bytes | None:
        """Return the file key if the header's scrypt stanza opens with this passphrase.

        Returns:
            The file key, or None if there is no scrypt stanza or the passphrase is wrong.

        Raises:
            HeaderError: the scrypt stanza is not alone, is malformed, or its work factor is
                above `max_work_factor`.
        """
        check_scrypt_alone(stanzas)
        for stanza in stanzas:
            if stanza.type != STANZA_TYPE:
                continue
            if len(stanza.args) != 2:
                raise HeaderError(_MALFORMED)
            salt = b64.decode(stanza.args[0])
            if salt is None or len(salt) != _SALT_SIZE:
                raise HeaderError(_MALFORMED)
            text = stanza.args[1]
            # Check the length before int(): a thousand-digit "work factor" is just too large.
            if _DECIMAL.fullmatch(text) is None:
                raise HeaderError(_MALFORMED)
            if len(text) > 2 or int(text) > self._max_work_factor:
                raise HeaderError("age scrypt work factor is above the limit")
            check_body_size(stanza.body)
            key = _wrapping_key(self._passphrase, salt, int(text))
            file_key = open_file_key(key, stanza.body)
            if file_key is not None:
                return file_key
        return None

    def __repr__(self) -> str:
        return f"ScryptIdentity(max_work_factor={self._max_work_factor})"
