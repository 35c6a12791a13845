"""Bech32 (BIP 173) as age uses it for recipients and identities.

age uses the original Bech32 checksum (not Bech32m) without BIP 173's 90-character limit, since
post-quantum public keys are far longer. A string is all lowercase or all uppercase, never mixed;
`decode` returns the human-readable part in the case it was written so callers can insist on
`age` for recipients and `AGE-SECRET-KEY-` for identities. Errors are `ValueError`: callers
turn them into their own detail-free errors.
"""

_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_VALUES = {c: i for i, c in enumerate(_CHARSET)}
_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
_CHECKSUM_LEN = 6


def _polymod(values: list[int]) -> int:
    chk = 1
    for value in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ value
        for i, gen in enumerate(_GENERATOR):
            if (top >> i) & 1:
                chk ^= gen
    return chk


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def _checksum(hrp: str, data: list[int]) -> list[int]:
    polymod = _polymod([*_hrp_expand(hrp), *data, 0, 0, 0, 0, 0, 0]) ^ 1
    return [(polymod >> 5 * (5 - i)) & 31 for i in range(_CHECKSUM_LEN)]


def _to_5bit(data: bytes) -> list[int]:
    acc = bits = 0
    out: list[int] = []
    for byte in data:
        acc = (acc << 8 | byte) & 0xFFF
        bits += 8
        while bits >= 5:
            bits -= 5
            out.append(acc >> bits & 31)
    if bits:
        out.append(acc << (5 - bits) & 31)
    return out


def _to_8bit(values: list[int]) -> bytes:
    acc = bits = 0
    out = bytearray()
    for value in values:
        acc = (acc << 5 | value) & 0xFFF
        bits += 5
        if bits >= 8:
            bits -= 8
            out.append(acc >> bits & 0xFF)
    # Padding must be shorter than a 5-bit group and all zero, or one string could
    # spell two keys.
    if bits >= 5 or acc & ((1 << bits) - 1):
        raise ValueError("invalid bech32 padding")
    return bytes(out)


def _check_hrp(hrp: str) -> None:
    if not hrp or any(not 33 <= ord(c) <= 126 for c in hrp):
        raise ValueError("invalid bech32 human-readable part")


def encode(hrp: str, data: bytes) -> str:
    """Encode `data` under the human-readable part `hrp`.

    Args:
        hrp: printable ASCII, all lowercase or all uppercase; the output takes its case.
        data: the payload bytes.

    Returns:
        The Bech32 string.

    Raises:
        ValueError: `hrp` is empty, not printable ASCII, or of mixed case.
    """
    _check_hrp(hrp)
    if hrp.lower() != hrp and hrp.upper() != hrp:
        raise ValueError("mixed-case bech32 human-readable part")
    lower = hrp.lower()
    values = _to_5bit(data)
    text = lower + "1" + "".join(_CHARSET[v] for v in values + _checksum(lower, values))
    return text if hrp == lower else text.upper()


def decode(text: str) -> tuple[str, bytes]:
    """Decode a Bech32 string.

    Args:
        text: the encoded string.

    Returns:
        The human-readable part, in the case it was written, and the payload bytes.

    Raises:
        ValueError: mixed case, a misplaced separator, a character outside the charset, a bad
            checksum or non-zero padding.
    """
    if text.lower() != text and text.upper() != text:
        raise ValueError("mixed-case bech32 string")
    pos = text.rfind("1")
    if pos < 1 or pos + 1 + _CHECKSUM_LEN > len(text):
        raise ValueError("misplaced bech32 separator")
    hrp = text[:pos]
    _check_hrp(hrp)
    try:
        values = [_VALUES[c] for c in text[pos + 1 :].lower()]
    except KeyError:
        raise ValueError("invalid bech32 character") from None
    if _polymod([*_hrp_expand(hrp.lower()), *values]) != 1:
        raise ValueError("invalid bech32 checksum")
    return hrp, _to_8bit(values[:-_CHECKSUM_LEN])
