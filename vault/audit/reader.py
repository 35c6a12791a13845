"""Reading an audit log file as hostile input: frames, the hash chain, the tail.

Every length is bounds-checked before anything is read, at most one frame (<= 1 MiB + 8 bytes)
is held at a time, and every fault names the offset — and where known the seq — where it is.
Readers take the log's lock shared only long enough to learn its size, so they never see an
append half-done and never hold writers up for a long verification; the file below that size
does not change under an honest writer.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from vault.audit.frame import (
    HEADER_LEN,
    MAX_LEN,
    MIN_LEN,
    PREFIX_LEN,
    Frame,
    FrameFault,
    check_header,
    decode,
    genesis,
    is_torn_start,
    length_at_end,
    read_length,
)
from vault.errors import AuditUnavailable, IntegrityError

READ_BUFFER = 1 << 20


class TornTail(IntegrityError):
    """The file ends inside a frame: `torn` says whether it looks like an interrupted append."""

    def __init__(self, message: str, *, offset: int, torn: bool) -> None:
        super().__init__(message)
        self.offset = offset
        self.torn = torn


def open_for_reading(path: Path) -> BinaryIO | None:
    """The log file opened for reading, or None if there is no log yet.

    Raises:
        AuditUnavailable: the file exists but cannot be opened.
    """
    try:
        return open(path, "rb", buffering=READ_BUFFER)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise AuditUnavailable(f"cannot read the audit log {path}: {exc.strerror or exc}") from exc


def settled_size(fd: int) -> int:
    """The file's size at a moment when no append is half-written (appends hold it exclusive)."""
    fcntl.flock(fd, fcntl.LOCK_SH)
    try:
        return os.fstat(fd).st_size
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)


def read_header(f: BinaryIO, size: int, vault_id: str) -> bool:
    """Check the header at the start of `f`; False for an empty (zero-byte) file.

    Raises:
        IntegrityError: no header of this vault's log.
    """
    if size == 0:
        return False
    f.seek(0)
    check_header(f.read(min(size, HEADER_LEN)), vault_id)
    return True


def frames(f: BinaryIO, size: int) -> Iterator[Frame]:
    """Yield the whole frames from the current position up to `size`.

    Raises:
        FrameFault: at the first bytes that are not a whole frame (after yielding those before).
    """
    offset = f.tell()
    while offset < size:
        remaining = size - offset
        if remaining < 4:
            raise FrameFault(offset, f"{remaining} bytes left, too few for a record",
                             incomplete=True)
        field = f.read(4)
        if len(field) != 4:
            raise FrameFault(offset, "the file shrank while being read", incomplete=True)
        length = read_length(field, offset)
        if remaining < length + 8:
            raise FrameFault(offset, f"{remaining} bytes left for a record of {length + 8}",
                             incomplete=True)
        rest = f.read(length + 4)
        if len(rest) != length + 4:
            raise FrameFault(offset, "the file shrank while being read", incomplete=True)
        frame = decode(field + rest, offset)
        yield frame
        offset = frame.end


def link_problem(frame: Frame, last_seq: int, last_digest: bytes) -> str | None:
    """What is wrong with `frame` following the record (last_seq, last_digest), if anything."""
    expected = last_seq + 1
    if frame.seq > expected:
        return (f"{frame.where}: expected seq {expected}; {frame.seq - expected} record(s) "
                "before it are missing (deleted)")
    if frame.seq < expected:
        return (f"{frame.where}: follows seq {last_seq}; records were reordered, duplicated "
                "or inserted")
    if frame.prev != last_digest:
        before = "this vault's genesis" if last_seq == 0 else f"record seq {last_seq}"
        return (f"{frame.where}: its prev hash does not match {before} (a record was modified, "
                "replaced or inserted)")
    return None


