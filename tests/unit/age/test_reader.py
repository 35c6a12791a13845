"""`ChunkReader`: seekable plaintext that still refuses truncated or extended files."""

import gc
import hashlib
import io
import os
import zipfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vault.age import (
    ChunkReader,
    NoIdentityMatch,
    PayloadError,
    X25519Identity,
    encrypt,
)
from vault.age.header import read_header
from vault.age.stream import CHUNK_SIZE, ENCRYPTED_CHUNK_SIZE, NONCE_SIZE

IDENTITY = X25519Identity.generate()
PLAINTEXT = hashlib.shake_256(b"reader").digest(3 * CHUNK_SIZE + 1234)
ENCRYPTED = encrypt(PLAINTEXT, [IDENTITY.recipient])
PAYLOAD_START = read_header(io.BytesIO(ENCRYPTED))[0].size + NONCE_SIZE


def open_reader(data: bytes = ENCRYPTED) -> ChunkReader:
    return ChunkReader(io.BytesIO(data), [IDENTITY])


operations = st.lists(
    st.tuples(
        st.sampled_from([os.SEEK_SET, os.SEEK_CUR, os.SEEK_END]),
        st.integers(-len(PLAINTEXT) - 10, len(PLAINTEXT) + 10),
        st.integers(-1, 2 * CHUNK_SIZE),
    ),
    max_size=12,
)


@settings(max_examples=60, deadline=None)
@given(operations)
def test_random_seeks_match_the_plaintext(ops: list[tuple[int, int, int]]) -> None:
    reader = open_reader()
    model = io.BytesIO(PLAINTEXT)
    for whence, offset, size in ops:
        target = {os.SEEK_SET: 0, os.SEEK_CUR: model.tell(), os.SEEK_END: len(PLAINTEXT)}
        if target[whence] + offset < 0:
            with pytest.raises(ValueError, match="negative"):
                reader.seek(offset, whence)
            continue
        assert reader.seek(offset, whence) == model.seek(offset, whence)
        assert reader.read(size) == model.read(size)
        assert reader.tell() == model.tell()


def test_interface() -> None:
    with open_reader() as reader:
        assert reader.readable()
        assert reader.seekable()
        assert not reader.writable()
        assert reader.size == len(PLAINTEXT)
        assert reader.mode == "rb"
        buffer = bytearray(CHUNK_SIZE + 10)
        reader.seek(CHUNK_SIZE - 5)
        # readinto fills across a chunk boundary in one call.
        assert reader.readinto(buffer) == len(buffer)
        assert bytes(buffer) == PLAINTEXT[CHUNK_SIZE - 5 : 2 * CHUNK_SIZE + 5]
        reader.seek(0)
        assert reader.read() == PLAINTEXT
        assert reader.read(10) == b""
        reader.seek(len(PLAINTEXT) + 100)
        assert reader.read(10) == b""
        assert reader.readinto(buffer) == 0
        with pytest.raises(ValueError, match="whence"):
            reader.seek(0, 7)
    assert reader.closed
    with pytest.raises(ValueError, match="closed"):
        reader.read(1)


def test_wraps_as_a_buffered_binary_stream() -> None:
    buffered = io.BufferedReader(open_reader())
    assert buffered.read(5) == PLAINTEXT[:5]
    buffered.seek(CHUNK_SIZE)
    assert buffered.read() == PLAINTEXT[CHUNK_SIZE:]


def test_huge_read_request_allocates_only_what_remains() -> None:
    reader = open_reader()
    reader.seek(-10, os.SEEK_END)
    assert reader.read(1 << 50) == PLAINTEXT[-10:]


def test_source_is_closed_only_if_handed_over() -> None:
    src = io.BytesIO(ENCRYPTED)
    ChunkReader(src, [IDENTITY]).close()
    assert not src.closed
    src.seek(0)
    with ChunkReader(src, [IDENTITY], close_source=True) as reader:
        assert reader.read(3) == PLAINTEXT[:3]
    assert src.closed
    truncated = io.BytesIO(ENCRYPTED[:-1])
    with pytest.raises(PayloadError):
        ChunkReader(truncated, [IDENTITY], close_source=True)
    gc.collect()  # the half-built reader's finaliser must not close the caller's stream
    assert not truncated.closed


def test_age_file_may_start_inside_the_stream() -> None:
    src = io.BytesIO(b"some prefix" + ENCRYPTED)
    src.seek(len(b"some prefix"))
    reader = ChunkReader(src, [IDENTITY])
    assert reader.read() == PLAINTEXT


@pytest.mark.parametrize("size", [0, 1, CHUNK_SIZE, 2 * CHUNK_SIZE, 2 * CHUNK_SIZE + 1])
def test_sizes(size: int) -> None:
    data = hashlib.shake_256(b"sizes").digest(size)
    reader = open_reader(encrypt(data, [IDENTITY.recipient]))
    assert reader.size == size
    assert reader.read() == data


def test_truncation_at_a_chunk_boundary_is_refused_at_once() -> None:
    for chunks in range(4):
        with pytest.raises(PayloadError):
            open_reader(ENCRYPTED[: PAYLOAD_START + chunks * ENCRYPTED_CHUNK_SIZE])


@pytest.mark.parametrize("cut", [1, 16, 17, 1000])
def test_truncation_inside_a_chunk_is_refused_at_once(cut: int) -> None:
    with pytest.raises(PayloadError):
        open_reader(ENCRYPTED[:-cut])


@pytest.mark.parametrize("extra", [b"\x00", bytes(16), bytes(ENCRYPTED_CHUNK_SIZE)])
def test_trailing_data_is_refused_at_once(extra: bytes) -> None:
    with pytest.raises(PayloadError):
        open_reader(ENCRYPTED + extra)


def test_tampered_middle_chunk_is_refused_when_read() -> None:
    tampered = bytearray(ENCRYPTED)
    tampered[PAYLOAD_START + ENCRYPTED_CHUNK_SIZE + 7] ^= 1
    reader = open_reader(bytes(tampered))
    assert reader.read(CHUNK_SIZE) == PLAINTEXT[:CHUNK_SIZE]
    with pytest.raises(PayloadError):
        reader.read(1)
    reader.seek(2 * CHUNK_SIZE)
    assert reader.read(10) == PLAINTEXT[2 * CHUNK_SIZE : 2 * CHUNK_SIZE + 10]


def test_wrong_identity() -> None:
    with pytest.raises(NoIdentityMatch):
        ChunkReader(io.BytesIO(ENCRYPTED), [X25519Identity.generate()])


def test_zip_inside_the_vault_opens_without_plaintext_on_disk() -> None:
    members = {
        "memo.txt": b"meeting moved to thursday\n" * 5000,
        "ledger.bin": hashlib.shake_256(b"ledger").digest(200_000),
    }
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("memo.txt", members["memo.txt"], compress_type=zipfile.ZIP_DEFLATED)
        zf.writestr("ledger.bin", members["ledger.bin"], compress_type=zipfile.ZIP_STORED)
    with zipfile.ZipFile(open_reader(encrypt(archive.getvalue(), [IDENTITY.recipient]))) as zf:
        assert sorted(zf.namelist()) == sorted(members)
        for name, content in members.items():
            assert zf.read(name) == content
