"""The byte layout of `log/audit.log` (DESIGN §10): file header, record frames, digests.

This module knows bytes only: no files, no keys. Everything a third party needs to re-check the
chain with `dd` and `sha256sum` is here. All integers are unsigned big-endian.

File::

    header | frame(seq 1) | frame(seq 2) | ... | frame(seq N)

nothing before, between or after. A file of zero bytes, or of the header alone, is an empty log.

Header, 44 bytes::

    offset  size  field
    0       8     magic, ASCII "EVAUDLOG"
    8       4     format version, u32 = 1
    12      32    genesis = SHA-256("embargo-vault audit genesis" || 0x00 || UTF-8 vault id)

Frame, one record, L + 8 bytes, with 132 <= L <= 1 MiB (1,048,576)::

    offset  size  field
    0       4     L, u32: the length of bytes 4 .. 4+L (seq through signature)
    4       8     seq, u64: 1 for the first record, +1 for each next one
    12      32    prev: the digest of the previous record; the genesis for seq 1
    44      12    nonce: random, never reused in practice (96 random bits per record)
    56      n     ciphertext: ChaCha20-Poly1305(body key, nonce, body, AAD = seq || prev),
                  n = L - 116 >= 16 (its last 16 bytes are the Poly1305 tag)
    56+n    64    signature: Ed25519, by the actor, over the signed message below
    120+n   4     L again, so the last record is found from the end of the file

    digest(record)  = SHA-256(all L + 8 bytes of the frame, both length fields included)
    signed message  = "embargo-vault audit entry v1" || 0x00 || seq (u64) || prev (32 bytes)
                      || SHA-256(ciphertext || nonce)

The body (the plaintext) is canonical JSON — UTF-8, keys sorted, no whitespace — of the object
``{"action", "actor", "at", "details", "target"}``; `at` is ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` in
UTC (see `vault.audit.body`). The AAD ties a body to its position, the signature ties the actor
to position and content, and `prev` ties each record to everything before it.

Torn tails: an append is one write of one frame (of the header and the first frame, for a new
file), so a crash can leave the file ending inside a frame. Bytes after the last whole record are
a torn tail, and may be cut off, only if every byte present agrees with the frame that was being
written — a length in bounds and longer than what is there, then seq = last seq + 1 and prev =
last digest — or they are all zeros, and the file does not end in a whole record (which would
mean a damaged length field, not a crash). Anything else is damage and is never cut off.

Who can check what: anyone can check framing, seq and the hash chain. Only a body-key holder
learns the actor, and so can check the signature against that actor's public key. A chain check
alone cannot tell whether the *last* record's nonce, ciphertext or signature were altered (no
later record hashes them), nor whether a whole suffix was rewritten consistently: a signed
checkpoint of the head, or the body key and the members' public keys, catch those.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass

from vault.errors import IntegrityError

MAGIC = b"EVAUDLOG"
VERSION = 1
DIGEST_LEN = 32
NONCE_LEN = 12
TAG_LEN = 16
SIG_LEN = 64
HEADER_LEN = len(MAGIC) + 4 + DIGEST_LEN
FIXED_LEN = 8 + DIGEST_LEN + NONCE_LEN + SIG_LEN
MIN_LEN = FIXED_LEN + TAG_LEN
MAX_LEN = 1 << 20
FRAME_OVERHEAD = FIXED_LEN + 8
PREFIX_LEN = 4 + 8 + DIGEST_LEN

GENESIS_CONTEXT = b"embargo-vault audit genesis\x00"
SIGNATURE_CONTEXT = b"embargo-vault audit entry v1\x00"

_U32 = struct.Struct(">I")
_U64 = struct.Struct(">Q")
_POSITION = struct.Struct(">Q32s")
_FIELDS = struct.Struct(">Q32s12s")


@dataclass(frozen=True)
class Head:
    """The newest record of a log: seq 0 and the genesis digest for an empty log."""

    seq: int
    digest: bytes


@dataclass(frozen=True, slots=True)
class Frame:
    """One record as it lies in the file, with the offset it starts at and its digest."""

    offset: int
    seq: int
    prev: bytes
    nonce: bytes
    ciphertext: bytes
    signature: bytes
    digest: bytes

    @property
    def end(self) -> int:
        """The offset just past this frame."""
        return self.offset + len(self.ciphertext) + FRAME_OVERHEAD

    @property
    def where(self) -> str:
        """How problem messages name this record."""
        return f"record seq {self.seq} at offset {self.offset}"


class FrameFault(IntegrityError):
    """Bytes at `offset` are not a whole, well-formed frame.

    `incomplete` means the bytes left in the file are too few for the frame they start: a write
    cut short by a crash, a cut file, or garbage — `is_torn_start` tells which is plausible.
    """

    def __init__(self, offset: int, problem: str, *, incomplete: bool) -> None:
        super().__init__(f"offset {offset}: {problem}")
        self.offset = offset
        self.incomplete = incomplete


def genesis(vault_id: str) -> bytes:
    """The `prev` of record 1, bound to the vault so a log cannot pass for another vault's."""
    return hashlib.sha256(GENESIS_CONTEXT + vault_id.encode("utf-8")).digest()


