"""DirectWriter: large objects go past the page cache, and the bytes on disk are the same."""

from __future__ import annotations

import errno
import fcntl
import os
from pathlib import Path

import pytest

from vault.store import direct
from vault.store.direct import RUN, DirectWriter

CHUNK = 64 * 1024 + 16  # what the age writer hands over: one sealed chunk


def _content(size: int) -> bytes:
    return (bytes(range(251)) * (size // 251 + 1))[:size]  # a prime period: no run repeats


def _open(path: Path) -> int:
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)


def _write(path: Path, data: bytes, piece: int = CHUNK) -> DirectWriter:
    fd = _open(path)
    try:
        writer = DirectWriter(fd)
        for start in range(0, len(data), piece):
            assert writer.write(data[start : start + piece]) == len(data[start : start + piece])
        writer.close()
    finally:
        os.close(fd)
    return writer


def has_direct_io(folder: Path) -> bool:
    """Whether files in `folder` can be switched to direct I/O."""
    probe = folder / "probe"
    fd = os.open(probe, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        flags = fcntl.fcntl(fd, fcntl.F_GETFL)
        fcntl.fcntl(fd, fcntl.F_SETFL, flags | os.O_DIRECT)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)
        probe.unlink()


@pytest.fixture
def writes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, bool]]:
    """Every write's length, and whether the file was in direct mode when it was made."""
    seen: list[tuple[int, bool]] = []
    real = os.write

    def spy(fd: int, data: bytes | memoryview) -> int:
        seen.append((len(data), bool(fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_DIRECT)))
        return real(fd, data)

    monkeypatch.setattr(os, "write", spy)
    return seen


@pytest.mark.parametrize("size", [0, 1, RUN - 1, RUN, RUN + 1, 3 * RUN + 17])
@pytest.mark.parametrize("piece", [CHUNK, 4093, 3 * RUN])  # 4093: crosses runs unaligned
def test_the_file_holds_exactly_what_was_written(tmp_path: Path, size: int, piece: int) -> None:
    data = _content(size)
    _write(tmp_path / "out", data, piece)
    assert (tmp_path / "out").read_bytes() == data


def test_a_small_object_goes_through_the_page_cache_in_one_write(
    tmp_path: Path, writes: list[tuple[int, bool]]
) -> None:
    writer = _write(tmp_path / "out", _content(RUN - 1))
    assert not writer.bypassed
    assert writes == [(RUN - 1, False)]


def test_a_large_object_goes_straight_to_the_disk_in_whole_runs(
    tmp_path: Path, writes: list[tuple[int, bool]]
) -> None:
    if not has_direct_io(tmp_path):
        pytest.skip(f"the filesystem of {tmp_path} has no direct I/O to test")
    data = _content(3 * RUN + 17)
    writer = _write(tmp_path / "out", data)
    assert writer.bypassed
    assert writes == [(RUN, True)] * 3 + [(17, False)]  # only the last partial run is buffered
    assert (tmp_path / "out").read_bytes() == data


def test_a_filesystem_without_direct_io_gets_buffered_writes(
    tmp_path: Path, writes: list[tuple[int, bool]], monkeypatch: pytest.MonkeyPatch
) -> None:
    real = fcntl.fcntl

    def refuse(fd: int, cmd: int, arg: int = 0) -> int:
        if cmd == fcntl.F_SETFL and arg & os.O_DIRECT:
            raise OSError(errno.EINVAL, "no direct I/O here")
        return real(fd, cmd, arg)

    monkeypatch.setattr(fcntl, "fcntl", refuse)
    data = _content(2 * RUN + 5)
    writer = _write(tmp_path / "out", data)
    assert not writer.bypassed
    assert all(not was_direct for _, was_direct in writes)
    assert (tmp_path / "out").read_bytes() == data


@pytest.mark.parametrize("refusal", ["EINVAL", "short"])
def test_a_device_that_refuses_a_direct_write_gets_the_rest_buffered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, refusal: str
) -> None:
    """A device with a larger block than the runs are aligned to: nothing is lost or doubled."""
    real = os.write
    direct_now: dict[int, bool] = {}

    def set_direct(fd: int, *, on: bool) -> bool:  # direct I/O wherever tmp_path is
        direct_now[fd] = on
        return on

    def picky(fd: int, data: bytes | memoryview) -> int:
        if direct_now.get(fd):
            if refusal == "EINVAL":
                raise OSError(errno.EINVAL, "Invalid argument")
            return real(fd, memoryview(data)[: len(data) // 2])
        return real(fd, data)

    monkeypatch.setattr(os, "write", picky)
    monkeypatch.setattr(direct, "_set_direct", set_direct)
    data = _content(3 * RUN + 17)
    writer = _write(tmp_path / "out", data)
    assert writer.bypassed is (refusal == "short")
    assert (tmp_path / "out").read_bytes() == data
    assert direct_now == {mock_fd: False for mock_fd in direct_now}  # left buffered


def test_other_write_errors_are_raised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(fd: int, data: bytes | memoryview) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", full)
    with pytest.raises(OSError, match="No space"):
        _write(tmp_path / "out", _content(RUN + 1))


@pytest.mark.parametrize("size", [100, RUN + 5, 3 * RUN + 17])
def test_bytes_filled_in_place_land_where_written_ones_would(tmp_path: Path, size: int) -> None:
    data = _content(size)
    fd = _open(tmp_path / "out")
    writer = DirectWriter(fd)
    refused = 0
    for start in range(0, size, CHUNK):
        piece = data[start : start + CHUNK]
        room = writer.room(len(piece))
        if room is None:  # it would cross the end of a run
            refused += 1
            writer.write(piece)
            continue
        with room:
            room[:] = piece
        writer.advance(len(piece))
    writer.close()
    os.close(fd)
    assert (tmp_path / "out").read_bytes() == data
    assert refused == (size // RUN)  # one chunk in sixteen straddles a run's end


def test_a_reused_buffer_writes_only_the_new_objects_bytes(tmp_path: Path) -> None:
    _write(tmp_path / "large", _content(RUN + RUN // 2))
    _write(tmp_path / "small", b"tiny")
    assert (tmp_path / "small").read_bytes() == b"tiny"


def test_a_closed_writer_refuses_writes_and_gives_its_buffer_back_once(tmp_path: Path) -> None:
    fd = _open(tmp_path / "closed")
    writer = DirectWriter(fd)
    writer.write(b"kept")
    writer.close()
    writer.close()  # harmless
    with pytest.raises(ValueError, match="closed"):
        writer.write(b"late")
    with pytest.raises(ValueError, match="closed"):
        writer.room(4)
    os.close(fd)
    # Had the buffer been given back twice, these two would share it and mix their bytes.
    fds = [_open(tmp_path / name) for name in ("one", "two")]
    writers = [DirectWriter(fd) for fd in fds]
    for _ in range(3):
        for index, each in enumerate(writers):
            each.write(bytes([index]) * 1000)
    for each, fd in zip(writers, fds, strict=True):
        each.close()
        os.close(fd)
    assert (tmp_path / "closed").read_bytes() == b"kept"
    assert (tmp_path / "one").read_bytes() == bytes(3000)
    assert (tmp_path / "two").read_bytes() == b"\x01" * 3000
