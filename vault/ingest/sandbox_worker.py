"""A sandboxed worker process: lock itself down, then analyse samples until told to stop.

What it computes comes from its codec (`vault.ingest.sandbox_codec`: type detection with libmagic
unless told otherwise). Order matters. The worker first has the codec load what it needs (for
detection, libmagic and its database: the only files it opens), then applies its limits: no core
dumps, bounded address space and CPU time, no file writes (`RLIMIT_FSIZE` 0), no new file
descriptors (`RLIMIT_NOFILE` 0, which also rules out sockets and pipes), no new processes where the
kernel enforces it, no privilege gain through exec, not ptrace-able, and — when started as root —
the unprivileged `nobody` ids, so the limits cannot be raised again. Only then does it read a
sample. Its standard streams point at /dev/null so nothing a sample provokes can reach the user's
terminal.

CPU time is limited per sample: before each sample the soft `RLIMIT_CPU` is moved to the time used
so far plus `cpu_seconds`; the hard limit is a lifetime budget, and a worker close to it retires
(says which samples it did not analyse, and exits) so the pool can start a fresh one.
"""

from __future__ import annotations

import contextlib
import ctypes
import math
import os
import resource
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing import resource_tracker
from multiprocessing.connection import Connection
from typing import cast

from vault.ingest import sandbox_protocol as proto
from vault.ingest.detect_model import Detection, Sample
from vault.ingest.sandbox_codec import DETECTION, Codec, RequestT, ResultT

Analyse = Callable[[Sample], Detection]
_PR_SET_DUMPABLE = 4
_PR_SET_NO_NEW_PRIVS = 38
_NOBODY = 65534


@dataclass(frozen=True)
class WorkerLimits:
    """The resource limits a worker applies to itself.

    Attributes:
        memory_bytes: `RLIMIT_AS`, the address space.
        cpu_seconds: CPU time one sample may use (soft `RLIMIT_CPU`, moved per sample).
        lifetime_cpu_seconds: CPU time a worker may use in all (hard `RLIMIT_CPU`).
        open_files: `RLIMIT_NOFILE` once libmagic is loaded; 0 means no new descriptors.
    """

    memory_bytes: int = 512 * 1024 * 1024
    cpu_seconds: int = 10
    lifetime_cpu_seconds: int = 600
    open_files: int = 0


def worker_main(
    requests: Connection,
    replies: Connection,
    analyse: Callable[[RequestT], ResultT],
    limits: WorkerLimits,
    codec: Codec[RequestT, ResultT] | None = None,
) -> None:
    """Run one worker: lock down, say ready, then answer batches until `Q` or end of input.

    Args:
        requests: the pipe batches arrive on.
        replies: the pipe replies go out on.
        analyse: the function applied to each request.
        limits: the limits the worker applies to itself.
        codec: what the worker computes and how it crosses the pipes (default: detection).
    """
    kind = codec if codec is not None else cast(Codec[RequestT, ResultT], DETECTION)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _silence_standard_streams()
    _close_resource_tracker()
    kind.prepare()
    lock_down(limits)
    replies.send_bytes(proto.READY)
    while True:
        try:
            payload = requests.recv_bytes()
        except (EOFError, OSError):
            return
        if payload[:1] != proto.BATCH:
            return
        for seq, sample in kind.decode_batch(payload):
            # RLIMIT_CPU counts whole seconds: round up, so a sample always gets cpu_seconds.
            soft = math.ceil(time.process_time()) + limits.cpu_seconds
            if soft > limits.lifetime_cpu_seconds:
                replies.send_bytes(proto.encode_retire(seq))
                return
            _set_limit(resource.RLIMIT_CPU, soft, limits.lifetime_cpu_seconds)
            result = _analyse_safely(analyse, sample, kind)
            replies.send_bytes(kind.encode_result(seq, result))


def _analyse_safely(
    analyse: Callable[[RequestT], ResultT], sample: RequestT, codec: Codec[RequestT, ResultT]
) -> ResultT:
    try:
        return analyse(sample)
    except MemoryError:
        return codec.failed("out of memory")
    except Exception as exc:  # any failure on hostile bytes is that sample's, not the pool's
        return codec.failed(f"analysis failed ({type(exc).__name__})")


def lock_down(limits: WorkerLimits) -> None:
    """Apply every limit to the calling process (see the module docstring)."""
    _set_limit(resource.RLIMIT_CORE, 0, 0)
    _set_limit(resource.RLIMIT_AS, limits.memory_bytes, limits.memory_bytes)
    _set_limit(resource.RLIMIT_CPU, limits.cpu_seconds, limits.lifetime_cpu_seconds)
    _set_limit(resource.RLIMIT_FSIZE, 0, 0)
    _set_limit(resource.RLIMIT_NOFILE, limits.open_files, limits.open_files)
    _prctl(_PR_SET_NO_NEW_PRIVS, 1)
    _prctl(_PR_SET_DUMPABLE, 0)
    if os.geteuid() == 0:
        # root could raise the hard limits again; nobody cannot. Best effort: a user namespace
        # without a mapping for nobody refuses, and the limits above still hold.
        with contextlib.suppress(OSError):
            os.setgroups([])
            os.setresgid(_NOBODY, _NOBODY, _NOBODY)
            os.setresuid(_NOBODY, _NOBODY, _NOBODY)
    _set_limit(resource.RLIMIT_NPROC, 0, 0)


def _set_limit(which: int, soft: int, hard: int) -> None:
    current_hard = resource.getrlimit(which)[1]
    if current_hard != resource.RLIM_INFINITY:
        hard = min(hard, current_hard)
    resource.setrlimit(which, (min(soft, hard), hard))


def _prctl(option: int, value: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(option, value, 0, 0, 0)


def _silence_standard_streams() -> None:
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)


def _close_resource_tracker() -> None:
    """Drop the inherited pipe to multiprocessing's resource tracker: a worker has no use for it.

    The other inherited descriptors stay: the two protocol pipes, and the ones multiprocessing
    uses to tell each side that the other has exited.
    """
    tracker = getattr(resource_tracker, "_resource_tracker", None)
    fd = getattr(tracker, "_fd", None)
    if isinstance(fd, int) and fd > 2:
        with contextlib.suppress(OSError):
            os.close(fd)
