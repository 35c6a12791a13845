"""The byte protocol between the vault and its detection workers. No pickles cross it.

Frames use the framing of `multiprocessing.connection` (a signed 32-bit big-endian length, then
the payload), so a worker can use `Connection.send_bytes`/`recv_bytes` while the parent reads and
writes the raw pipe without blocking.

Parent → worker: `B` + count + samples (a batch), or `Q` (quit).
Worker → parent: `R` (ready), `D` + one result, or `X` + the sequence number of the first sample
it did not analyse (retiring: its CPU budget is nearly spent).

The parent never trusts what a worker says: `parse_reply` checks every length and character and
refuses anything malformed, so a compromised worker can lie about a type but cannot smuggle
objects, escape sequences or unbounded data into the vault.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

from vault.ingest.detect_model import Detection, Sample, escape_text
from vault.ingest.flags import FLAGS

HEADER = struct.Struct("!i")
MAX_REPLY = 16 * 1024
MAX_NAME_BYTES = 1024
_SAMPLE = struct.Struct("!QQBHII")
_RESULT = struct.Struct("!QHHH")
_SEQ = struct.Struct("!Q")
_TAIL_IN_HEAD = 0x01
_MIME = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+=-]{0,126}", re.I)

READY = b"R"
RESULT = b"D"
RETIRE = b"X"
BATCH = b"B"
QUIT = b"Q"

ResultT = TypeVar("ResultT")


class ProtocolError(Exception):
    """A worker sent something that is not a well-formed reply."""


def frame(payload: bytes) -> bytes:
    """A payload with its length prefix, as `Connection.recv_bytes` expects it."""
    return HEADER.pack(len(payload)) + payload


def encode_batch(items: list[tuple[int, Sample]]) -> bytes:
    """One framed batch of numbered samples.

    The name is cut to its last `MAX_NAME_BYTES` bytes (only the extension is used); a tail that
    is just the end of a whole-file head is not sent twice.
    """
    parts = [BATCH, struct.pack("!I", len(items))]
    for seq, sample in items:
        name = sample.name.encode("utf-8", "surrogatepass")[-MAX_NAME_BYTES:]
        whole = sample.size == len(sample.head) and sample.head.endswith(sample.tail)
        flags = _TAIL_IN_HEAD if whole else 0
        parts.append(
            _SAMPLE.pack(seq, sample.size, flags, len(name), len(sample.head), len(sample.tail))
        )
        parts += [name, sample.head]
        if not whole:
            parts.append(sample.tail)
    payload = b"".join(parts)
    return HEADER.pack(len(payload)) + payload


def decode_batch(payload: bytes) -> Iterator[tuple[int, Sample]]:
    """The numbered samples of a batch payload (worker side; the parent is trusted)."""
    view = memoryview(payload)
    (count,) = struct.unpack_from("!I", view, 1)
    pos = 5
    for _ in range(count):
        seq, size, flags, nlen, hlen, tlen = _SAMPLE.unpack_from(view, pos)
        pos += _SAMPLE.size
        name = bytes(view[pos : pos + nlen]).decode("utf-8", "surrogatepass")
        pos += nlen
        head = bytes(view[pos : pos + hlen])
        pos += hlen
        if flags & _TAIL_IN_HEAD:
            tail = head[len(head) - tlen :]
        else:
            tail = bytes(view[pos : pos + tlen])
            pos += tlen
        yield seq, Sample(name, head, tail, size)


def encode_result(seq: int, detection: Detection) -> bytes:
    """A result payload (worker side)."""
    mime = detection.mime.encode("ascii", "replace")[:255]
    text = escape_text(detection.description).encode("utf-8", "backslashreplace")[:4096]
    flags = ",".join(sorted(detection.flags)).encode("ascii", "replace")[:1024]
    return RESULT + _RESULT.pack(seq, len(mime), len(text), len(flags)) + mime + text + flags


def encode_retire(next_seq: int) -> bytes:
    """A retire payload (worker side)."""
    return RETIRE + _SEQ.pack(next_seq)


@dataclass(frozen=True)
class Reply(Generic[ResultT]):
    """A parsed worker reply.

    The frame kinds are shared by every kind of sandboxed worker (`sandbox_codec.Codec`); only
    the result's format differs.

    Attributes:
        kind: `READY`, `RESULT` or `RETIRE`.
        seq: the sample it is about (for `RESULT` and `RETIRE`).
        result: the result (for `RESULT`).
    """

    kind: bytes
    seq: int = -1
    result: ResultT | None = None

    @property
    def detection(self) -> ResultT | None:
        """The result, by the name type detection's callers know it."""
        return self.result


def parse_reply(payload: bytes) -> Reply[Detection]:
    """Check and decode one reply payload from an untrusted worker.

    Raises:
        ProtocolError: anything malformed: unknown kind, bad lengths, a MIME type that is not a
            MIME type, text that is not UTF-8, or a flag name that is not in `FLAGS`.
    """
    kind = payload[:1]
    if kind == READY and len(payload) == 1:
        return Reply(READY)
    if kind == RETIRE and len(payload) == 1 + _SEQ.size:
        return Reply(RETIRE, _SEQ.unpack_from(payload, 1)[0])
    if kind != RESULT or len(payload) < 1 + _RESULT.size:
        raise ProtocolError("unknown reply")
    seq, mlen, tlen, flen = _RESULT.unpack_from(payload, 1)
    pos = 1 + _RESULT.size
    if pos + mlen + tlen + flen != len(payload):
        raise ProtocolError("reply lengths do not add up")
    try:
        mime = payload[pos : pos + mlen].decode("ascii")
        text = payload[pos + mlen : pos + mlen + tlen].decode("utf-8")
        names = payload[pos + mlen + tlen :].decode("ascii")
    except UnicodeDecodeError:
        raise ProtocolError("reply is not text") from None
    flags = frozenset(names.split(",")) if names else frozenset()
    if not _MIME.fullmatch(mime) or not flags <= FLAGS.keys():
        raise ProtocolError("reply names an impossible type or flag")
    return Reply(RESULT, seq, Detection(mime, escape_text(text), flags))
