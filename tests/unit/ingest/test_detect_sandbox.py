"""The detection sandbox: crashes, hangs and misbehaving workers cost one sample, never the batch.

The functions at the top are injected into workers as their `analyse`; they are module-level so
a spawned worker can import them by name, and they switch on the sample's name.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import json
import os
import resource
import signal
import stat
import sys
import time
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

from vault.ingest.detect import (
    Detection,
    Detector,
    DetectorUnavailable,
    Sample,
    WorkerLimits,
    analyse,
)
from vault.ingest.flags import EXTENSION_MISMATCH, TYPE_UNKNOWN

pytestmark = pytest.mark.slow

TEXT = b"An ordinary line of text, nothing more.\n"
_PR_GET_NO_NEW_PRIVS = 39


def text_sample(name: str, data: bytes = TEXT) -> Sample:
    return Sample(name, data, data, len(data))


def misbehave(sample: Sample) -> Detection:
    """Do what the sample's name says, then analyse normally."""
    if sample.name == "segv":
        os.kill(os.getpid(), signal.SIGSEGV)
    elif sample.name == "exit":
        os._exit(3)
    elif sample.name == "hang":
        time.sleep(3600)
    elif sample.name == "spin":
        while True:
            pass
    elif sample.name == "allocate":
        bytearray(1024 * 1024 * 1024)
    elif sample.name.startswith("write:"):
        Path(sample.name.removeprefix("write:")).write_bytes(b"plaintext")
    elif sample.name == "burn":
        end = time.process_time() + 0.25
        while time.process_time() < end:
            pass
    elif sample.name.startswith("torn-"):
        write_partial_frames()
        if sample.name == "torn-exit":
            os._exit(0)
        time.sleep(3600)
    return analyse(sample)


def write_partial_frames() -> None:
    """Start a reply frame on every pipe the worker can write to, and never finish it.

    That includes multiprocessing's exit sentinel: the parent then sees the worker as exited
    while it is still alive.
    """
    for fd in range(3, 256):
        try:
            mode = os.fstat(fd).st_mode
            flags = fcntl.fcntl(fd, fcntl.F_GETFL)
        except OSError:
            continue
        if stat.S_ISFIFO(mode) and flags & os.O_ACCMODE == os.O_WRONLY:
            with contextlib.suppress(OSError):
                os.write(fd, b"\x00\x00\x01\x00D\x00\x00")


def lie(sample: Sample) -> Detection:
    """Answer with whatever the sample asks for, as a compromised worker could."""
    if sample.name == "bad-flag":
        return Detection("text/plain", "x", frozenset({"not-a-flag"}))
    if sample.name == "bad-mime":
        return Detection("text/plain\x1b[2J", "x", frozenset())
    if sample.name == "escapes":
        return Detection("text/plain", "evil \x1b]0;owned\x07 \u202etxt.exe", frozenset())
    return analyse(sample)


def report_limits(sample: Sample) -> Detection:
    """Describe the limits the worker runs under, as JSON in the description."""
    del sample
    libc = ctypes.CDLL(None)
    limits = {
        name: list(resource.getrlimit(getattr(resource, name)))
        for name in ("RLIMIT_AS", "RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_NOFILE", "RLIMIT_CORE")
    }
    facts = {
        "limits": limits,
        "uid": os.getuid(),
        "no_new_privs": libc.prctl(_PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0),
        "cpu_used": time.process_time(),
    }
    return Detection("application/json", json.dumps(facts), frozenset())


@pytest.fixture(scope="module")
def unruly() -> Iterator[Detector]:
    """One worker, short deadline: each misbehaving sample costs about a second."""
    with Detector(workers=1, analyse=misbehave, timeout=1.0) as detector:
        yield detector


def assert_unknown(detection: Detection, reason: str) -> None:
    assert detection.flags == frozenset({TYPE_UNKNOWN})
    assert detection.mime == "application/octet-stream"
    assert detection.description.startswith("type unknown: ")
    assert reason in detection.description


def assert_text(detection: Detection) -> None:
    assert detection.mime == "text/plain"
    assert "text" in detection.description
    assert TYPE_UNKNOWN not in detection.flags


@pytest.mark.parametrize(
    ("culprit", "reason"),
    [
        ("segv", "killed by SIGSEGV"),
        ("exit", "exited with status 3"),
        ("hang", "timed out"),
        ("torn-exit", "exited with status 0"),  # died in the middle of a reply
        ("torn-hang", ""),  # half a reply, a false exit signal, then silence
    ],
)
def test_bad_sample_costs_only_itself(unruly: Detector, culprit: str, reason: str) -> None:
    started = unruly.stats.started
    names = ["a.txt", "b.txt", culprit, "c.txt", "d.txt"]
    futures = unruly.submit_many(text_sample(n) for n in names)
    results = dict(zip(names, (f.result(timeout=30) for f in futures), strict=True))
    assert_unknown(results.pop(culprit), reason)
    for detection in results.values():
        assert_text(detection)
    assert unruly.stats.started == started + 1  # the worker was replaced once
    assert_text(unruly.detect(text_sample("after.txt")))


