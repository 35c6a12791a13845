"""Zip: names, kinds, encryption, zip64, damage, and the zip bombs."""

from __future__ import annotations

import io
import stat
import struct
import zipfile
import zlib

import pytest

from vault.ingest.containers import ContainerError, ContainerKind, Member, members
from vault.ingest.limits import Budget, LimitExceeded, Limits

from .builders import (
    MiB,
    RawEntry,
    nested_zip_bomb,
    overlapping_zip,
    quoted_overlap_zip,
    raw_zip,
    std_zip,
)
from .walker import drain, read_member, walk


def listing(data: bytes, limits: Limits | None = None) -> list[Member]:
    limits = limits or Limits()
    return list(
        members(
            ContainerKind.ZIP,
            io.BytesIO(data),
            name="test.zip",
            limits=limits,
            budget=Budget(limits),
            depth=0,
        )
    )


@pytest.mark.parametrize(
    "method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA]
)
def test_every_decoded_method_round_trips(method: int) -> None:
    files = {"a.txt": b"alpha " * 1000, "dir/b.bin": bytes(range(256)) * 40, "empty": b""}
    found = listing(std_zip(files, method))
    assert [(m.path.display, m.kind, m.size) for m in found] == [
        ("a.txt", "file", 6000),
        ("dir/b.bin", "file", 10240),
        ("empty", "file", 0),
    ]
    assert {m.path.display: read_member(m) for m in found} == files


def test_streams_can_be_opened_again_and_out_of_order() -> None:
    found = listing(std_zip({"a": b"1" * 5000, "b": b"2" * 5000}))
    assert read_member(found[1]) == b"2" * 5000
    assert read_member(found[0]) == b"1" * 5000
    assert read_member(found[0]) == b"1" * 5000


def test_directories_and_unix_special_entries() -> None:
    entries = [
        RawEntry(name=b"dir/", external_attr=(stat.S_IFDIR | 0o755) << 16),
        RawEntry(
            name=b"dir/link",
            data=b"../../etc/passwd",
            create_system=3,
            external_attr=(stat.S_IFLNK | 0o777) << 16,
        ),
        RawEntry(name=b"fifo", create_system=3, external_attr=(stat.S_IFIFO | 0o644) << 16),
    ]
    found = listing(raw_zip(entries))
    assert [(m.path.display, m.kind) for m in found] == [
        ("dir", "dir"),
        ("dir/link", "symlink"),
        ("fifo", "fifo"),
    ]
    link = found[1]
    assert link.link_target == "../../etc/passwd"
    assert "link-escape" in link.flags
    with pytest.raises(ContainerError, match="not a file"):
        link.open()


def test_a_folder_entry_carrying_data_is_kept_as_a_file() -> None:
    found = listing(raw_zip([RawEntry(name=b"empty/"), RawEntry(name=b"hidden/", data=b"x")]))
    assert [(m.path.display, m.kind, m.flags) for m in found] == [
        ("empty", "dir", frozenset()),
        ("hidden", "file", frozenset({"unusual-type"})),
    ]
    assert read_member(found[1]) == b"x"


def test_names_utf8_flag_cp437_and_invalid_bytes() -> None:
    entries = [
        RawEntry(name="naïve.txt".encode(), flag_bits=0x800),
        RawEntry(name=b"caf\x82.txt"),  # CP437 é, no UTF-8 flag
        RawEntry(name=b"bad\xff.txt", flag_bits=0x800),  # claims UTF-8, is not
    ]
    found = listing(raw_zip(entries))
    assert [(m.path.display, m.flags) for m in found] == [
        ("naïve.txt", frozenset()),
        ("café.txt", frozenset({"legacy-encoding"})),
        ("bad\\xff.txt", frozenset({"invalid-utf8"})),
    ]
    assert found[1].path.raw == "caf\\x82.txt"


def _unicode_path(legacy: bytes, name: str, crc_of: bytes | None = None) -> bytes:
    payload = b"\x01" + struct.pack("<L", zlib.crc32(crc_of or legacy)) + name.encode()
    return struct.pack("<2H", 0x7075, len(payload)) + payload


