"""The C2SP CCTV age test vectors, run through both readers.

Each vector names the stage at which it must fail, and we hold ourselves to that stage: a header
failure must not be masked as a MAC failure, a "no match" must not be a parse error. For payload
failures, the plaintext released before the error must match the vector's hash too.
"""

import hashlib
import io
import zlib
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import SHARED
from vault.age import (
    AgeError,
    ChunkReader,
    HeaderError,
    HeaderMACError,
    HybridIdentity,
    Identity,
    NoIdentityMatch,
    PayloadError,
    ScryptIdentity,
    X25519Identity,
    decrypt_chunks,
)

_KNOWN_KEYS = {
    "expect", "payload", "identity", "passphrase", "armored", "compressed", "file key", "comment"
}
_STAGES: dict[str, type[AgeError] | None] = {
    "success": None,
    "no match": NoIdentityMatch,
    "header failure": HeaderError,
    "HMAC failure": HeaderMACError,
    "payload failure": PayloadError,
}


@dataclass(frozen=True)
class Vector:
    """One test vector: its metadata, identities, and the age file itself."""

    meta: dict[str, str]
    identities: list[Identity]
    age_file: bytes

    @property
    def expect(self) -> str:
        return self.meta["expect"]


def _metadata(path: Path) -> list[tuple[str, str]]:
    with path.open("rb") as handle:
        head = handle.read(8192).split(b"\n\n", 1)[0]
    pairs = (line.partition(": ") for line in head.decode("utf-8").splitlines())
    return [(key, value) for key, _, value in pairs]


def _load(path: Path) -> Vector:
    age_file = path.read_bytes().split(b"\n\n", 1)[1]
    meta: dict[str, str] = {}
    identities: list[Identity] = []
    for key, value in _metadata(path):
        if key == "identity":
            pq = value.startswith("AGE-SECRET-KEY-PQ-")
            identities.append(HybridIdentity.parse(value) if pq else X25519Identity.parse(value))
        elif key == "passphrase":
            identities.append(ScryptIdentity(value.encode()))
        else:
            meta[key] = value
    if meta.get("compressed") == "zlib":
        age_file = zlib.decompress(age_file)
    return Vector(meta, identities, age_file)


def _vector_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.is_file() and p.suffix != ".md")


def _is_armored(path: Path) -> bool:
    return ("armored", "yes") in _metadata(path)


def _vector_names() -> list[str]:
    directory = SHARED / "vectors" / "age"
    if not directory.is_dir():
        # One placeholder, so the test runs and the age_vectors_dir fixture skips (or fails
        # under CI) with its own clear message instead of this module failing to collect.
        return [""]
    # We implement no ASCII armor (vault objects are binary age files), so armored vectors,
    # which test the armor layer, are left out here rather than skipped at run time.
    return [p.name for p in _vector_files(directory) if not _is_armored(p)]


_NAMES = _vector_names()


def _vector_id(name: str) -> str:
    return name or "vectors-absent"


def _stream_into(vector: Vector, released: bytearray) -> None:
    # Collect chunk by chunk, so what was released before a failure can be checked too.
    for chunk in decrypt_chunks(io.BytesIO(vector.age_file), vector.identities):
        released += chunk


def _check_released(vector: Vector, released: bytes) -> None:
    if vector.expect in ("success", "payload failure"):
        assert hashlib.sha256(released).hexdigest() == vector.meta["payload"]


@pytest.mark.parametrize("name", _NAMES, ids=_vector_id)
def test_vector_streaming(age_vectors_dir: Path, name: str) -> None:
    vector = _load(age_vectors_dir / name)
    stage = _STAGES[vector.expect]
    released = bytearray()
    if stage is None:
        _stream_into(vector, released)
    else:
        with pytest.raises(stage) as raised:
            _stream_into(vector, released)
        assert type(raised.value) is stage
    _check_released(vector, bytes(released))


@pytest.mark.parametrize("name", _NAMES, ids=_vector_id)
def test_vector_random_access(age_vectors_dir: Path, name: str) -> None:
    vector = _load(age_vectors_dir / name)
    stage = _STAGES[vector.expect]
    if stage is None:
        reader = ChunkReader(io.BytesIO(vector.age_file), vector.identities)
        _check_released(vector, reader.read())
        return
    with pytest.raises(stage) as raised:
        ChunkReader(io.BytesIO(vector.age_file), vector.identities).read()
    assert type(raised.value) is stage


def test_every_vector_is_classified(age_vectors_dir: Path) -> None:
    files = _vector_files(age_vectors_dir)
    armored = {p.name for p in files if _is_armored(p)}
    collected = set(_NAMES)
    assert collected | armored == {p.name for p in files}
    assert len(collected) >= 100
    for path in files:
        meta = _metadata(path)
        # An unknown key would mean a kind of vector this suite does not understand yet.
        assert {key for key, _ in meta} <= _KNOWN_KEYS, path.name
        assert dict(meta)["expect"] in (*_STAGES, "armor failure"), path.name
