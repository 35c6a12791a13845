"""Strict, canonical, unpadded standard base64 as the age header uses it.

age forbids padding and any other way to spell the same bytes twice (trailing bits that are not
zero, embedded newlines), so a header has exactly one encoding and the header MAC covers exactly
what was parsed. `decode` returns None rather than raising so each caller can raise the error of
its own stage.
"""

import base64
import binascii
import re

# The standard alphabet only: no URL-safe characters, no padding, no whitespace.
_ALPHABET = re.compile(rb"[A-Za-z0-9+/]*")


def encode(data: bytes) -> str:
    """Encode `data` as unpadded standard base64."""
    return base64.b64encode(data).rstrip(b"=").decode("ascii")


def decode(text: str | bytes) -> bytes | None:
    """Decode canonical unpadded base64.

    Args:
        text: the encoded form, as str or ASCII bytes.

    Returns:
        The decoded bytes, or None if `text` is not the canonical encoding of any byte string
        (padding, characters outside the alphabet, a length of 1 mod 4, non-zero trailing bits).
    """
    raw = text.encode("ascii", "replace") if isinstance(text, str) else bytes(text)
    if len(raw) % 4 == 1 or _ALPHABET.fullmatch(raw) is None:
        return None
    try:
        data = base64.b64decode(raw + b"=" * (-len(raw) % 4), validate=True)
    except binascii.Error:
        return None
    # Re-encoding is the simplest exact test for non-zero trailing bits.
    if base64.b64encode(data).rstrip(b"=") != raw:
        return None
    return data
