"""True-type detection and risk flags, computed in sandboxed worker processes.

libmagic parses hostile bytes and has had memory-safety bugs, so it never runs in the vault's
main process. A `Detector` owns a small pool of worker processes (`vault.ingest.sandbox`) that
load libmagic, lock themselves down (`vault.ingest.sandbox_worker`) and then, for each `Sample`,
return a `Detection`: libmagic's MIME type and description plus the risk flags of
`vault.ingest.flags.FLAGS`, raised by the content rules of `vault.ingest.flags_rules`, which run in
the worker too.

Check-in streams an item into the store in the main process and meanwhile `submit`s its sample;
detection runs on another core and never serialises check-in. A sample that crashes, hangs or
exhausts its worker comes back as `Detection.unknown(...)` (flag `type-unknown`); the pool
replaces the worker and keeps serving. Only an environment where no worker can start at all
(libmagic missing) is an error: `DetectorUnavailable`.

    with Detector() as detector:
        futures = detector.submit_many(samples)
        for future in futures:
            detection = future.result()
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import Future
from types import TracebackType

from vault.ingest import detect_magic
from vault.ingest.detect_model import (
    MAX_HEAD,
    MAX_TAIL,
    Detection,
    DetectorUnavailable,
    Sample,
    escape_text,
)
from vault.ingest.flags_rules import compute_flags
from vault.ingest.sandbox import PoolStats, WorkerPool
from vault.ingest.sandbox_worker import Analyse, WorkerLimits

__all__ = [
    "MAX_HEAD",
    "MAX_TAIL",
    "Analyse",
    "Detection",
    "Detector",
    "DetectorUnavailable",
    "PoolStats",
    "Sample",
    "WorkerLimits",
    "analyse",
]


def analyse(sample: Sample) -> Detection:
    """Detect one sample's type and flags. Runs inside a sandboxed worker only.

    This is the default `analyse` of a `Detector`; a replacement (for tests) must be a
    module-level function so a spawned worker can import it by name.
    """
    mime, description = detect_magic.identify(sample.head)
    flags = compute_flags(sample.name, sample.head, sample.tail, sample.size, mime, description)
    return Detection(mime, escape_text(description), flags)


class Detector:
    """A pool of sandboxed detection workers; use it as a context manager.

    Starting one waits until every worker has loaded libmagic (well under a second). The queue
    is not bounded: a caller feeding it faster than it drains keeps the samples in memory, so it
    should hold back while `pending` is high (a few hundred samples keep both workers busy).

    Args:
        workers: worker processes (default 2: one core detects while another encrypts).
        analyse: the function each worker applies to a sample; module-level, picklable by name.
        timeout: wall-clock seconds per sample before its worker is killed and replaced.
        limits: the resource limits every worker applies to itself.
        batch_size: most samples handed to a worker at once (batches amortise the pipe
            round-trips of many small items).
        wait: wait until the workers are ready; without it, samples queue while they start,
            and if none can start, their futures fail with `DetectorUnavailable`.

    Raises:
        DetectorUnavailable: no worker could start (for instance, libmagic is not installed).
    """

    def __init__(
        self,
        workers: int = 2,
        *,
        analyse: Analyse = analyse,
        timeout: float = 5.0,
        limits: WorkerLimits | None = None,
        batch_size: int = 64,
        wait: bool = True,
    ) -> None:
        self._pool = WorkerPool(
            workers=workers,
            analyse=analyse,
            limits=limits if limits is not None else WorkerLimits(),
            timeout=timeout,
            batch_size=batch_size,
            wait=wait,
        )

    def __enter__(self) -> Detector:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def submit(self, sample: Sample) -> Future[Detection]:
        """Queue one sample without blocking.

        Returns:
            A future that completes with the sample's Detection — `type-unknown` if its worker
            crashed, hung or failed. Callbacks added to it run on the detector's thread: keep
            them short.

        Raises:
            RuntimeError: the detector is closed.
        """
        return self._pool.submit_many((sample,))[0]

    def submit_many(self, samples: Iterable[Sample]) -> list[Future[Detection]]:
        """Queue several samples at once without blocking; see `submit`."""
        return self._pool.submit_many(samples)

    def detect(self, sample: Sample) -> Detection:
        """Detect one sample, waiting for the answer.

        Raises:
            DetectorUnavailable: every worker failed to start.
        """
        return self.submit(sample).result()

    @property
    def pending(self) -> int:
        """Samples queued and not yet handed to a worker (for back-pressure)."""
        return self._pool.pending

    @property
    def stats(self) -> PoolStats:
        """Counters: workers started, crashed, timed out and retired; samples detected."""
        return self._pool.stats

    def close(self) -> None:
        """Finish the queued samples, then stop every worker. Idempotent."""
        self._pool.close()
