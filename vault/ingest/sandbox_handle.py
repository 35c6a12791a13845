"""The vault's side of one sandboxed worker process: start it, feed it, hear it, stop it.

A `WorkerHandle` owns the process and the parent's ends of its two pipes, both non-blocking:
`write` sends as much of the pending batch as the pipe takes, `read` takes whatever the worker
has written and returns the complete replies in it (checked by its codec's `parse_reply`, at
most the codec's `max_reply` bytes each).
Nothing here ever waits on the worker: a silent, stuck or hostile worker can delay nothing but
its own samples, and `stop` kills it if it does not exit.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import sys
import threading
import time
import types
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.context import SpawnContext
from multiprocessing.process import BaseProcess
from typing import Generic, cast

from vault.ingest import sandbox_protocol as proto
from vault.ingest.sandbox_codec import DETECTION, Codec, RequestT, ResultT
from vault.ingest.sandbox_worker import WorkerLimits, worker_main

_READ_CHUNK = 256 * 1024
# A 1 MiB sample head fits a pipe this large in one write: one wake-up on each side, not sixteen.
_PIPE_SIZE = 1024 * 1024
_MAIN_SWAP = threading.Lock()


def _widen(fd: int) -> None:
    """Ask for a larger pipe buffer; the kernel's default (64 KiB) serves where it says no."""
    setsize = getattr(fcntl, "F_SETPIPE_SZ", None)  # Linux only
    if setsize is not None:
        with contextlib.suppress(OSError):
            fcntl.fcntl(fd, setsize, _PIPE_SIZE)


@contextlib.contextmanager
def _without_main_module() -> Iterator[None]:
    """Start processes that do not re-run the parent's `__main__`.

    Before its target, a spawned process runs the parent's main script again (multiprocessing's
    "safe importing of the main module"). For the `vault` script that is the whole command line:
    90 MiB and most of a second of CPU in every worker, none of which it uses. A worker needs
    only the modules its target and codec are pickled from, and imports those itself.
    """
    with _MAIN_SWAP:
        main = sys.modules["__main__"]
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            yield
        finally:
            sys.modules["__main__"] = main


@dataclass(eq=False)
class Job(Generic[RequestT, ResultT]):
    """One submitted sample and the future its caller holds.

    Attributes:
        cost: the bytes it adds to a batch (the codec's `cost` of the sample).
    """

    seq: int
    sample: RequestT
    future: Future[ResultT]
    running: bool = False
    cost: int = 0


@dataclass
class Heard(Generic[ResultT]):
    """What one read of a worker's pipe brought.

    Attributes:
        replies: the complete, well-formed replies, in order.
        open: the pipe is still open (False: the worker closed it or died).
        malformed: something that is not a reply followed them.
    """

    replies: list[proto.Reply[ResultT]] = field(default_factory=list)
    open: bool = True
    malformed: bool = False


