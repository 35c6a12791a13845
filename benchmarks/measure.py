"""Running one command and measuring it: wall time, CPU time and peak memory of its whole tree.

Peak memory is measured two ways, both reported:

- `max_rss` is `ru_maxrss` from `wait4(2)` on the command's process — the number `/usr/bin/time
  -f %M` prints. Linux defines it as the largest resident set of that process *or of any
  descendant it waited for*, so for `vault checkin` it is the max of the vault process and its
  sandboxed detection workers (spawned children the vault joins), and for `tar | age` the max of
  the shell, tar and age. It is exact, but it is a max, not a sum.
- `tree_rss` is the largest *sum* of the resident sets of the command's process and all its
  descendants, sampled from `/proc` every `SAMPLE_SECONDS` (and never below `max_rss`). It
  shows what the machine had to hold at once (parent and workers together); a peak shorter
  than the interval can be missed.

CPU time is user + system of the process and every descendant it waited for, from the same
`wait4` call; CPU/wall above 1 means more than one core was busy.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

SAMPLE_SECONDS = 0.2
_PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class Sample:
    """One run of one command."""

    wall: float  # seconds
    cpu: float  # seconds, user + system, the process and its reaped descendants
    max_rss_kib: int  # wait4 ru_maxrss: the largest single process of the tree
    tree_rss_kib: int  # sampled peak of the tree's summed resident sets
    returncode: int


class _TreeSampler(threading.Thread):
    """Polls `/proc` for the summed RSS of a process tree."""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.peak_kib = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.peak_kib = max(self.peak_kib, tree_rss_kib(self.root))
            self._stop_event.wait(SAMPLE_SECONDS)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def tree_rss_kib(root: int) -> int:
    """The summed resident set of a live process and all its descendants.

    Descendants are found through `/proc/PID/task/TID/children`: a few reads per process,
    where scanning all of `/proc` would cost milliseconds per sample that the measured tools
    lose on a 2-core machine.
    """
    total, todo, seen = 0, [root], set()
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                fields = f.read().rpartition(b")")[2].split()
            total += int(fields[21]) * _PAGE // 1024  # rss, field 24 of stat
            for task in os.scandir(f"/proc/{pid}/task"):
                with open(f"{task.path}/children", "rb") as f:
                    todo.extend(int(child) for child in f.read().split())
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
    return total


def run(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    stdout: Path | None = None,
    stderr: Path | None = None,
    timeout: float | None = None,
) -> Sample:
    """Run a command to its end in a session of its own and measure it.

    Args:
        argv: the command.
        env: its whole environment (default: this process's).
        cwd: its working directory.
        stdout, stderr: files to write its output to (default: discarded).
        timeout: seconds before the whole session is killed (the sample then has code -9).
    """
    out = stdout.open("wb") if stdout else subprocess.DEVNULL
    err = stderr.open("wb") if stderr else subprocess.DEVNULL
    try:
        start = time.perf_counter()
        proc = subprocess.Popen(
            list(argv),
            env=dict(env) if env is not None else None,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
        sampler = _TreeSampler(proc.pid)
        sampler.start()
        killer = None
        if timeout is not None:
            killer = threading.Timer(timeout, _kill_session, (proc.pid,))
            killer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        if killer is not None:
            killer.cancel()
        sampler.stop()
        proc.returncode = os.waitstatus_to_exitcode(status)
        # Leftovers of the session (none expected): never leave them running.
        _kill_session(proc.pid)
    finally:
        for handle in (out, err):
            if not isinstance(handle, int):
                handle.close()
    return Sample(
        wall=wall,
        cpu=usage.ru_utime + usage.ru_stime,
        max_rss_kib=usage.ru_maxrss,
        tree_rss_kib=max(sampler.peak_kib, usage.ru_maxrss),
        returncode=proc.returncode,
    )


def _kill_session(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def load_average() -> tuple[float, float, float]:
    """The 1, 5 and 15 minute load averages."""
    return os.getloadavg()
