"""Tar: links recorded never followed, special files, long names, damage, and compression."""

from __future__ import annotations

import io
import tarfile

import pytest

from vault.ingest.containers import ContainerError, ContainerKind, Member, members
from vault.ingest.limits import Budget, LimitExceeded, Limits

from .builders import COMPRESSORS, MiB, files_tar, info, tar_of
from .walker import drain, read_member, walk

_KINDS = {
    "gzip": ContainerKind.TAR_GZIP,
    "bzip2": ContainerKind.TAR_BZIP2,
    "xz": ContainerKind.TAR_XZ,
}


def listing(
    data: bytes, kind: ContainerKind = ContainerKind.TAR, limits: Limits | None = None
) -> list[Member]:
    limits = limits or Limits()
    return list(
        members(
            kind, io.BytesIO(data), name="test.tar", limits=limits, budget=Budget(limits), depth=0
        )
    )


def test_files_and_folders() -> None:
    data = tar_of(
        [
            (info("docs", tarfile.DIRTYPE), None),
            (info("docs/a.txt"), b"alpha"),
            (info("docs/b.txt"), b"beta" * 1000),
        ]
    )
    found = listing(data)
    assert [(m.path.display, m.kind, m.size) for m in found] == [
        ("docs", "dir", 0),
        ("docs/a.txt", "file", 5),
        ("docs/b.txt", "file", 4000),
    ]
    assert read_member(found[2]) == b"beta" * 1000
    assert read_member(found[1]) == b"alpha"


def test_zip_slip_names_stay_inside() -> None:
    names = ["../../evil", "/etc/passwd", "C:\\x", "..\\..\\x"]
    found = listing(tar_of([(info(name), b"x") for name in names]))
    assert [(m.path.display, m.flags) for m in found] == [
        ("evil", frozenset({"path-traversal"})),
        ("etc/passwd", frozenset({"absolute-path"})),
        ("x", frozenset({"absolute-path"})),
        ("x (2)", frozenset({"path-traversal", "name-collision"})),
    ]


def test_a_file_written_through_a_symlink_is_recorded_not_followed() -> None:
    data = tar_of([(info("link", tarfile.SYMTYPE, "/tmp"), None), (info("link/pwned"), b"owned")])
    link, pwned = listing(data)
    assert (link.kind, link.link_target) == ("symlink", "/tmp")
    assert "link-escape" in link.flags
    with pytest.raises(ContainerError):
        link.open()
    assert pwned.path.display == "link/pwned"
    assert "through-symlink" in pwned.flags
    assert read_member(pwned) == b"owned"  # its bytes, never a write through the link


def test_hard_links_are_recorded_and_checked() -> None:
    data = tar_of(
        [
            (info("real.txt"), b"data"),
            (info("alias", tarfile.LNKTYPE, "real.txt"), None),
            (info("shadow", tarfile.LNKTYPE, "/etc/shadow"), None),
            (info("nowhere", tarfile.LNKTYPE, "missing.txt"), None),
        ]
    )
    _, alias, shadow, nowhere = listing(data)
    assert (alias.kind, alias.link_target, alias.flags) == ("hardlink", "real.txt", frozenset())
    assert {"link-escape", "bad-link"} <= shadow.flags
    assert nowhere.flags == {"bad-link"}
    with pytest.raises(ContainerError):
        alias.open()


def test_devices_and_fifos_are_recorded_and_skipped() -> None:
    data = tar_of(
        [
            (info("dev/sda", tarfile.BLKTYPE), None),
            (info("dev/tty", tarfile.CHRTYPE), None),
            (info("pipe", tarfile.FIFOTYPE), None),
        ]
    )
    found = listing(data)
    assert [(m.kind, m.flags) for m in found] == [
        ("device", frozenset({"special-file"})),
        ("device", frozenset({"special-file"})),
        ("fifo", frozenset({"special-file"})),
    ]
    for member in found:
        with pytest.raises(ContainerError, match="not a file"):
            member.open()


@pytest.mark.parametrize("fmt", [tarfile.PAX_FORMAT, tarfile.GNU_FORMAT])
def test_long_names_from_pax_and_gnu_headers(fmt: int) -> None:
    deep = "/".join(["folder"] * 30) + "/" + "n" * 200 + ".txt"
    found = listing(tar_of([(info(deep), b"x")], fmt=fmt))
    assert found[0].path.display == deep
    assert found[0].flags == frozenset()


def test_hostile_names_in_tar() -> None:
    names = ["\x1b[2J.txt", "report\u202efdp.exe", "caf\udce9.txt", "y" * 300 + ".txt"]
    found = listing(tar_of([(info(name), b"x") for name in names]))
    assert [m.path.display for m in found[:3]] == [
        "\\x1b[2J.txt",
        "report\\u202efdp.exe",
        "caf\\xe9.txt",
    ]
    assert "control-chars" in found[0].flags
    assert "bidi-override" in found[1].flags
    assert "invalid-utf8" in found[2].flags
    assert "long-name" in found[3].flags


def test_a_name_that_goes_on_after_its_nul_is_flagged() -> None:
    data = bytearray(
        tar_of([(info("a.txt"), b"x"), (info("b.txt"), b"y")], fmt=tarfile.USTAR_FORMAT)
    )
    data[6:16] = b"hidden.exe"  # "a.txt\0hidden.exe": tarfile reads "a.txt", others may not
    data[148:156] = b" " * 8
    data[148:156] = b"%06o\x00 " % sum(data[:512])
    first, second = listing(bytes(data))
    assert first.path.display == "a.txt"
    assert "nul-byte" in first.flags
    assert "nul-byte" not in second.flags