def file_header(vault_id: str) -> bytes:
    """The 44-byte header a new log file starts with."""
    return MAGIC + _U32.pack(VERSION) + genesis(vault_id)


def check_header(data: bytes, vault_id: str) -> None:
    """Accept the header of this vault's log, refuse anything else.

    Raises:
        IntegrityError: wrong magic or version, or the log of another vault.
    """
    if len(data) < HEADER_LEN:
        raise FrameFault(0, f"the file header is incomplete ({len(data)} of {HEADER_LEN} bytes)",
                         incomplete=True)
    if data[: len(MAGIC)] != MAGIC:
        raise FrameFault(0, "not an audit log (wrong magic)", incomplete=False)
    (version,) = _U32.unpack_from(data, len(MAGIC))
    if version != VERSION:
        raise FrameFault(0, f"unsupported audit log version {version}", incomplete=False)
    if data[len(MAGIC) + 4 : HEADER_LEN] != genesis(vault_id):
        raise FrameFault(0, "the header's genesis does not match this vault's id "
                            "(the log of another vault, or a damaged header)", incomplete=False)


def position(seq: int, prev: bytes) -> bytes:
    """seq || prev: the AEAD associated data, so a body cannot be moved to another position."""
    return _POSITION.pack(seq, prev)


def signed_message(seq: int, prev: bytes, nonce: bytes, ciphertext: bytes) -> bytes:
    """The domain-separated message the actor signs: position and content of the record."""
    content = hashlib.sha256(ciphertext + nonce).digest()
    return SIGNATURE_CONTEXT + position(seq, prev) + content


def encode(seq: int, prev: bytes, nonce: bytes, ciphertext: bytes, signature: bytes) -> bytes:
    """The frame bytes of one record.

    Raises:
        ValueError: a field has the wrong size, or the record exceeds the 1 MiB frame limit.
    """
    if len(prev) != DIGEST_LEN or len(nonce) != NONCE_LEN or len(signature) != SIG_LEN:
        raise ValueError("audit frame field of the wrong size")
    length = FIXED_LEN + len(ciphertext)
    if not MIN_LEN <= length <= MAX_LEN:
        raise ValueError(f"audit record of {length} bytes is outside {MIN_LEN}..{MAX_LEN}")
    prefix = _U32.pack(length) + _FIELDS.pack(seq, prev, nonce)
    return prefix + ciphertext + signature + _U32.pack(length)


def read_length(field: bytes, offset: int) -> int:
    """The frame length L in a 4-byte length field, refused unless within bounds.

    Raises:
        FrameFault: the length is out of range (never a torn write: a crash does not make one).
    """
    length = int.from_bytes(field, "big")
    if not MIN_LEN <= length <= MAX_LEN:
        raise FrameFault(offset, f"record length {length} is outside {MIN_LEN}..{MAX_LEN}",
                         incomplete=False)
    return length


def decode(data: bytes, offset: int) -> Frame:
    """Split one whole frame (exactly L + 8 bytes, L already bounds-checked) into its fields.

    Raises:
        FrameFault: the leading and trailing lengths disagree.
    """
    (length,) = _U32.unpack_from(data, 0)
    (trailer,) = _U32.unpack_from(data, len(data) - 4)
    if trailer != length or len(data) != length + 8:
        raise FrameFault(offset, f"record length {length} at its start but {trailer} at its end",
                         incomplete=False)
    seq, prev, nonce = _FIELDS.unpack_from(data, 4)
    sig_at = len(data) - 4 - SIG_LEN
    return Frame(
        offset=offset,
        seq=seq,
        prev=prev,
        nonce=nonce,
        ciphertext=data[4 + _FIELDS.size : sig_at],
        signature=data[sig_at : sig_at + SIG_LEN],
        digest=hashlib.sha256(data).digest(),
    )


def is_torn_start(start: bytes, remaining: int, *, next_seq: int, prev: bytes) -> bool:
    """Whether the last `remaining` bytes of a file, beginning with `start`, can be the start of
    the frame for `next_seq` that a crash cut short.

    `start` is the first min(remaining, 44) of them. Every byte present must agree with the frame
    that was being written: a length in bounds yet longer than what is there, then the expected
    seq and prev. Anything else is damage, never repaired.
    """
    field = start[:4]
    lowest = int.from_bytes(field.ljust(4, b"\x00"), "big")
    highest = int.from_bytes(field.ljust(4, b"\xff"), "big")
    if lowest > MAX_LEN or highest < MIN_LEN:
        return False
    if remaining >= 4 and remaining >= lowest + 8:
        return False
    expected = _U64.pack(next_seq) + prev
    return expected.startswith(start[4:PREFIX_LEN])


def length_at_end(last4: bytes) -> int:
    """The u32 in the last four bytes of a file (the trailing length of its last frame)."""
    return int.from_bytes(last4, "big")
