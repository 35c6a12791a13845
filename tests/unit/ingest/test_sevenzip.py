"""7z through py7zr: listing, solid folders read a chunk at a time, encryption, limits."""

from __future__ import annotations

import io
import struct
import zlib

import py7zr
import pytest

from vault.ingest.containers import ContainerError, ContainerKind, Member, members
from vault.ingest.limits import Budget, LimitExceeded, Limits

from .builders import MiB, seven_zip
from .walker import drain, read_member


def listing(data: bytes, limits: Limits | None = None) -> list[Member]:
    limits = limits or Limits()
    return list(
        members(
            ContainerKind.SEVEN_ZIP,
            io.BytesIO(data),
            name="test.7z",
            limits=limits,
            budget=Budget(limits),
            depth=0,
        )
    )


FILES = {
    "docs/a.txt": b"alpha " * 20_000,
    "docs/b.bin": bytes(range(256)) * 1000,
    "empty.txt": b"",
    "c.txt": b"gamma",
}


def test_members_of_a_solid_archive_read_in_and_out_of_order() -> None:
    found = listing(seven_zip(FILES))
    assert [(m.path.display, m.kind, m.size) for m in found] == [
        ("docs/a.txt", "file", 120_000),
        ("docs/b.bin", "file", 256_000),
        ("empty.txt", "file", 0),
        ("c.txt", "file", 5),
    ]
    by_name = {m.path.display: m for m in found}
    assert read_member(by_name["c.txt"]) == b"gamma"  # past the others: decodes up to it
    assert read_member(by_name["docs/a.txt"]) == FILES["docs/a.txt"]  # back: starts again
    assert read_member(by_name["docs/b.bin"]) == FILES["docs/b.bin"]
    assert read_member(by_name["empty.txt"]) == b""


def test_encrypted_contents_are_listed_flagged_and_kept_raw() -> None:
    data = seven_zip({"secret.txt": b"the plan" * 100}, password="hunter2")
    found = listing(data)
    assert [(m.path.display, "encrypted" in m.flags) for m in found] == [("secret.txt", True)]
    raw = read_member(found[0])
    assert raw
    assert b"the plan" not in raw
    assert raw in data


def test_encrypted_headers_are_a_clear_flagged_error() -> None:
    data = seven_zip({"hidden-name.txt": b"x"}, password="hunter2", header_encryption=True)
    with pytest.raises(ContainerError) as error:
        listing(data)
    assert error.value.flags == {"encrypted"}
    assert "encrypted headers" in error.value.reason


def test_a_7z_bomb_is_stopped_early() -> None:
    found = listing(seven_zip({"zeros.bin": b"\x00" * (8 * MiB)}))
    counted: list[int] = []
    with pytest.raises(LimitExceeded) as error:
        drain(found[0], counted)
    assert error.value.flag == "bomb-suspected"
    assert sum(counted) < 4 * MiB


def test_a_dictionary_larger_than_the_decoder_memory_limit_is_refused() -> None:
    filters = [{"id": py7zr.FILTER_LZMA2, "dict_size": 64 * MiB}]
    data = seven_zip({"a.txt": b"a" * 1000}, filters=filters)
    limits = Limits(max_decoder_memory=16 * MiB)
    found = listing(data, limits)
    with pytest.raises(LimitExceeded) as error:
        read_member(found[0])
    assert error.value.flag == "too-large"


def read_all(data: bytes) -> None:
    for member in listing(data):
        read_member(member)


def test_an_encoded_header_needing_too_much_memory_is_refused_before_decoding() -> None:
    data = seven_zip({"a.txt": b"a"})  # py7zr encodes headers with a 16 MiB dictionary
    limits = Limits(max_decoder_memory=4 * MiB)
    with pytest.raises(LimitExceeded, match="7z header") as error:
        listing(data, limits)
    assert error.value.flag == "too-large"


@pytest.mark.parametrize("cut", [40, 100, -20])
def test_damaged_archives_give_a_clear_error(cut: int) -> None:
    data = seven_zip(FILES)
    with pytest.raises(ContainerError):
        read_all(data[:cut])


def test_flipped_bytes_in_the_packed_data_are_caught() -> None:
    data = bytearray(seven_zip({"a.txt": bytes(range(256)) * 200}))
    data[40:60] = b"\x00" * 20
    with pytest.raises(ContainerError):
        read_all(bytes(data))


def with_names(names: list[str]) -> bytes:
    """A 7z whose entries have names py7zr refuses to write: written plain, then patched."""
    out = io.BytesIO()
    with py7zr.SevenZipFile(out, "w") as archive:
        archive.set_encoded_header_mode(False)
        for index, name in enumerate(names):
            archive.writestr(str(index).encode(), chr(ord("a") + index) * len(name))
    data = bytearray(out.getvalue())
    for index, name in enumerate(names):
        placeholder = (chr(ord("a") + index) * len(name)).encode("utf-16-le")
        data = data.replace(placeholder, name.encode("utf-16-le", "surrogatepass"), 1)
    offset, size = struct.unpack_from("<QQ", data, 12)
    header = data[32 + offset : 32 + offset + size]
    struct.pack_into("<L", data, 28, zlib.crc32(header))
    struct.pack_into("<L", data, 8, zlib.crc32(data[12:32]))
    return bytes(data)


def test_hostile_names_in_7z() -> None:
    found = listing(with_names(["../../\x1b[2Jx.txt", "r\u202eexe.txt"]))
    assert [m.path.display for m in found] == ["\\x1b[2Jx.txt", "r\\u202eexe.txt"]
    assert {"path-traversal", "control-chars"} <= found[0].flags
    assert "bidi-override" in found[1].flags
