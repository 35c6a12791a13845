"""The content-addressed object store: addressing, sealing, deduplication and every refusal.

Each object is checked against what is computed here independently: the address is
HMAC-SHA256(id key, plaintext), the file is a standard age file of the Padmé-padded plaintext,
and its length is a function of the padded size alone.
"""

import hashlib
import hmac
import io
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.store.test_direct import has_direct_io
from vault.age import Encryptor, X25519Identity, decrypt, encrypt
from vault.errors import Cancelled, IntegrityError
from vault.store import direct
from vault.store.objects import CHUNK, READ, SYNC_EARLY, ObjectKeys, ObjectStore, Staged, check_oid
from vault.store.padding import padme

SIZES = [0, 1, 65535, 65536, 65537, 1024 * 1024 + 1]
TAG = 16
NONCE = 16


@dataclass(frozen=True)
class Collection:
    """A collection's keys, as the store sees them."""

    identity: X25519Identity
    id_key: bytes

    @property
    def keys(self) -> ObjectKeys:
        return ObjectKeys([self.identity], self.id_key)

    def oid(self, plaintext: bytes) -> str:
        digest = hashlib.sha256(plaintext).digest()
        return hmac.new(self.id_key, digest, hashlib.sha256).hexdigest()


@pytest.fixture
def store(tmp_path: Path) -> ObjectStore:
    return ObjectStore(tmp_path)


@pytest.fixture
def coll() -> Collection:
    return Collection(X25519Identity.generate(), os.urandom(32))


def _put(store: ObjectStore, coll: Collection, data: bytes) -> Staged:
    staged = store.stage(io.BytesIO(data), id_key=coll.id_key, recipient=coll.identity.recipient)
    assert store.commit([staged]) == [True]
    return staged


def _read(store: ObjectStore, oid: str, size: int, keys: ObjectKeys) -> bytes:
    return b"".join(store.read(oid, size=size, keys=keys))


def _files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.is_file()) if directory.exists() else []