def leftover_is_torn(f: BinaryIO, offset: int, size: int, *, next_seq: int,
                     prev: bytes) -> bool:
    """Whether the bytes from `offset` to the end look like an append a crash cut short.

    They must agree with the frame that was being written (see `is_torn_start`), or be zeros
    (some filesystems extend a file before its data reaches the disk) — and must not end in a
    whole record: then a damaged length field only makes whole records look like a torn one.
    (The trailing length of a record that fills the rest of the file exactly says so even when
    its leading length is the damaged one.)
    """
    remaining = size - offset
    if remaining <= 0:
        return False
    if remaining >= MIN_LEN + 8:
        f.seek(size - 4)
        length = length_at_end(f.read(4))
        start = size - 8 - length
        if MIN_LEN <= length <= MAX_LEN and start == offset:
            return False
        if MIN_LEN <= length <= MAX_LEN and start > offset:
            f.seek(start)
            if length_at_end(f.read(4)) == length:
                return False
    f.seek(offset)
    if is_torn_start(f.read(min(remaining, PREFIX_LEN)), remaining, next_seq=next_seq,
                     prev=prev):
        return True
    if remaining > MAX_LEN + 8:
        return False
    f.seek(offset)
    return not any(f.read(remaining))


def describe_leftover(offset: int, size: int, last_seq: int, *, torn: bool) -> str:
    """The problem message for bytes left over after the last whole record."""
    count = size - offset
    after = f"after seq {last_seq}" if last_seq else "after the header"
    if torn:
        return (f"offset {offset}: torn final record {after} ({count} bytes of an interrupted "
                "append, or a cut file); repair_torn_tail removes it")
    return (f"offset {offset}: {count} bytes {after} are not whole records (trailing garbage, "
            "or a damaged record length)")


def chain(f: BinaryIO, size: int, vault_id: str) -> Iterator[Frame]:
    """Yield every record in order while proving framing, seq and the hash chain.

    Raises:
        TornTail: the file ends inside a record.
        IntegrityError: any other fault, at the first one; the message names seq and offset.
    """
    if not read_header(f, size, vault_id):
        return
    last_seq, last_digest = 0, genesis(vault_id)
    try:
        for frame in frames(f, size):
            problem = link_problem(frame, last_seq, last_digest)
            if problem is not None:
                raise IntegrityError(problem)
            yield frame
            last_seq, last_digest = frame.seq, frame.digest
    except FrameFault as fault:
        torn = leftover_is_torn(f, fault.offset, size, next_seq=last_seq + 1, prev=last_digest)
        if not (torn or fault.incomplete):
            raise IntegrityError(f"{fault.message} (after seq {last_seq})") from None
        raise TornTail(describe_leftover(fault.offset, size, last_seq, torn=torn),
                       offset=fault.offset, torn=torn) from None


def _frame_ending_at(fd: int, end: int) -> Frame:
    if end - HEADER_LEN < MIN_LEN + 8:
        raise FrameFault(end, "no whole record ends here", incomplete=True)
    length = read_length(os.pread(fd, 4, end - 4), end - 4)
    start = end - 8 - length
    if start < HEADER_LEN:
        raise FrameFault(end - 4, "the record length runs into the header", incomplete=False)
    data = os.pread(fd, length + 8, start)
    if len(data) != length + 8:
        raise FrameFault(start, "the file shrank while being read", incomplete=True)
    return decode(data, start)


def read_tail(fd: int, size: int, vault_id: str) -> Frame | None:
    """The last record, found from the end in O(1); None for an empty log.

    The last record is checked against its predecessor (seq + 1, prev = its digest), or against
    the genesis if it is the first: a torn or garbage tail does not pass for a record.

    Raises:
        IntegrityError: the header is wrong, or the end of the file is not a record that
            follows the one before it.
    """
    if size == 0:
        return None
    check_header(os.pread(fd, HEADER_LEN, 0), vault_id)
    if size == HEADER_LEN:
        return None
    try:
        last = _frame_ending_at(fd, size)
        if last.offset == HEADER_LEN:
            problem = link_problem(last, 0, genesis(vault_id))
        else:
            before = _frame_ending_at(fd, last.offset)
            problem = link_problem(last, before.seq, before.digest)
    except FrameFault as fault:
        raise IntegrityError(
            f"the end of the audit log is not a whole record ({fault.message}): a torn append "
            "or damage"
        ) from None
    if problem is not None:
        raise IntegrityError(f"the last record does not follow the one before it: {problem}")
    return last
