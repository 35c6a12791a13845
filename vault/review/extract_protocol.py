"""The byte protocol between the vault and its text-extraction workers. No pickles cross it.

Frames and frame kinds are those of type detection (`vault.ingest.sandbox_protocol`): `B` batch,
`Q` quit; `R` ready, `D` result, `X` retire. Only the payloads differ:

- a request: sequence number, name, MIME type and the whole document (at most 32 MiB);
- a result: sequence number, flags (has an error, truncated), the text as UTF-8 (at most
  `MAX_TEXT_BYTES`) and the error (at most `MAX_ERROR_CHARS` characters).

The vault never trusts a worker: `parse_reply` checks every length, refuses text that is not
UTF-8 or not clean (a control or invisible character that `clean_for_index` would have removed)
and escapes the error again, so a compromised worker can lie about a document's text but cannot
smuggle escape sequences, objects or unbounded data into the vault.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

from vault.ingest import sandbox_protocol as proto
from vault.ingest.detect_model import escape_text
from vault.ingest.sandbox_codec import Codec
from vault.review.cleantext import is_clean
from vault.review.extract_model import (
    CRASHED,
    MAX_ERROR_CHARS,
    MAX_MIME_BYTES,
    MAX_NAME_BYTES,
    MAX_TEXT_BYTES,
    TIMED_OUT,
    Document,
    Extraction,
    ExtractorUnavailable,
)

_DOCUMENT = struct.Struct("!QHHI")
_RESULT = struct.Struct("!QBIH")
_SEQ = struct.Struct("!Q")
_HAS_ERROR = 0x01
_TRUNCATED = 0x02
MAX_REPLY = 1 + _RESULT.size + MAX_TEXT_BYTES + 4 * MAX_ERROR_CHARS


def encode_batch(items: list[tuple[int, Document]]) -> bytes:
    """One framed batch of numbered documents (the name is cut to its last 1 KiB)."""
    parts = [proto.BATCH, struct.pack("!I", len(items))]
    for seq, doc in items:
        name = doc.name.encode("utf-8", "surrogatepass")[-MAX_NAME_BYTES:]
        mime = doc.mime.encode("ascii", "replace")[:MAX_MIME_BYTES]
        parts += [_DOCUMENT.pack(seq, len(name), len(mime), len(doc.data)), name, mime, doc.data]
    return proto.frame(b"".join(parts))


def decode_batch(payload: bytes) -> Iterator[tuple[int, Document]]:
    """The numbered documents of a batch payload (worker side; the parent is trusted)."""
    view = memoryview(payload)
    (count,) = struct.unpack_from("!I", view, 1)
    pos = 5
    for _ in range(count):
        seq, nlen, mlen, dlen = _DOCUMENT.unpack_from(view, pos)
        pos += _DOCUMENT.size
        name = bytes(view[pos : pos + nlen]).decode("utf-8", "surrogatepass")
        pos += nlen
        mime = bytes(view[pos : pos + mlen]).decode("ascii", "replace")
        pos += mlen
        data = bytes(view[pos : pos + dlen])
        pos += dlen
        yield seq, Document(name, mime, data)


def encode_result(seq: int, result: Extraction) -> bytes:
    """A result payload (worker side); text and error are cut to their limits."""
    whole = result.text.encode("utf-8", "replace")
    text = whole[:MAX_TEXT_BYTES].decode("utf-8", "ignore").encode("utf-8")  # no half character
    error = escape_text(result.error or "", MAX_ERROR_CHARS).encode("utf-8")
    flags = (_HAS_ERROR if result.error is not None else 0) | (
        _TRUNCATED if result.truncated or len(text) < len(whole) else 0
    )
    return proto.RESULT + _RESULT.pack(seq, flags, len(text), len(error)) + text + error


def parse_reply(payload: bytes) -> proto.Reply[Extraction]:
    """Check and decode one reply payload from an untrusted worker.

    Raises:
        ProtocolError: an unknown kind, lengths that do not add up or pass a limit, text that is
            not UTF-8 or holds characters clean text cannot hold.
    """
    kind = payload[:1]
    if kind == proto.READY and len(payload) == 1:
        return proto.Reply(proto.READY)
    if kind == proto.RETIRE and len(payload) == 1 + _SEQ.size:
        return proto.Reply(proto.RETIRE, _SEQ.unpack_from(payload, 1)[0])
    if kind != proto.RESULT or len(payload) < 1 + _RESULT.size:
        raise proto.ProtocolError("unknown reply")
    seq, flags, tlen, elen = _RESULT.unpack_from(payload, 1)
    pos = 1 + _RESULT.size
    if pos + tlen + elen != len(payload) or tlen > MAX_TEXT_BYTES or flags & ~0x03:
        raise proto.ProtocolError("reply lengths do not add up")
    try:
        text = payload[pos : pos + tlen].decode("utf-8")
        error = payload[pos + tlen :].decode("utf-8")
    except UnicodeDecodeError:
        raise proto.ProtocolError("reply is not text") from None
    if not is_clean(text) or len(error) > MAX_ERROR_CHARS:
        raise proto.ProtocolError("reply holds text an extraction cannot give")
    extraction = Extraction(
        text,
        escape_text(error, MAX_ERROR_CHARS) if flags & _HAS_ERROR else None,
        truncated=bool(flags & _TRUNCATED),
    )
    return proto.Reply(proto.RESULT, seq, extraction)


class ExtractionCodec(Codec[Document, Extraction]):
    """Text extraction: `Document` in, `Extraction` out (see the module docstring)."""

    label = "extract"
    max_reply = MAX_REPLY

    def prepare(self) -> None:
        """Import and exercise every parser and codec once (see `extract_warmup`)."""
        # Imported here, in the worker: the parsers are never the vault process's to load.
        from vault.review import extract_warmup

        extract_warmup.warm_up()

    def encode_batch(self, items: list[tuple[int, Document]]) -> bytes:
        """See the module-level `encode_batch`."""
        return encode_batch(items)

    def decode_batch(self, payload: bytes) -> Iterator[tuple[int, Document]]:
        """See the module-level `decode_batch`."""
        return decode_batch(payload)

    def encode_result(self, seq: int, result: Extraction) -> bytes:
        """See the module-level `encode_result`."""
        return encode_result(seq, result)

    def parse_reply(self, payload: bytes) -> proto.Reply[Extraction]:
        """See the module-level `parse_reply`."""
        return parse_reply(payload)

    def cost(self, request: Document) -> int:
        """The document's bytes."""
        return len(request.data)

    def failed(self, reason: str) -> Extraction:
        """`timed out` for a deadline or the CPU limit, else `extraction crashed: <reason>`."""
        if reason.startswith("timed out") or reason.endswith("SIGXCPU"):
            return Extraction("", TIMED_OUT)
        return Extraction("", f"{CRASHED}: {reason}")

    def unavailable(self, reason: str) -> Exception:
        """`ExtractorUnavailable`."""
        return ExtractorUnavailable(f"text extraction is unavailable ({reason})")


EXTRACTION = ExtractionCodec()
