"""Single-file gzip, bzip2 and xz, compressed tars, and containers nested in each other."""

from __future__ import annotations

import io

import pytest

from vault.ingest.containers import ContainerError, ContainerKind, Member, members
from vault.ingest.limits import Budget, LimitExceeded, Limits

from .builders import COMPRESSORS, MiB, files_tar, gzip_named, std_zip
from .walker import drain, read_member, walk

_SINGLE = {"gzip": ContainerKind.GZIP, "bzip2": ContainerKind.BZIP2, "xz": ContainerKind.XZ}
_SUFFIX = {"gzip": ".gz", "bzip2": ".bz2", "xz": ".xz"}


def listing(data: bytes, kind: ContainerKind, name: str) -> list[Member]:
    return list(
        members(
            kind, io.BytesIO(data), name=name, limits=Limits(), budget=Budget(Limits()), depth=0
        )
    )


@pytest.mark.parametrize("method", ["gzip", "bzip2", "xz"])
def test_a_compressed_file_is_one_member_named_after_the_container(method: str) -> None:
    text = b"the quick brown fox\n" * 5000
    found = listing(COMPRESSORS[method](text), _SINGLE[method], "notes.txt" + _SUFFIX[method])
    assert [(m.path.display, m.kind) for m in found] == [("notes.txt", "file")]
    assert read_member(found[0]) == text


@pytest.mark.parametrize("method", ["gzip", "bzip2", "xz"])
def test_a_compressed_tar_is_read_as_a_tar_whatever_sniff_said(method: str) -> None:
    files = {"a.txt": b"a" * 100, "b.txt": b"b" * 100}
    data = COMPRESSORS[method](files_tar(files))
    found = listing(data, _SINGLE[method], "bundle" + _SUFFIX[method])
    assert {m.path.display: read_member(m) for m in found} == files


def test_tgz_suffix_names_the_member_as_a_tar() -> None:
    found = listing(COMPRESSORS["gzip"](b"not a tar"), ContainerKind.GZIP, "dir/x.TGZ")
    assert found[0].path.display == "x.tar"


def test_gzip_fname_names_the_member_and_is_made_safe() -> None:
    found = listing(gzip_named(b"data", b"report.pdf"), ContainerKind.GZIP, "blob.gz")
    assert found[0].path.display == "report.pdf"
    hostile = listing(gzip_named(b"data", b"../../\x1b[2J.txt"), ContainerKind.GZIP, "x.gz")
    assert hostile[0].path.display == "\\x1b[2J.txt"
    assert {"path-traversal", "control-chars"} <= hostile[0].flags


def test_concatenated_streams_decode_as_one() -> None:
    data = COMPRESSORS["gzip"](b"first ") + COMPRESSORS["gzip"](b"second") + b"\x00" * 16
    assert read_member(listing(data, ContainerKind.GZIP, "two.gz")[0]) == b"first second"
    xz = COMPRESSORS["xz"](b"one ") + COMPRESSORS["xz"](b"two")
    assert read_member(listing(xz, ContainerKind.XZ, "two.xz")[0]) == b"one two"


@pytest.mark.parametrize("method", ["gzip", "bzip2", "xz"])
def test_truncated_streams_give_a_clear_error(method: str) -> None:
    data = COMPRESSORS[method](bytes(range(256)) * 400)
    found = listing(data[: len(data) // 2], _SINGLE[method], "cut" + _SUFFIX[method])
    with pytest.raises(ContainerError, match=r"truncated|damaged"):
        read_member(found[0])


def test_trailing_garbage_is_an_error() -> None:
    data = COMPRESSORS["gzip"](b"payload") + b"hidden data after the stream"
    found = listing(data, ContainerKind.GZIP, "x.gz")
    with pytest.raises(ContainerError, match="damaged"):
        read_member(found[0])


def test_corrupt_data_is_an_error() -> None:
    data = bytearray(COMPRESSORS["gzip"](bytes(range(256)) * 100))
    data[20:40] = b"\xff" * 20
    found = listing(bytes(data), ContainerKind.GZIP, "x.gz")
    with pytest.raises(ContainerError):
        read_member(found[0])


@pytest.mark.parametrize("method", ["gzip", "bzip2", "xz"])
def test_a_single_file_bomb_is_stopped_early(method: str) -> None:
    data = COMPRESSORS[method](b"\x00" * (16 * MiB))
    found = listing(data, _SINGLE[method], "zeros" + _SUFFIX[method])
    counted: list[int] = []
    with pytest.raises(LimitExceeded) as error:
        drain(found[0], counted)
    assert error.value.flag == "bomb-suspected"
    assert sum(counted) < 8 * MiB


def test_an_xz_needing_too_much_decoder_memory_is_refused() -> None:
    import lzma

    data = lzma.compress(b"x" * 1000, preset=9 | lzma.PRESET_EXTREME)  # a 64 MiB dictionary
    limits = Limits(max_decoder_memory=8 * MiB)
    found = list(
        members(
            ContainerKind.XZ,
            io.BytesIO(data),
            name="x.xz",
            limits=limits,
            budget=Budget(limits),
            depth=0,
        )
    )
    with pytest.raises(LimitExceeded) as error:
        read_member(found[0])
    assert error.value.flag == "too-large"


def test_nested_zip_in_tar_in_gzip() -> None:
    inner = std_zip({"deep/secret.txt": b"found me", "other.txt": b"x"})
    data = COMPRESSORS["gzip"](files_tar({"outer/archive.zip": inner, "readme": b"r"}))
    walked = walk(data, "leak.tar.gz")
    assert [(s.depth, s.container, s.display) for s in walked.seen] == [
        (0, "leak.tar.gz", "outer/archive.zip"),
        (1, "outer/archive.zip", "deep/secret.txt"),
        (1, "outer/archive.zip", "other.txt"),
        (0, "leak.tar.gz", "readme"),
    ]
    assert walked.by_name("deep/secret.txt").data == b"found me"
    assert not walked.errors


def test_nesting_deeper_than_the_limit_stops_with_too_deep() -> None:
    data = b"core"
    for _ in range(6):
        data = COMPRESSORS["gzip"](data)
    walked = walk(data, "onion.gz", limits=Limits(max_depth=3))
    assert walked.limit_flags() == {"too-deep"}
    assert max(s.depth for s in walked.seen) == 2