def _expected_file_length(coll: Collection, size: int) -> int:
    # An age file is header + 16-byte nonce + the padded plaintext + a 16-byte tag per 64 KiB
    # chunk (an empty plaintext is one empty chunk). Measure the header with an empty file.
    header = len(encrypt(b"", [coll.identity.recipient])) - NONCE - TAG
    padded = padme(size)
    chunks = max(1, -(-padded // CHUNK))
    return header + NONCE + padded + TAG * chunks


# --- round trip and addressing ------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
def test_stage_commit_read_round_trip(store: ObjectStore, coll: Collection, size: int) -> None:
    data = os.urandom(size)
    staged = _put(store, coll, data)
    assert staged.oid == coll.oid(data)
    assert staged.size == size
    assert staged.sha256 == hashlib.sha256(data).hexdigest()
    assert store.exists(staged.oid)
    assert store.path(staged.oid) == store.objects / staged.oid[:2] / staged.oid
    assert _read(store, staged.oid, size, coll.keys) == data
    store.verify(staged.oid, size=size, keys=coll.keys)


@pytest.mark.parametrize("size", SIZES)
def test_object_is_a_standard_age_file_of_the_padded_plaintext(
    store: ObjectStore, coll: Collection, size: int
) -> None:
    data = os.urandom(size)
    staged = _put(store, coll, data)
    raw = store.path(staged.oid).read_bytes()
    assert raw.startswith(b"age-encryption.org/v1\n")
    assert decrypt(raw, [coll.identity]) == data + bytes(padme(size) - size)


@pytest.mark.parametrize("size", SIZES)
def test_ciphertext_length_is_what_padme_predicts(
    store: ObjectStore, coll: Collection, size: int
) -> None:
    staged = _put(store, coll, os.urandom(size))
    assert store.path(staged.oid).stat().st_size == _expected_file_length(coll, size)


@pytest.mark.parametrize(("small", "large"), [(9, 10), (1000, 1024), (65537, 67584)])
def test_sizes_with_one_padded_length_give_equal_ciphertext_lengths(
    store: ObjectStore, coll: Collection, small: int, large: int
) -> None:
    a = _put(store, coll, os.urandom(small))
    b = _put(store, coll, os.urandom(large))
    assert padme(small) == padme(large)
    assert store.path(a.oid).stat().st_size == store.path(b.oid).stat().st_size


def test_address_is_keyed_not_a_plain_hash(store: ObjectStore, coll: Collection) -> None:
    data = b"a document an adversary also holds"
    other = Collection(coll.identity, os.urandom(32))
    staged = _put(store, coll, data)
    assert staged.oid != hashlib.sha256(data).hexdigest()
    assert staged.oid != other.oid(data)
    assert not store.exists(other.oid(data))


def test_stage_reports_progress_and_writes_only_ciphertext(
    store: ObjectStore, coll: Collection
) -> None:
    data = b"PLAINTEXT-CANARY " * 10_000
    seen: list[int] = []
    staged = store.stage(
        io.BytesIO(data),
        id_key=coll.id_key,
        recipient=coll.identity.recipient,
        on_bytes=seen.append,
    )
    assert sum(seen) == len(data)
    assert all(0 < n <= READ for n in seen)
    assert b"PLAINTEXT-CANARY" not in staged.tmp.read_bytes()


# --- temp files, deduplication, cancellation ----------------------------------------------


def test_staged_temp_file_is_private_and_in_tmp(store: ObjectStore, coll: Collection) -> None:
    staged = store.stage(
        io.BytesIO(b"x" * 100), id_key=coll.id_key, recipient=coll.identity.recipient
    )
    assert staged.tmp.parent == store.tmp
    assert staged.tmp.is_file()
    assert stat.S_IMODE(staged.tmp.stat().st_mode) == 0o600
    assert not store.exists(staged.oid)
    store.commit([staged])
    assert not staged.tmp.exists()
    assert stat.S_IMODE(store.path(staged.oid).stat().st_mode) == 0o600
    assert _files(store.tmp) == []


def test_same_content_twice_is_one_object(store: ObjectStore, coll: Collection) -> None:
    data = os.urandom(70_000)
    first = _put(store, coll, data)
    before = store.path(first.oid).read_bytes()
    second = store.stage(io.BytesIO(data), id_key=coll.id_key, recipient=coll.identity.recipient)
    assert second.oid == first.oid
    assert store.commit([second]) == [False]
    assert not second.tmp.exists()
    assert _files(store.tmp) == []
    assert _files(store.objects) == [store.path(first.oid)]
    # The existing object is kept as it was, not overwritten by the second encryption.
    assert store.path(first.oid).read_bytes() == before


def test_duplicates_within_one_batch(store: ObjectStore, coll: Collection) -> None:
    def stage(data: bytes) -> Staged:
        return store.stage(io.BytesIO(data), id_key=coll.id_key, recipient=coll.identity.recipient)

    batch = [stage(b"one"), stage(b"two"), stage(b"one")]
    assert store.commit(batch) == [True, True, False]
    assert _files(store.tmp) == []
    assert len(_files(store.objects)) == 2
    assert _read(store, batch[0].oid, 3, coll.keys) == b"one"


@pytest.mark.parametrize("direct_io", [True, False])
def test_a_large_object_reaches_the_disk_as_it_is_staged(
    store: ObjectStore,
    coll: Collection,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    direct_io: bool,
) -> None:
    """Straight to the disk where the filesystem allows, else written back by `fdatasync`."""
    if direct_io and not has_direct_io(tmp_path):
        pytest.skip(f"the filesystem of {tmp_path} has no direct I/O to test")
    synced: list[int] = []
    real = os.fdatasync

    def fdatasync(fd: int) -> None:
        synced.append(fd)
        real(fd)

    monkeypatch.setattr(os, "fdatasync", fdatasync)
    if not direct_io:
        monkeypatch.setattr(direct, "_set_direct", lambda fd, *, on: False)
    for size in (SYNC_EARLY - 1, SYNC_EARLY):
        store.stage(io.BytesIO(bytes(size)), id_key=coll.id_key, recipient=coll.identity.recipient)
    # The small one waits for the batch's one sync in `commit`; so does a large one on the disk.
    assert len(synced) == (0 if direct_io else 1)


def test_cancelled_stage_removes_its_temp_file(store: ObjectStore, coll: Collection) -> None:
    polls = 0

    def cancelled() -> bool:
        nonlocal polls
        polls += 1
        return polls > 2

    with pytest.raises(Cancelled):
        store.stage(
            io.BytesIO(os.urandom(5 * READ)),
            id_key=coll.id_key,
            recipient=coll.identity.recipient,
            cancelled=cancelled,
        )
    assert polls == 3
    assert _files(store.tmp) == []
    assert _files(store.objects) == []


class _FailingSource(io.BytesIO):
    """A source that yields `good` bytes and then fails, like a USB stick pulled out."""

    def __init__(self, good: int) -> None:
        super().__init__()
        self._good = good

    def read(self, size: int | None = -1, /) -> bytes:
        if self._good <= 0:
            raise OSError("device removed")
        n = self._good if size is None or size < 0 else min(self._good, size)
        self._good -= n
        return b"x" * n


def test_failing_source_removes_the_temp_file(store: ObjectStore, coll: Collection) -> None:
    with pytest.raises(OSError, match="device removed"):
        store.stage(
            _FailingSource(3 * CHUNK),
            id_key=coll.id_key,
            recipient=coll.identity.recipient,
        )
    assert _files(store.tmp) == []


def test_discard_removes_staged_files(store: ObjectStore, coll: Collection) -> None:
    staged = store.stage(io.BytesIO(b"abc"), id_key=coll.id_key, recipient=coll.identity.recipient)
    store.discard([staged])
    assert _files(store.tmp) == []
    assert not store.exists(staged.oid)


def test_list_oids(store: ObjectStore, coll: Collection) -> None:
    assert list(store.list_oids()) == []
    oids = sorted(_put(store, coll, bytes([i])).oid for i in range(5))
    assert list(store.list_oids()) == [f"{oid[:2]}/{oid}" for oid in oids]


# --- reading refuses what is not the document asked for -----------------------------------


def _same_size_pair(store: ObjectStore, coll: Collection, size: int) -> tuple[Staged, Staged]:
    a = _put(store, coll, os.urandom(size))
    b = _put(store, coll, os.urandom(size))
    return a, b


@pytest.mark.parametrize("size", [1, 1000, 65536, 200_001])
def test_swapped_object_is_refused(store: ObjectStore, coll: Collection, size: int) -> None:
    a, b = _same_size_pair(store, coll, size)
    os.replace(store.path(b.oid), store.path(a.oid))
    # The swapped file decrypts fine under the collection's key: only the HMAC catches it.
    assert len(decrypt(store.path(a.oid).read_bytes(), [coll.identity])) == padme(size)
    with pytest.raises(IntegrityError):
        _read(store, a.oid, size, coll.keys)
    with pytest.raises(IntegrityError):
        store.verify(a.oid, size=size, keys=coll.keys)
    with pytest.raises(IntegrityError):
        store.open_seekable(a.oid, size=size, keys=coll.keys)


def _consume_until_refused(store: ObjectStore, oid: str, size: int, keys: ObjectKeys) -> bytes:
    """Everything `read` released before refusing the object."""
    released = bytearray()
    try:
        for chunk in store.read(oid, size=size, keys=keys):
            released += chunk
    except IntegrityError:
        return bytes(released)
    pytest.fail("a swapped object was read without complaint")


@pytest.mark.parametrize(
    "size",
    [
        200_001,  # the final chunk holds data and padding
        (4 << 20) + 1,  # padding fills a whole chunk after the last one with data
    ],
)
def test_read_withholds_the_end_of_a_swapped_object(
    store: ObjectStore, coll: Collection, size: int
) -> None:
    # `read` promises the final chunk is yielded only after the address is verified, so a
    # consumer stopped by the exception has never seen the end of a swapped document.
    a, b = _same_size_pair(store, coll, size)
    os.replace(store.path(b.oid), store.path(a.oid))
    released = _consume_until_refused(store, a.oid, size, coll.keys)
    assert len(released) < size


def test_missing_object_is_refused(store: ObjectStore, coll: Collection) -> None:
    with pytest.raises(IntegrityError, match="missing"):
        _read(store, coll.oid(b"never stored"), 12, coll.keys)


@pytest.mark.parametrize("size", [100, 200_001])
def test_every_flipped_region_is_refused(store: ObjectStore, coll: Collection, size: int) -> None:
    staged = _put(store, coll, os.urandom(size))
    path = store.path(staged.oid)
    original = path.read_bytes()
    header_end = original.index(b"\n---") + 49
    positions = {
        0,  # the magic line
        30,  # a recipient stanza
        header_end - 5,  # the header MAC
        header_end + 3,  # the payload nonce
        header_end + NONCE + 10,  # first chunk
        len(original) // 2,
        len(original) - TAG - 1,  # last byte of the final chunk's ciphertext
        len(original) - 1,  # final tag
    }
    for position in sorted(positions):
        for mask in (0x01, 0x80):
            damaged = bytearray(original)
            damaged[position] ^= mask
            path.write_bytes(bytes(damaged))
            with pytest.raises(IntegrityError):
                store.verify(staged.oid, size=size, keys=coll.keys)
            with pytest.raises(IntegrityError):
                store.open_seekable(staged.oid, size=size, keys=coll.keys)


@pytest.mark.parametrize("cut", [1, TAG, CHUNK + TAG, "to-header", "to-empty"])
def test_truncated_object_is_refused(store: ObjectStore, coll: Collection, cut: int | str) -> None:
    size = 3 * CHUNK + 5
    staged = _put(store, coll, os.urandom(size))
    path = store.path(staged.oid)
    original = path.read_bytes()
    if cut == "to-header":
        kept = original[: original.index(b"\n---") + 49]  # the header, without the nonce
    elif cut == "to-empty":
        kept = b""
    else:
        assert isinstance(cut, int)
        kept = original[:-cut]
    path.write_bytes(kept)
    with pytest.raises(IntegrityError):
        store.verify(staged.oid, size=size, keys=coll.keys)


def test_object_cut_at_a_chunk_boundary_is_refused(store: ObjectStore, coll: Collection) -> None:
    # Dropping whole trailing chunks leaves a file whose last chunk is a full, non-final one.
    size = 3 * CHUNK
    staged = _put(store, coll, os.urandom(size))
    path = store.path(staged.oid)
    original = path.read_bytes()
    path.write_bytes(original[: len(original) - (CHUNK + TAG)])
    with pytest.raises(IntegrityError):
        store.verify(staged.oid, size=size, keys=coll.keys)


def test_appended_bytes_are_refused(store: ObjectStore, coll: Collection) -> None:
    staged = _put(store, coll, os.urandom(1000))
    with store.path(staged.oid).open("ab") as handle:
        handle.write(b"\x00")
    with pytest.raises(IntegrityError):
        store.verify(staged.oid, size=1000, keys=coll.keys)


@pytest.mark.parametrize("delta", [-1, 1, 100_000])
def test_wrong_size_is_refused(store: ObjectStore, coll: Collection, delta: int) -> None:
    # The size comes from the catalog; a catalog that lies about it must not go unnoticed.
    data = os.urandom(1000) + bytes(24)  # ends in zeros, so a shorter size still reads "padding"
    staged = _put(store, coll, data)
    with pytest.raises(IntegrityError):
        store.verify(staged.oid, size=len(data) + delta, keys=coll.keys)


def test_wrong_identity_is_refused(store: ObjectStore, coll: Collection) -> None:
    staged = _put(store, coll, b"secret")
    stranger = ObjectKeys([X25519Identity.generate()], coll.id_key)
    with pytest.raises(IntegrityError):
        store.verify(staged.oid, size=6, keys=stranger)


def test_wrong_id_key_is_refused(store: ObjectStore, coll: Collection) -> None:
    staged = _put(store, coll, b"secret")
    with pytest.raises(IntegrityError):
        store.verify(staged.oid, size=6, keys=ObjectKeys([coll.identity], os.urandom(32)))


def test_older_identities_still_read(store: ObjectStore, coll: Collection) -> None:
    # After a rotation a collection holds several identities; objects of any version read.
    staged = _put(store, coll, b"old object")
    newer = X25519Identity.generate()
    keys = ObjectKeys([newer, coll.identity], coll.id_key)
    assert _read(store, staged.oid, 10, keys) == b"old object"


def _plant(store: ObjectStore, coll: Collection, oid: str, padded: bytes) -> None:
    """Write an object file by hand, encrypting `padded` exactly as given."""
    out = io.BytesIO()
    with Encryptor(out, [coll.identity.recipient]) as encryptor:
        encryptor.write(padded)
    path = store.path(oid)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(out.getvalue())


@pytest.mark.parametrize("size", [100, 200_001])
def test_hand_made_object_with_correct_padding_reads(
    store: ObjectStore, coll: Collection, size: int
) -> None:
    # The control for the padding tests below: `_plant` itself makes readable objects.
    data = os.urandom(size)
    _plant(store, coll, coll.oid(data), data + bytes(padme(size) - size))
    assert _read(store, coll.oid(data), size, coll.keys) == data


@pytest.mark.parametrize("size", [100, 200_001])
@pytest.mark.parametrize("where", ["first", "last"])
def test_non_zero_padding_is_refused(
    store: ObjectStore, coll: Collection, size: int, where: str
) -> None:
    data = os.urandom(size)
    pad = bytearray(padme(size) - size)
    assert len(pad) > 1
    pad[0 if where == "first" else -1] = 1
    _plant(store, coll, coll.oid(data), data + bytes(pad))
    with pytest.raises(IntegrityError):
        store.verify(coll.oid(data), size=size, keys=coll.keys)


@pytest.mark.parametrize("extra", [-1, 1, CHUNK])
def test_wrong_padding_length_is_refused(store: ObjectStore, coll: Collection, extra: int) -> None:
    size = 100
    data = os.urandom(size)
    _plant(store, coll, coll.oid(data), data + bytes(padme(size) - size + extra))
    with pytest.raises(IntegrityError):
        store.verify(coll.oid(data), size=size, keys=coll.keys)


def test_unpadded_object_is_refused(store: ObjectStore, coll: Collection) -> None:
    # Not padding would leak the exact size; the reader must not accept such a file either.
    data = os.urandom(100)
    assert padme(100) != 100
    _plant(store, coll, coll.oid(data), data)
    with pytest.raises(IntegrityError):
        store.verify(coll.oid(data), size=100, keys=coll.keys)


# --- random access --------------------------------------------------------------------------


def test_open_seekable_gives_random_access_and_hides_padding(
    store: ObjectStore, coll: Collection
) -> None:
    size = 3 * CHUNK + 12_345
    assert padme(size) > size
    data = os.urandom(size)
    staged = _put(store, coll, data)
    with store.open_seekable(staged.oid, size=size, keys=coll.keys) as view:
        assert view.seekable()
        assert view.read() == data
        assert view.read(10) == b""
        assert view.seek(0, os.SEEK_END) == size
        for offset, length in [
            (0, 1),
            (CHUNK - 3, 10),  # across a chunk boundary
            (2 * CHUNK, CHUNK),
            (size - 5, 100),  # up to the end, never into the padding
            (17, 3 * CHUNK),
            (size, 10),
            (size + 1000, 10),
        ]:
            view.seek(offset)
            assert view.read(length) == data[offset : offset + length]
        view.seek(-7, os.SEEK_END)
        assert view.read() == data[-7:]
        view.seek(100)
        view.seek(50, os.SEEK_CUR)
        assert view.tell() == 150
        assert view.read(4) == data[150:154]


@pytest.fixture(scope="module")
def seekable_object(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[ObjectStore, Staged, bytes, ObjectKeys]:
    coll = Collection(X25519Identity.generate(), os.urandom(32))
    store = ObjectStore(tmp_path_factory.mktemp("seekable"))
    data = os.urandom(2 * CHUNK + 777)
    return store, _put(store, coll, data), data, coll.keys


@given(reads=st.lists(st.tuples(st.integers(0, 140_000), st.integers(0, 70_000)), max_size=20))
def test_open_seekable_matches_slicing(
    seekable_object: tuple[ObjectStore, Staged, bytes, ObjectKeys],
    reads: list[tuple[int, int]],
) -> None:
    store, staged, data, keys = seekable_object
    with store.open_seekable(staged.oid, size=staged.size, keys=keys) as view:
        for offset, length in reads:
            view.seek(offset)
            assert view.read(length) == data[offset : offset + length]


def test_closing_a_seekable_view_closes_the_object_file(
    store: ObjectStore, coll: Collection, monkeypatch: pytest.MonkeyPatch
) -> None:
    staged = _put(store, coll, os.urandom(1000))
    opened: list[IO[Any]] = []
    real_open = Path.open

    def tracking_open(self: Path, *args: Any, **kwargs: Any) -> IO[Any]:
        handle: IO[Any] = real_open(self, *args, **kwargs)
        opened.append(handle)
        return handle

    monkeypatch.setattr(Path, "open", tracking_open)
    view = store.open_seekable(staged.oid, size=1000, keys=coll.keys)
    assert view.read(10)
    view.close()
    assert opened
    # `view` is still referenced, so nothing was garbage-collected: only close() counts.
    assert [h.closed for h in opened] == [True] * len(opened)


# --- object ids never become paths --------------------------------------------------------


@pytest.mark.parametrize(
    "oid",
    [
        "",
        "../x",
        "../" + "a" * 61,
        "a" * 63,
        "a" * 65,
        "A" * 64,
        "aB" + "a" * 62,
        "g" * 64,
        "ab/" + "a" * 61,
        "/" + "a" * 63,
        "a" * 63 + "\n",
        "a" * 63 + "\x00",
        "٣" * 64,  # Arabic-Indic digits are digits to str.isdigit, not hex
        "ａ" * 64,  # fullwidth a
    ],
)
def test_check_oid_refuses_anything_but_64_lowercase_hex(store: ObjectStore, oid: str) -> None:
    with pytest.raises(IntegrityError):
        check_oid(oid)
    with pytest.raises(IntegrityError):
        store.path(oid)
    with pytest.raises(IntegrityError):
        store.exists(oid)


@given(st.text(max_size=70))
def test_check_oid_accepts_exactly_lowercase_hex(text: str) -> None:
    valid = len(text) == 64 and all(c in "0123456789abcdef" for c in text)
    if valid:
        check_oid(text)
    else:
        with pytest.raises(IntegrityError):
            check_oid(text)


@given(st.binary(min_size=32, max_size=32))
def test_check_oid_accepts_real_addresses(digest: bytes) -> None:
    check_oid(digest.hex())