def test_odd_names_cross_the_pipe(unruly: Detector) -> None:
    # os.fsdecode turns undecodable bytes into lone surrogates; they must survive the trip
    detection = unruly.detect(text_sample("caf\udce9 \u202e.pdf"))
    assert detection.mime == "text/plain"
    assert EXTENSION_MISMATCH in detection.flags


def test_cpu_limit_kills_a_spinning_worker() -> None:
    limits = WorkerLimits(cpu_seconds=1)
    with Detector(workers=1, analyse=misbehave, timeout=30.0, limits=limits) as detector:
        assert_unknown(detector.detect(text_sample("spin")), "killed by SIGXCPU")
        assert_text(detector.detect(text_sample("after.txt")))


def test_memory_limit_refuses_a_gibibyte(unruly: Detector) -> None:
    assert_unknown(unruly.detect(text_sample("allocate")), "out of memory")
    assert_text(unruly.detect(text_sample("after.txt")))


def test_worker_cannot_write_files(unruly: Detector, tmp_path: Path) -> None:
    target = tmp_path / "leak.txt"
    assert_unknown(unruly.detect(text_sample(f"write:{target}")), "analysis failed (OSError)")
    assert not target.exists()


def test_worker_limits_are_applied() -> None:
    with Detector(workers=1, analyse=report_limits) as detector:
        facts = json.loads(detector.detect(text_sample("limits")).description)
    limits = facts["limits"]
    assert limits["RLIMIT_AS"] == [512 * 1024 * 1024] * 2
    assert limits["RLIMIT_FSIZE"] == [0, 0]
    assert limits["RLIMIT_NOFILE"] == [0, 0]
    assert limits["RLIMIT_CORE"] == [0, 0]
    soft, hard = limits["RLIMIT_CPU"]
    assert 10 <= soft <= facts["cpu_used"] + 11
    assert hard == 600
    assert facts["no_new_privs"] == 1
    if os.geteuid() == 0:
        assert facts["uid"] == 65534


def test_lying_worker_is_replaced_and_its_answer_refused() -> None:
    with Detector(workers=1, analyse=lie) as detector:
        names = ["bad-flag", "ok.txt", "bad-mime", "escapes"]
        results = [f.result(timeout=30) for f in detector.submit_many(map(text_sample, names))]
        stats = detector.stats
    assert_unknown(results[0], "malformed reply")
    assert_text(results[1])
    assert_unknown(results[2], "malformed reply")
    assert results[3].description == "evil \\x1b]0;owned\\x07 \\u202etxt.exe"
    assert stats.protocol_errors == 2


def test_worker_near_its_cpu_budget_retires_without_losing_samples() -> None:
    limits = WorkerLimits(cpu_seconds=1, lifetime_cpu_seconds=2)
    with Detector(workers=1, analyse=misbehave, limits=limits) as detector:
        results = [f.result(timeout=60) for f in detector.submit_many([text_sample("burn")] * 8)]
        stats = detector.stats
    assert stats.retired >= 1
    assert stats.crashed == 0
    assert stats.timed_out == 0
    assert all(TYPE_UNKNOWN not in r.flags for r in results)


def test_missing_magic_database_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAGIC", "/nonexistent/magic.mgc")
    with pytest.raises(DetectorUnavailable) as caught:
        Detector(workers=1)
    assert caught.value.hint is not None
    assert "libmagic" in caught.value.hint


def test_close_finishes_queued_work_then_refuses_more() -> None:
    detector = Detector(workers=2)
    futures = detector.submit_many(text_sample(f"{i}.txt") for i in range(200))
    detector.close()
    assert all(f.done() and TYPE_UNKNOWN not in f.result().flags for f in futures)
    with pytest.raises(RuntimeError):
        detector.submit(text_sample("late.txt"))
    detector.close()  # idempotent


def test_cancelled_future_is_skipped(unruly: Detector) -> None:
    hang = unruly.submit(text_sample("hang"))
    deadline = time.monotonic() + 10
    while not hang.running() and time.monotonic() < deadline:
        time.sleep(0.01)
    skipped = unruly.submit(text_sample("skipped.txt"))  # queued: the only worker is busy
    assert skipped.cancel()
    assert_unknown(hang.result(timeout=30), "timed out")
    assert_text(unruly.detect(text_sample("after.txt")))


def test_workers_do_not_run_the_parents_main_script(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The `vault` script imports the whole command line; spawn would run it in every worker.
    marker = tmp_path / "ran"
    script = tmp_path / "main_script.py"
    script.write_text(f"open({str(marker)!r}, 'w').close()\n")
    main = types.ModuleType("__main__")
    main.__file__ = str(script)
    monkeypatch.setitem(sys.modules, "__main__", main)
    with Detector(workers=1) as detector:
        assert detector.detect(text_sample("plain.txt")).mime == "text/plain"
    assert not marker.exists()