def test_duplicate_names_in_tar() -> None:
    found = listing(tar_of([(info(n), n.encode()) for n in ["a.txt", "A.TXT", "a.txt"]]))
    assert [m.path.display for m in found] == ["a.txt", "A (2).TXT", "a (3).txt"]
    assert [read_member(m) for m in found] == [b"a.txt", b"A.TXT", b"a.txt"]


def test_a_damaged_header_after_good_members_is_an_error_after_them() -> None:
    data = bytearray(files_tar({"one.txt": b"1", "two.txt": b"2"}))
    second = data.find(b"two.txt")
    data[second + 148 : second + 156] = b"0000000\x00"  # a wrong checksum
    stream = members(
        ContainerKind.TAR,
        io.BytesIO(bytes(data)),
        name="t.tar",
        limits=Limits(),
        budget=Budget(Limits()),
        depth=0,
    )
    first = next(stream)
    assert first.path.display == "one.txt"
    with pytest.raises(ContainerError, match="damaged"):
        next(stream)


@pytest.mark.parametrize("method", ["gzip", "xz"])
def test_a_damaged_header_in_a_compressed_tar_is_an_error_after_the_members_before_it(
    method: str,
) -> None:
    data = bytearray(files_tar({"one.txt": b"1" * 100_000, "two.txt": b"2"}))
    second = data.find(b"two.txt")
    data[second + 148 : second + 156] = b"0000000\x00"
    stream = members(
        _KINDS[method],
        io.BytesIO(COMPRESSORS[method](bytes(data))),
        name="t.tgz",
        limits=Limits(),
        budget=Budget(Limits()),
        depth=0,
    )
    assert read_member(next(stream)) == b"1" * 100_000
    with pytest.raises(ContainerError, match="damaged"):
        next(stream)


def test_truncated_member_data_is_an_error_after_the_member_is_listed() -> None:
    data = files_tar({"big.bin": b"b" * 10_000})[:3000]
    stream = members(
        ContainerKind.TAR,
        io.BytesIO(data),
        name="t.tar",
        limits=Limits(),
        budget=Budget(Limits()),
        depth=0,
    )
    first = next(stream)
    assert first.path.display == "big.bin"
    with pytest.raises(ContainerError, match="unexpected end of data"):
        read_member(first)
    with pytest.raises(ContainerError, match="unexpected end of data"):
        next(stream)


def test_garbage_is_not_a_tar() -> None:
    with pytest.raises(ContainerError, match="tar"):
        listing(b"not a tar at all" * 64)


def test_a_huge_pax_header_is_refused_before_it_is_read() -> None:
    limits = Limits(max_header_bytes=64 * 1024, chunk_bytes=16 * 1024)
    data = tar_of([(info("a" * 100_000), b"x")])  # the pax record is about 100 KB
    with pytest.raises(ContainerError, match="metadata record"):
        listing(data, limits=limits)


def test_sparse_expansion_counts_against_the_ratio() -> None:
    # A GNU sparse header that declares 64 MiB made of one 512-byte run of data.
    header = tarfile.TarInfo("holes.img")
    header.type = tarfile.GNUTYPE_SPARSE
    header.size = 512
    block = bytearray(header.tobuf(tarfile.GNU_FORMAT))
    block[386:398] = b"%011o\x00" % 0  # first sparse entry: offset 0 ...
    block[398:410] = b"%011o\x00" % 512  # ... of 512 bytes
    block[483:495] = b"%011o\x00" % (64 * MiB)  # realsize
    block[148:156] = b" " * 8
    block[148:156] = b"%06o\x00 " % sum(block[:512])
    data = bytes(block[:512]) + b"d" * 512 + b"\x00" * 1024
    found = listing(data)
    assert "sparse" in found[0].flags
    counted: list[int] = []
    with pytest.raises(LimitExceeded) as error:
        drain(found[0], counted)
    assert error.value.flag == "bomb-suspected"
    assert sum(counted) < 8 * MiB


@pytest.mark.parametrize("method", ["gzip", "bzip2", "xz"])
def test_compressed_tars(method: str) -> None:
    files = {"a.txt": b"a" * 5000, "sub/b.txt": b"b" * 70_000}
    found = listing(COMPRESSORS[method](files_tar(files)), kind=_KINDS[method])
    assert {m.path.display: read_member(m) for m in found} == files


def test_a_compressed_tar_bomb_is_stopped_while_listing() -> None:
    data = COMPRESSORS["gzip"](files_tar({"zeros": b"\x00" * (32 * MiB)}) + b"\x00" * (32 * MiB))
    walked = walk(data, "bomb.tar.gz", keep_data=False)
    assert walked.limit_flags() == {"bomb-suspected"}
    assert walked.read_bytes < 8 * MiB


def test_too_many_members_across_the_intake() -> None:
    limits = Limits(max_members=5)
    data = files_tar({f"f{i}": b"" for i in range(20)})
    walked = walk(data, "many.tar", limits=limits)
    assert len(walked.seen) == 5
    assert walked.limit_flags() == {"too-many-members"}
