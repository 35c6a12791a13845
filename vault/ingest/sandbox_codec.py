"""What a kind of sandboxed worker computes, as the pool, its handles and the worker loop see it.

The pool (`vault.ingest.sandbox`), the parent's handle on a worker (`sandbox_handle`) and the
worker loop (`sandbox_worker`) do not know what a worker computes. A `Codec` tells them: how a
batch of numbered requests is framed and read back, how a result is written and how an untrusted
reply is checked, what a request costs in a batch, which result stands for a request its worker
crashed or timed out on, which error says no worker can start, and what a worker must load before
it locks itself down (it can open no file afterwards, so a late import would fail).

`DETECTION`, type detection with libmagic, is the default everywhere; other sandboxed work (text
extraction for search, `vault.review.extract`) brings its own codec and reuses the pool as is.
A codec is pickled by reference into each spawned worker: define it at module level.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import Generic, TypeVar

from vault.ingest import detect_magic, flags_rules
from vault.ingest import sandbox_protocol as proto
from vault.ingest.detect_model import Detection, DetectorUnavailable, Sample

RequestT = TypeVar("RequestT")
ResultT = TypeVar("ResultT")


class Codec(ABC, Generic[RequestT, ResultT]):
    """How one kind of worker's requests and results cross the pipes (see the module docstring).

    Attributes:
        label: a short word naming the pool's thread and its worker processes.
        max_reply: the longest reply frame the parent accepts, in bytes.
    """

    label: str = "worker"
    max_reply: int = proto.MAX_REPLY

    @abstractmethod
    def prepare(self) -> None:
        """Load, in the worker and before it locks down, everything a request can need."""

    @abstractmethod
    def encode_batch(self, items: list[tuple[int, RequestT]]) -> bytes:
        """One framed batch of numbered requests (parent side)."""

    @abstractmethod
    def decode_batch(self, payload: bytes) -> Iterator[tuple[int, RequestT]]:
        """The numbered requests of a batch payload (worker side; the parent is trusted)."""

    @abstractmethod
    def encode_result(self, seq: int, result: ResultT) -> bytes:
        """A result payload (worker side)."""

    @abstractmethod
    def parse_reply(self, payload: bytes) -> proto.Reply[ResultT]:
        """Check and decode one reply payload from an untrusted worker.

        Raises:
            ProtocolError: anything malformed.
        """

    @abstractmethod
    def cost(self, request: RequestT) -> int:
        """The bytes a request adds to a batch."""

    @abstractmethod
    def failed(self, reason: str) -> ResultT:
        """The result for a request whose worker crashed, timed out or failed on it."""

    @abstractmethod
    def unavailable(self, reason: str) -> Exception:
        """The error every waiting caller gets when no worker can be started."""


class DetectionCodec(Codec[Sample, Detection]):
    """Type detection: `Sample` in, `Detection` out, in the `sandbox_protocol` byte format."""

    label = "detect"

    def prepare(self) -> None:
        """Load libmagic and its database, and import every codec the flag rules use."""
        detect_magic.load()
        flags_rules.warm_up()

    def encode_batch(self, items: list[tuple[int, Sample]]) -> bytes:
        """See `sandbox_protocol.encode_batch`."""
        return proto.encode_batch(items)

    def decode_batch(self, payload: bytes) -> Iterator[tuple[int, Sample]]:
        """See `sandbox_protocol.decode_batch`."""
        return proto.decode_batch(payload)

    def encode_result(self, seq: int, result: Detection) -> bytes:
        """See `sandbox_protocol.encode_result`."""
        return proto.encode_result(seq, result)

    def parse_reply(self, payload: bytes) -> proto.Reply[Detection]:
        """See `sandbox_protocol.parse_reply`."""
        return proto.parse_reply(payload)

    def cost(self, request: Sample) -> int:
        """The sample's head and tail."""
        return len(request.head) + len(request.tail)

    def failed(self, reason: str) -> Detection:
        """`type-unknown`, with the reason."""
        return Detection.unknown(reason)

    def unavailable(self, reason: str) -> Exception:
        """`DetectorUnavailable`."""
        return DetectorUnavailable(f"type detection is unavailable ({reason})")


DETECTION = DetectionCodec()
