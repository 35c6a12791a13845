"""A pool of sandboxed worker processes, driven by one event-loop thread.

What the workers compute, and how it crosses the pipes, is the pool's codec
(`vault.ingest.sandbox_codec`): type detection by default, text extraction for search in
`vault.review.extract`. Below, "sample" is whatever a codec's requests are and `type-unknown` is
whatever its `failed` result is.

Workers are started with the `spawn` method (a fresh interpreter: nothing inherited from a
process that may hold threads, locks, keys or SQLite handles; and, unlike `forkserver`, no
listening socket) and talk to the vault over two pipes each, in `sandbox_protocol` frames.
Samples travel in memory only; plaintext never touches disk.

The loop thread owns every worker. It hands out batches, reads replies without ever blocking on a
worker, times each sample against a wall-clock deadline, and replaces a worker that dies, hangs,
misbehaves or retires: the sample it was on becomes `type-unknown` with the reason, and the rest
of its batch goes back to the front of the queue. A bad sample therefore costs one worker and one
`type-unknown`; the caller never sees an exception for it.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import multiprocessing
import os
import selectors
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Generic, cast

from vault.ingest import sandbox_protocol as proto
from vault.ingest.sandbox_codec import DETECTION, Codec, RequestT, ResultT
from vault.ingest.sandbox_handle import Job, WorkerHandle
from vault.ingest.sandbox_worker import WorkerLimits

_MAX_START_FAILURES = 3


@dataclass
class PoolStats:
    """Counters a pool keeps, for tests, progress displays and benchmarks.

    Attributes:
        started: worker processes started, replacements included.
        crashed: workers lost on a sample: crashed, killed, or sent a malformed reply.
        timed_out: workers killed because a sample passed its deadline.
        retired: workers that retired near their lifetime CPU budget.
        protocol_errors: malformed replies refused.
        detected: samples answered by a worker.
    """

    started: int = 0
    crashed: int = 0
    timed_out: int = 0
    retired: int = 0
    protocol_errors: int = 0
    detected: int = 0


class WorkerPool(Generic[RequestT, ResultT]):
    """Sandboxed workers behind a queue; see the module docstring.

    Args:
        workers: how many worker processes.
        analyse: the function a worker applies to each sample (module-level, so spawn can
            import it by name).
        limits: the limits each worker applies to itself.
        timeout: wall-clock seconds one sample may take before its worker is killed.
        start_timeout: seconds a new worker may take to load libmagic and say it is ready.
        batch_size: most samples sent to a worker at once.
        batch_bytes: most sample bytes sent to a worker at once (at least one sample is sent).
        codec: what the workers compute and how it crosses the pipes (default: detection).
        wait: wait until every worker is ready; without it, samples queue while the workers
            start, and a pool none of whose workers starts fails their futures instead.

    Raises:
        DetectorUnavailable: no worker could be started (the codec's `unavailable` error).
    """

    def __init__(
        self,
        *,
        workers: int,
        analyse: Callable[[RequestT], ResultT],
        limits: WorkerLimits,
        timeout: float,
        start_timeout: float = 60.0,
        batch_size: int = 64,
        batch_bytes: int = 4 * 1024 * 1024,
        codec: Codec[RequestT, ResultT] | None = None,
        wait: bool = True,
    ) -> None:
        if workers < 1:
            raise ValueError("a pool needs at least one worker")
        self._analyse, self._limits, self._timeout = analyse, limits, timeout
        self._codec = codec if codec is not None else cast(Codec[RequestT, ResultT], DETECTION)
        self._start_timeout = start_timeout
        self._batch_size, self._batch_bytes = batch_size, batch_bytes
        self._ctx = multiprocessing.get_context("spawn")
        self._lock = threading.Lock()  # guards _queue, _closing and _broken
        self._queue: deque[Job[RequestT, ResultT]] = deque()
        self._seq = itertools.count()
        self._closing = False
        self._broken: Exception | None = None
        self._ready = threading.Event()
        self.stats = PoolStats()
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = os.pipe()
        for fd in (self._wake_r, self._wake_w):
            os.set_blocking(fd, False)
        self._selector.register(self._wake_r, selectors.EVENT_READ, None)
        self._workers: list[WorkerHandle[RequestT, ResultT] | None] = []
        try:
            for _ in range(workers):
                self._workers.append(self._spawn(0))
        except BaseException:
            for worker in self._live():
                worker.stop(kill=True)
            raise
        self._thread = threading.Thread(
            target=self._run, name=f"vault-{self._codec.label}", daemon=True
        )
        self._thread.start()
        if not wait:
            return
        self._ready.wait()
        if self._broken is not None:
            self.close()
            raise self._broken

    # -- the caller's side -------------------------------------------------------------------

    def submit_many(self, samples: Iterable[RequestT]) -> list[Future[ResultT]]:
        """Queue samples; each future completes with a result, never with a sample's error."""
        jobs: list[Job[RequestT, ResultT]] = [
            Job(next(self._seq), sample, Future(), cost=self._codec.cost(sample))
            for sample in samples
        ]
        with self._lock:
            if self._closing:
                raise RuntimeError("the detector is closed")
            # The loop thread drains the queue whenever a worker answers, so only a queue that
            # was empty needs waking: one wake-up per burst, not one per sample.
            idle = not self._queue
            if self._broken is not None:
                for job in jobs:
                    job.future.set_exception(self._broken)
            else:
                self._queue.extend(jobs)
        if idle and jobs:
            self._wake()
        return [job.future for job in jobs]

    @property
    def pending(self) -> int:
        """Samples queued and not yet handed to a worker."""
        return len(self._queue)

    def close(self) -> None:
        """Finish what is queued, stop the workers and the loop thread."""
        with self._lock:
            self._closing = True
        self._wake()
        if threading.current_thread() is not self._thread and self._thread.is_alive():
            self._thread.join()

    def _wake(self) -> None:
        with contextlib.suppress(OSError):  # a full wake-up pipe is awake enough
            os.write(self._wake_w, b"!")

    # -- the loop thread ---------------------------------------------------------------------

    def _run(self) -> None:
        try:
            self._loop()
        except Exception as exc:  # a bug here must not leave callers waiting forever
            self._fail_all(f"internal error: {type(exc).__name__}")
        finally:
            self._shutdown()

    def _loop(self) -> None:
        while not self._finished():
            self._dispatch()
            deadlines = [w.deadline for w in self._live() if w.starting or w.jobs]
            wait = max(0.0, min(deadlines) - time.monotonic()) if deadlines else None
            for key, _ in self._selector.select(wait):
                if key.data is None:
                    with contextlib.suppress(BlockingIOError):
                        os.read(self._wake_r, 4096)
                    continue
                worker, what = key.data
                if worker.retired:
                    continue  # replaced earlier in this round
                if what == "write":
                    self._write(worker)
                elif what == "read" and self._hear(worker):
                    continue
                elif not worker.retired:
                    # it exited or closed its pipe: what it finished counts, the rest does not
                    if what == "exit":
                        self._hear(worker)
                    if not worker.retired:
                        self._retire(worker, worker.exit_reason(), kill=True)
            self._check_deadlines()

    def _finished(self) -> bool:
        with self._lock:
            if self._broken is not None:
                return True
            return self._closing and not self._queue and all(w.idle for w in self._live())

    def _live(self) -> list[WorkerHandle[RequestT, ResultT]]:
        return [w for w in self._workers if w is not None]

    def _spawn(self, failures: int) -> WorkerHandle[RequestT, ResultT]:
        worker = WorkerHandle.spawn(
            self._ctx,
            self._analyse,
            self._limits,
            start_timeout=self._start_timeout,
            failures=failures,
            codec=self._codec,
        )
        self.stats.started += 1
        self._selector.register(worker.from_worker.fileno(), selectors.EVENT_READ, (worker, "read"))
        self._selector.register(worker.proc.sentinel, selectors.EVENT_READ, (worker, "exit"))
        return worker

    def _dispatch(self) -> None:
        for worker in self._live():
            if not worker.idle:
                continue
            with self._lock:
                if not self._queue:
                    return
                batch = self._take_batch(math.ceil(len(self._queue) / len(self._live())))
            if batch:
                worker.send(batch, self._timeout)
                self._selector.register(
                    worker.to_worker.fileno(), selectors.EVENT_WRITE, (worker, "write")
                )
                self._write(worker)

    def _take_batch(self, share: int) -> list[Job[RequestT, ResultT]]:
        """Up to `share` queued jobs (and the batch limits), skipping cancelled ones."""
        batch: list[Job[RequestT, ResultT]] = []
        size = 0
        while self._queue and len(batch) < min(self._batch_size, share):
            job = self._queue[0]
            if batch and size + job.cost > self._batch_bytes:
                break
            self._queue.popleft()
            if job.running or job.future.set_running_or_notify_cancel():
                job.running = True
                batch.append(job)
                size += job.cost
        return batch

    def _write(self, worker: WorkerHandle[RequestT, ResultT]) -> None:
        if worker.write():
            self._selector.unregister(worker.to_worker.fileno())

    def _hear(self, worker: WorkerHandle[RequestT, ResultT]) -> bool:
        """Act on everything the worker has said; False when its pipe is closed."""
        heard = worker.read()
        for reply in heard.replies:
            if worker.retired:
                break
            self._on_reply(worker, reply)
        if heard.malformed and not worker.retired:
            self.stats.protocol_errors += 1
            self._retire(worker, "worker sent a malformed reply", kill=True)
        return heard.open

    def _on_reply(
        self, worker: WorkerHandle[RequestT, ResultT], reply: proto.Reply[ResultT]
    ) -> None:
        if reply.kind == proto.READY and worker.starting:
            worker.starting, worker.failures = False, 0
            self._note_ready()
        elif reply.kind == proto.READY or not worker.jobs or reply.seq != worker.jobs[0].seq:
            self.stats.protocol_errors += 1
            self._retire(worker, "worker sent a reply out of turn", kill=True)
        elif reply.kind == proto.RETIRE:
            self.stats.retired += 1
            self._retire(worker, None)
        else:
            assert reply.result is not None
            self.stats.detected += 1
            worker.jobs.popleft().future.set_result(reply.result)
            worker.deadline = time.monotonic() + self._timeout

    def _check_deadlines(self) -> None:
        now = time.monotonic()
        for worker in self._live():
            if not (worker.starting or worker.jobs) or now < worker.deadline:
                continue
            if worker.starting:
                self._retire(worker, "worker did not start in time", kill=True)
                continue
            is_open = self._hear(worker)  # a reply may be waiting: it counts, however late
            if worker.retired:
                continue
            if not is_open:
                self._retire(worker, worker.exit_reason(), kill=True)
            elif worker.jobs and now >= worker.deadline:
                self.stats.timed_out += 1
                self._retire(worker, f"timed out after {self._timeout:g} s", kill=True)

    def _retire(
        self, worker: WorkerHandle[RequestT, ResultT], reason: str | None, *, kill: bool = False
    ) -> None:
        """Take a worker out of the pool, settle its jobs and start a replacement.

        With a reason, the job it was on becomes `type-unknown` for that reason; without one
        (a worker retiring of its own accord) every job it held goes back to the queue.
        """
        if worker.retired:
            return
        worker.retired = True
        slot = self._workers.index(worker)
        for fd in (worker.from_worker.fileno(), worker.proc.sentinel, worker.to_worker.fileno()):
            with contextlib.suppress(KeyError, ValueError):
                self._selector.unregister(fd)
        worker.stop(kill=kill)
        if worker.jobs and reason is not None:
            self.stats.crashed += 0 if reason.startswith("timed out") else 1
            worker.jobs.popleft().future.set_result(self._codec.failed(reason))
        with self._lock:
            self._queue.extendleft(reversed(worker.jobs))
        worker.jobs.clear()
        self._workers[slot] = None
        failures = worker.failures + 1 if worker.starting else 0
        while failures < _MAX_START_FAILURES and not self._closing_now():
            try:
                self._workers[slot] = self._spawn(failures)
                break
            except Exception:  # counted as a failed start, like a crash
                failures += 1
        if not self._live():
            self._fail_all(reason or "workers retired")
        self._note_ready()

    def _closing_now(self) -> bool:
        with self._lock:
            return self._closing and not self._queue and not any(w.jobs for w in self._live())

    def _note_ready(self) -> None:
        if all(w is None or not w.starting for w in self._workers):
            self._ready.set()

    def _fail_all(self, reason: str) -> None:
        error = self._codec.unavailable(reason)
        with self._lock:
            if self._broken is None:
                self._broken = error
            jobs = list(self._queue)
            self._queue.clear()
        for worker in self._live():
            jobs += worker.jobs
            worker.jobs.clear()
        for job in jobs:
            if job.running or job.future.set_running_or_notify_cancel():
                job.future.set_exception(error)
        self._ready.set()

    def _shutdown(self) -> None:
        for worker in self._live():
            worker.quit()
        grace_until = time.monotonic() + 2.0
        if self._queue or any(w.jobs for w in self._live()):
            self._fail_all("the detector was closed")
        for worker in self._live():
            worker.stop(kill=False, grace=max(0.0, grace_until - time.monotonic()))
        self._workers = [None for _ in self._workers]
        self._selector.close()
        os.close(self._wake_r)
        os.close(self._wake_w)
        self._ready.set()