def test_info_zip_unicode_path_field_wins_when_it_matches() -> None:
    legacy = b"caf\x82.txt"
    entries = [
        RawEntry(name=legacy, central_extra=_unicode_path(legacy, "café.txt")),
        RawEntry(name=b"old.txt", central_extra=_unicode_path(b"old.txt", "new.txt", b"other")),
    ]
    found = listing(raw_zip(entries))
    assert found[0].path.display == "café.txt"
    assert found[0].flags == frozenset()
    assert found[1].path.display == "old.txt"  # written for another name: ignored


def test_hostile_names_are_escaped_and_flagged() -> None:
    entries = [
        RawEntry(name=b"\x1b[2Jclear.txt", data=b"1"),
        RawEntry(name="invoice\u202egpj.exe".encode(), data=b"2", flag_bits=0x800),
        RawEntry(name=b"evil.txt\x00.jpg", data=b"3"),
        RawEntry(name=b"x" * 300 + b".doc", data=b"4"),
    ]
    found = listing(raw_zip(entries))
    assert [m.path.display for m in found[:3]] == [
        "\\x1b[2Jclear.txt",
        "invoice\\u202egpj.exe",
        "evil.txt\\x00.jpg",
    ]
    assert "control-chars" in found[0].flags
    assert "bidi-override" in found[1].flags
    assert {"nul-byte", "control-chars"} <= found[2].flags
    assert "long-name" in found[3].flags
    assert found[3].path.display.endswith("….doc")
    assert len(found[3].path.display.encode()) <= 255


def test_zip_slip_names_stay_inside() -> None:
    entries = [
        RawEntry(name=b"../../evil", data=b"1"),
        RawEntry(name=b"/etc/passwd", data=b"2"),
        RawEntry(name=b"C:\\x", data=b"3"),
        RawEntry(name=b"..\\..\\x", data=b"4"),
    ]
    found = listing(raw_zip(entries))
    assert [(m.path.display, m.flags) for m in found] == [
        ("evil", frozenset({"path-traversal"})),
        ("etc/passwd", frozenset({"absolute-path"})),
        ("x", frozenset({"absolute-path"})),
        ("x (2)", frozenset({"path-traversal", "name-collision"})),
    ]
    for member in found:
        assert not member.path.display.startswith(("/", ".."))


def test_duplicates_and_case_collisions() -> None:
    entries = [RawEntry(name=n, data=b"x") for n in (b"a.txt", b"A.TXT", b"a.txt")]
    found = listing(raw_zip(entries))
    assert [m.path.display for m in found] == ["a.txt", "A (2).TXT", "a (3).txt"]
    assert ["name-collision" in m.flags for m in found] == [False, True, True]
    assert [m.path.raw for m in found] == ["a.txt", "A.TXT", "a.txt"]


def test_encrypted_entries_are_kept_raw_and_flagged() -> None:
    secret = b"\x12" * 12 + b"ciphertext"
    entries = [
        RawEntry(name=b"open.txt", data=b"clear"),
        RawEntry(name=b"locked.txt", data=secret, flag_bits=0x1, size=5),
    ]
    found = listing(raw_zip(entries))
    assert "encrypted" not in found[0].flags
    assert "encrypted" in found[1].flags
    assert read_member(found[1]) == secret


def test_unsupported_methods_are_kept_raw_and_flagged() -> None:
    found = listing(raw_zip([RawEntry(name=b"d64", data=b"packed", method=9)]))
    assert "unsupported-compression" in found[0].flags
    assert read_member(found[0]) == b"packed"


def test_zip64_archive() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", allowZip64=True) as archive:
        with archive.open("big.bin", "w", force_zip64=True) as stream:
            stream.write(b"z" * 100_000)
        archive.writestr("small", b"s")
    found = listing(out.getvalue())
    assert [(m.path.display, m.size) for m in found] == [("big.bin", 100_000), ("small", 1)]
    assert read_member(found[0]) == b"z" * 100_000


def test_data_before_the_archive_is_allowed_for() -> None:
    data = b"#!/bin/sh\nexit 0\n" + std_zip({"payload.txt": b"hello"})
    assert read_member(listing(data)[0]) == b"hello"


