"""The STREAM payload through `Encryptor` and `decrypt_chunks`: sizes, splits, tampering."""

import hashlib
import io
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vault.age import (
    AgeError,
    Encryptor,
    NoIdentityMatch,
    PayloadError,
    X25519Identity,
    decrypt,
    decrypt_chunks,
    encrypt,
)
from vault.age.header import read_header
from vault.age.stream import CHUNK_SIZE, ENCRYPTED_CHUNK_SIZE, NONCE_SIZE, TAG_SIZE

IDENTITY = X25519Identity.generate()
RECIPIENTS = [IDENTITY.recipient]
SIZES = [0, 1, 65535, 65536, 65537, 131072, 1024 * 1024 + 1]


def plaintext(size: int, seed: bytes = b"") -> bytes:
    """Deterministic, incompressible test data."""
    return hashlib.shake_256(seed + size.to_bytes(8, "big")).digest(size)


def payload_offset(data: bytes) -> int:
    """Where the STREAM chunks start: after the header and the nonce."""
    return read_header(io.BytesIO(data))[0].size + NONCE_SIZE


def expected_chunks(size: int) -> int:
    # An empty plaintext is one empty chunk; an exact multiple of 64 KiB ends with a full one.
    return max(1, -(-size // CHUNK_SIZE))


@pytest.mark.parametrize("size", SIZES)
def test_round_trip(size: int) -> None:
    data = plaintext(size)
    encrypted = encrypt(data, RECIPIENTS)
    assert len(encrypted) - payload_offset(encrypted) == size + TAG_SIZE * expected_chunks(size)
    assert decrypt(encrypted, [IDENTITY]) == data
    chunks = list(decrypt_chunks(io.BytesIO(encrypted), [IDENTITY]))
    assert all(0 < len(c) <= CHUNK_SIZE for c in chunks)
    assert b"".join(chunks) == data


@settings(max_examples=40, deadline=None)
@given(
    size=st.integers(0, 3 * CHUNK_SIZE + 10) | st.sampled_from([CHUNK_SIZE, 2 * CHUNK_SIZE]),
    cuts=st.lists(st.floats(0, 1), max_size=8),
)
def test_round_trip_with_any_write_split(size: int, cuts: list[float]) -> None:
    data = plaintext(size)
    points = sorted(int(c * size) for c in cuts)
    out = io.BytesIO()
    with Encryptor(out, RECIPIENTS) as encryptor:
        for start, end in zip([0, *points], [*points, size], strict=True):
            encryptor.write(data[start:end])
    encrypted = out.getvalue()
    assert len(encrypted) - payload_offset(encrypted) == size + TAG_SIZE * expected_chunks(size)
    assert decrypt(encrypted, [IDENTITY]) == data


def test_encryptor_holds_back_only_one_chunk() -> None:
    out = io.BytesIO()
    encryptor = Encryptor(out, RECIPIENTS)
    start = len(out.getvalue())
    written = 0
    piece = plaintext(10_000)
    for _ in range(40):
        encryptor.write(piece)
        written += len(piece)
        # Every chunk but the one that might be last is already out.
        flushed = -(-written // CHUNK_SIZE) - 1
        assert len(out.getvalue()) == start + flushed * ENCRYPTED_CHUNK_SIZE
    encryptor.close()
    assert decrypt(out.getvalue(), [IDENTITY]) == piece * 40


@pytest.mark.parametrize("size", [CHUNK_SIZE, 2 * CHUNK_SIZE + 7])
def test_a_buffer_changed_after_writing_does_not_change_the_file(size: int) -> None:
    data = plaintext(size)
    buffer = bytearray(data)
    out = io.BytesIO()
    encryptor = Encryptor(out, RECIPIENTS)
    encryptor.write(buffer)
    buffer[:] = bytes(len(buffer))  # the caller reuses its buffer before the file is closed
    encryptor.close()
    assert decrypt(out.getvalue(), [IDENTITY]) == data


class LendingSink:
    """An in-place sink lending `room` in a buffer of `block` bytes, written out when full.

    It lends nothing across the end of its buffer, so sealed chunks arrive both ways.
    """

    def __init__(self, block: int) -> None:
        self.block = bytearray(block)
        self.fill = 0
        self.out = io.BytesIO()
        self.lent = 0

    def write(self, data: bytes) -> None:
        for byte in memoryview(data).cast("B"):  # byte by byte: slow, but plainly right
            self.block[self.fill] = byte
            self.advance(1)

    def room(self, size: int) -> memoryview | None:
        if self.fill + size > len(self.block):
            return None
        self.lent += 1
        return memoryview(self.block)[self.fill : self.fill + size]

    def advance(self, size: int) -> None:
        self.fill += size
        if self.fill == len(self.block):
            self.out.write(self.block)
            self.fill = 0

    def value(self) -> bytes:
        return self.out.getvalue() + bytes(self.block[: self.fill])


@pytest.mark.parametrize("size", [0, CHUNK_SIZE, 5 * CHUNK_SIZE + 3])
@pytest.mark.parametrize("block", [2 * ENCRYPTED_CHUNK_SIZE + 100, 1 << 20])
def test_chunks_sealed_in_a_sinks_own_buffer_make_the_same_file(size: int, block: int) -> None:
    data = plaintext(size)
    sink = LendingSink(block)
    with Encryptor(sink, RECIPIENTS) as encryptor:
        encryptor.write(data)
    encrypted = sink.value()
    assert sink.lent > 0  # some chunks were sealed in place
    assert len(encrypted) - payload_offset(encrypted) == size + TAG_SIZE * expected_chunks(size)
    assert decrypt(encrypted, [IDENTITY]) == data


def _interrupted_write(out: io.BytesIO) -> None:
    with Encryptor(out, RECIPIENTS) as encryptor:
        encryptor.write(plaintext(CHUNK_SIZE + 5))
        raise RuntimeError("interrupted")


def test_exception_inside_with_writes_no_final_chunk() -> None:
    out = io.BytesIO()
    with pytest.raises(RuntimeError, match="interrupted"):
        _interrupted_write(out)
    partial = out.getvalue()
    assert len(partial) - payload_offset(partial) == ENCRYPTED_CHUNK_SIZE
    with pytest.raises(PayloadError):
        decrypt(partial, [IDENTITY])


def test_closed_encryptor_refuses_writes() -> None:
    out = io.BytesIO()
    encryptor = Encryptor(out, RECIPIENTS)
    encryptor.close()
    encryptor.close()  # harmless
    with pytest.raises(ValueError, match="closed"):
        encryptor.write(b"x")
    assert decrypt(out.getvalue(), [IDENTITY]) == b""


def test_encryptor_needs_recipients() -> None:
    with pytest.raises(ValueError, match="no recipients"):
        Encryptor(io.BytesIO(), [])


def test_header_is_checked_at_the_call() -> None:
    encrypted = encrypt(b"x", RECIPIENTS)
    with pytest.raises(NoIdentityMatch):
        decrypt_chunks(io.BytesIO(encrypted), [X25519Identity.generate()])
    with pytest.raises(NoIdentityMatch):
        decrypt_chunks(io.BytesIO(encrypted), [])


class _Tracking(io.BytesIO):
    """Remembers how far into the stream anyone has read."""

    high_water = 0

    def read(self, size: int | None = -1, /) -> bytes:
        data = super().read(size)
        self.high_water = max(self.high_water, self.tell())
        return data


def test_decryption_streams() -> None:
    data = plaintext(10 * CHUNK_SIZE)
    src = _Tracking(encrypt(data, RECIPIENTS))
    chunks = decrypt_chunks(src, [IDENTITY])
    assert next(chunks) == data[:CHUNK_SIZE]
    # The first chunk is released having read one chunk (and one header read-ahead), not all.
    assert src.high_water <= payload_offset(src.getvalue()) + ENCRYPTED_CHUNK_SIZE + 4096
    assert b"".join(chunks) == data[CHUNK_SIZE:]


class _Trickle(io.RawIOBase):
    """A stream that returns at most `most` bytes a read, as a pipe or socket may."""

    def __init__(self, data: bytes, most: int) -> None:
        super().__init__()
        self._data = io.BytesIO(data)
        self._most = most

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        piece = self._data.read(min(len(buffer), self._most))
        buffer[: len(piece)] = piece
        return len(piece)


@pytest.mark.parametrize("most", [1, 4093, ENCRYPTED_CHUNK_SIZE - 1])
def test_short_reads_are_put_together_into_whole_chunks(most: int) -> None:
    data = plaintext(3 * CHUNK_SIZE + 5)
    src = _Trickle(encrypt(data, RECIPIENTS), most)
    assert b"".join(decrypt_chunks(src, [IDENTITY])) == data  # type: ignore[arg-type]


def test_every_flipped_byte_is_refused() -> None:
    encrypted = encrypt(b"a short confidential memo", RECIPIENTS)
    for index in range(len(encrypted)):
        for mask in (0x01, 0x80):
            tampered = bytearray(encrypted)
            tampered[index] ^= mask
            with pytest.raises(AgeError):
                decrypt(bytes(tampered), [IDENTITY])


def test_every_truncation_is_refused() -> None:
    encrypted = encrypt(b"a short confidential memo", RECIPIENTS)
    for length in range(len(encrypted)):
        with pytest.raises(AgeError):
            decrypt(encrypted[:length], [IDENTITY])


@pytest.mark.parametrize("size", [CHUNK_SIZE, 2 * CHUNK_SIZE, 2 * CHUNK_SIZE + 100])
def test_truncation_at_chunk_boundaries_is_refused(size: int) -> None:
    encrypted = encrypt(plaintext(size), RECIPIENTS)
    start = payload_offset(encrypted)
    for chunks in range(expected_chunks(size)):
        with pytest.raises(PayloadError):
            decrypt(encrypted[: start + chunks * ENCRYPTED_CHUNK_SIZE], [IDENTITY])


def test_reordered_chunks_are_refused() -> None:
    encrypted = encrypt(plaintext(3 * CHUNK_SIZE + 1), RECIPIENTS)
    start = payload_offset(encrypted)
    first = encrypted[start : start + ENCRYPTED_CHUNK_SIZE]
    second = encrypted[start + ENCRYPTED_CHUNK_SIZE : start + 2 * ENCRYPTED_CHUNK_SIZE]
    swapped = encrypted[:start] + second + first + encrypted[start + 2 * ENCRYPTED_CHUNK_SIZE :]
    with pytest.raises(PayloadError):
        decrypt(swapped, [IDENTITY])


@pytest.mark.parametrize("size", [0, 100, CHUNK_SIZE])
@pytest.mark.parametrize("extra", [b"\x00", b"garbage", bytes(ENCRYPTED_CHUNK_SIZE + 3)])
def test_trailing_data_is_refused(size: int, extra: bytes) -> None:
    encrypted = encrypt(plaintext(size), RECIPIENTS)
    with pytest.raises(PayloadError):
        decrypt(encrypted + extra, [IDENTITY])


def test_appended_file_is_refused() -> None:
    # Two valid files back to back are not one valid file.
    encrypted = encrypt(b"first", RECIPIENTS)
    with pytest.raises(PayloadError):
        decrypt(encrypted + encrypted, [IDENTITY])