@dataclass(eq=False)
class WorkerHandle(Generic[RequestT, ResultT]):
    """One worker process, its pipes, and the jobs it holds, oldest first.

    Attributes:
        proc: the process.
        to_worker: the parent's (writing) end of the request pipe.
        from_worker: the parent's (reading) end of the reply pipe.
        codec: how its batches and replies are framed and checked.
        starting: it has not said it is ready yet.
        deadline: when the current sample (or the start) must be answered by.
        jobs: samples sent and not answered, in the order the worker takes them.
        failures: consecutive failed starts of this slot, this one included if it fails.
        retired: it has been taken out of the pool; events about it are stale.
    """

    proc: BaseProcess
    to_worker: Connection
    from_worker: Connection
    codec: Codec[RequestT, ResultT]
    starting: bool = True
    deadline: float = 0.0
    jobs: deque[Job[RequestT, ResultT]] = field(default_factory=deque)
    failures: int = 0
    retired: bool = False
    inbox: bytearray = field(default_factory=bytearray)
    outbox: memoryview | None = None

    @classmethod
    def spawn(
        cls,
        ctx: SpawnContext,
        analyse: Callable[[RequestT], ResultT],
        limits: WorkerLimits,
        *,
        start_timeout: float,
        failures: int,
        codec: Codec[RequestT, ResultT] | None = None,
    ) -> WorkerHandle[RequestT, ResultT]:
        """Start a worker process (it says READY once its codec has loaded what it needs, such
        as libmagic, and it is locked down). The codec defaults to type detection."""
        kind = codec if codec is not None else cast(Codec[RequestT, ResultT], DETECTION)
        requests_r, requests_w = ctx.Pipe(duplex=False)
        replies_r, replies_w = ctx.Pipe(duplex=False)
        proc = ctx.Process(
            target=worker_main,
            name=f"vault-{kind.label}-worker",
            daemon=True,
            args=(requests_r, replies_w, analyse, limits, kind),
        )
        try:
            with _without_main_module():
                proc.start()
        finally:
            requests_r.close()
            replies_w.close()
        for conn in (requests_w, replies_r):
            os.set_blocking(conn.fileno(), False)
            _widen(conn.fileno())
        deadline = time.monotonic() + start_timeout
        return cls(proc, requests_w, replies_r, kind, failures=failures, deadline=deadline)

    @property
    def idle(self) -> bool:
        """Ready and holding no job."""
        return not self.starting and not self.jobs

    def send(self, batch: list[Job[RequestT, ResultT]], timeout: float) -> None:
        """Take a batch: queue its frame for `write` and start the first sample's clock."""
        self.jobs.extend(batch)
        self.outbox = memoryview(self.codec.encode_batch([(job.seq, job.sample) for job in batch]))
        self.deadline = time.monotonic() + timeout

    def write(self) -> bool:
        """Write what the pipe takes of the pending batch; True once all of it is written."""
        assert self.outbox is not None
        try:
            sent = os.write(self.to_worker.fileno(), self.outbox)
        except BlockingIOError:
            return False
        except OSError:
            sent = len(self.outbox)  # the worker is gone; its exit event follows
        self.outbox = self.outbox[sent:]
        if self.outbox:
            return False
        self.outbox = None
        return True

    def read(self) -> Heard[ResultT]:
        """Everything the worker has written so far, as complete replies."""
        heard: Heard[ResultT] = Heard()
        while True:
            try:
                chunk = os.read(self.from_worker.fileno(), _READ_CHUNK)
            except BlockingIOError:
                return heard
            except OSError:
                chunk = b""
            if not chunk:
                heard.open = False
                return heard
            self.inbox += chunk
            try:
                self._parse(heard.replies)
            except proto.ProtocolError:
                heard.malformed = True
                return heard

    def _parse(self, replies: list[proto.Reply[ResultT]]) -> None:
        while len(self.inbox) >= proto.HEADER.size:
            (length,) = proto.HEADER.unpack_from(self.inbox)
            if not 0 < length <= self.codec.max_reply:
                raise proto.ProtocolError("bad frame length")
            end = proto.HEADER.size + length
            if len(self.inbox) < end:
                return
            replies.append(self.codec.parse_reply(bytes(self.inbox[proto.HEADER.size : end])))
            del self.inbox[:end]

    def exit_reason(self) -> str:
        """Why the worker went away, once it has (waiting for at most a second)."""
        code = wait_exit(self.proc, 1.0)
        if code is None:
            return "worker stopped answering"
        if code < 0:
            with contextlib.suppress(ValueError):
                return f"worker killed by {signal.Signals(-code).name}"
        return f"worker exited with status {code}"

    def quit(self) -> None:
        """Ask an idle worker to exit, without ever blocking on it."""
        if self.outbox is None:
            with contextlib.suppress(OSError):
                os.write(self.to_worker.fileno(), proto.frame(proto.QUIT))

    def stop(self, *, kill: bool, grace: float = 1.0) -> None:
        """Close the pipes and make sure the process is gone (killed after `grace` seconds)."""
        self.to_worker.close()
        self.from_worker.close()
        if kill:
            self.proc.kill()
        if wait_exit(self.proc, grace) is None:
            self.proc.kill()
            wait_exit(self.proc, 5.0)
        with contextlib.suppress(ValueError):
            self.proc.close()


def wait_exit(proc: BaseProcess, timeout: float) -> int | None:
    """The exit code once the process has exited, polling for at most `timeout` seconds.

    Never `join`: a worker can make its exit sentinel readable while still alive, and `join`
    would then block in `waitpid` for as long as the worker pleases.
    """
    end = time.monotonic() + timeout
    delay = 0.0005
    while (code := proc.exitcode) is None and time.monotonic() < end:
        time.sleep(delay)
        delay = min(delay * 2, 0.02)
    return code