def test_empty_archive() -> None:
    assert listing(raw_zip([])) == []


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda d: d[:-10], "end-of-archive"),
        (lambda d: d[: d.find(b"PK\x01\x02") + 20] + d[d.find(b"PK\x05\x06") :], "central"),
        (lambda d: d.replace(b"PK\x03\x04", b"XX\x03\x04", 1), "local header"),
        (lambda d: b"", "end-of-archive"),
    ],
)
def test_damaged_archives_give_a_clear_error(damage: object, reason: str) -> None:
    data = std_zip({"a.txt": b"a" * 100, "b.txt": b"b" * 100})
    assert callable(damage)
    with pytest.raises(ContainerError, match=reason) as error:
        listing(damage(data))
    assert error.value.container == "test.zip"


def test_bad_crc_is_reported_at_the_end_of_the_stream() -> None:
    found = listing(raw_zip([RawEntry(name=b"a", data=b"hello", crc=1)]))
    with pytest.raises(ContainerError, match="CRC"):
        read_member(found[0])


def test_a_member_that_expands_past_its_declared_size_is_stopped() -> None:
    found = listing(raw_zip([RawEntry(name=b"a", data=b"\x00" * 50_000, method=8, size=10)]))
    with pytest.raises(LimitExceeded) as error:
        read_member(found[0])
    assert error.value.flag == "bomb-suspected"


def test_overlapping_entries_are_refused_before_any_member_is_listed() -> None:
    bomb = overlapping_zip(copies=500, kernel=b"\x00" * MiB)
    stream = members(
        ContainerKind.ZIP,
        io.BytesIO(bomb),
        name="fifield.zip",
        limits=Limits(),
        budget=Budget(Limits()),
        depth=0,
    )
    with pytest.raises(LimitExceeded) as error:
        next(stream)
    assert error.value.flag == "bomb-suspected"
    assert "overlap" in error.value.message


def test_quoted_overlap_is_refused_too() -> None:
    with pytest.raises(LimitExceeded) as error:
        listing(quoted_overlap_zip())
    assert error.value.flag == "bomb-suspected"


def test_a_member_of_zeros_beyond_the_ratio_is_stopped_early() -> None:
    found = listing(std_zip({"zeros.bin": b"\x00" * (64 * MiB)}))
    counted: list[int] = []
    with pytest.raises(LimitExceeded) as error:
        drain(found[0], counted)
    assert error.value.flag == "bomb-suspected"
    assert sum(counted) < 16 * MiB  # stopped long before the end


def test_a_small_member_of_zeros_does_not_trip_the_ratio() -> None:
    found = listing(std_zip({"zeros.bin": b"\x00" * (512 * 1024)}))
    assert read_member(found[0]) == b"\x00" * (512 * 1024)


def test_the_container_ratio_catches_many_members_each_under_the_floor() -> None:
    # Each member expands 1000:1 but only to the floor, so no member trips on its own;
    # the archive as a whole does.
    data = std_zip({f"m{i}.bin": b"\x00" * MiB for i in range(64)})
    walked = walk(data, "many.zip", keep_data=False)
    assert walked.limit_flags() == {"bomb-suspected"}
    assert walked.read_bytes < 16 * MiB


def test_a_42_zip_style_nest_is_bounded() -> None:
    limits = Limits(max_total_bytes=32 * MiB)
    bomb = nested_zip_bomb(levels=4, fan_out=8, leaf_bytes=4 * MiB)  # 16 GiB if expanded
    walked = walk(bomb, "42.zip", limits=limits, keep_data=False)
    assert walked.limit_flags() <= {"bomb-suspected", "too-large"}
    assert walked.limit_flags()
    assert walked.read_bytes <= limits.max_total_bytes


def test_too_many_entries_are_refused_before_listing() -> None:
    limits = Limits(max_members=10)
    data = raw_zip([RawEntry(name=f"{i}".encode()) for i in range(50)])
    with pytest.raises(LimitExceeded) as error:
        listing(data, limits)
    assert error.value.flag == "too-many-members"
