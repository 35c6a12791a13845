"""The extraction sandbox: a document that crashes, hangs or lies costs itself, never the batch.

The functions at the top are injected into workers as their `extract`; they are module-level so
a spawned worker can import them by name, and they switch on the document's name.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import time
from collections.abc import Iterator

import pytest

from vault.ingest.sandbox_worker import WorkerLimits
from vault.review.extract import (
    CRASHED,
    TIMED_OUT,
    TOO_LARGE,
    Document,
    Extraction,
    Extractor,
    extract_document,
)

pytestmark = pytest.mark.slow

TEXT = b"An ordinary memo about the transfer.\n"


def misbehave(document: Document) -> Extraction:
    """Do what the document's name says, then extract normally."""
    if document.name == "segv":
        os.kill(os.getpid(), signal.SIGSEGV)
    elif document.name == "exit":
        os._exit(3)
    elif document.name == "hang":
        time.sleep(3600)
    elif document.name == "spin":
        while True:
            pass
    elif document.name == "allocate":
        bytearray(2 * 1024 * 1024 * 1024)
    elif document.name == "lie":
        return Extraction("\x1b]0;owned\x07 \u202eexe", None)
    elif document.name == "limits":
        names = ("RLIMIT_AS", "RLIMIT_FSIZE", "RLIMIT_NOFILE", "RLIMIT_CORE")
        found = {name: list(resource.getrlimit(getattr(resource, name))) for name in names}
        return Extraction(json.dumps(found), None)
    elif document.name == "open":
        with open("/etc/hostname", "rb") as src:  # a raw open, as a parser bug would do
            return Extraction(src.read().decode(), None)
    return extract_document(document)


@pytest.fixture(scope="module")
def unruly() -> Iterator[Extractor]:
    """One worker, short deadline: each misbehaving document costs about two seconds."""
    with Extractor(workers=1, extract=misbehave, timeout=2.0) as extractor:
        yield extractor


def assert_memo(found: Extraction) -> None:
    assert found == Extraction(TEXT.decode(), None)


@pytest.mark.parametrize(
    ("culprit", "error"),
    [
        ("segv", f"{CRASHED}: worker killed by SIGSEGV"),
        ("exit", f"{CRASHED}: worker exited with status 3"),
        ("hang", TIMED_OUT),
        ("lie", f"{CRASHED}: worker sent a malformed reply"),
    ],
)
def test_bad_document_costs_only_itself(unruly: Extractor, culprit: str, error: str) -> None:
    started = unruly.stats.started
    names = ["a.txt", "b.txt", culprit, "c.txt"]
    futures = [unruly.submit(name, "text/plain", TEXT) for name in names]
    results = dict(zip(names, (f.result(timeout=60) for f in futures), strict=True))
    assert results.pop(culprit) == Extraction("", error)
    for found in results.values():
        assert_memo(found)
    assert unruly.stats.started == started + 1  # the worker was replaced once
    assert_memo(unruly.extract("after.txt", "text/plain", TEXT))


def test_memory_limit_stops_an_allocation(unruly: Extractor) -> None:
    found = unruly.extract("allocate", "text/plain", TEXT)
    assert found.text == ""
    assert found.error is not None
    assert found.error.startswith(CRASHED)
    assert "out of memory" in found.error


def test_worker_opens_no_file(unruly: Extractor) -> None:
    found = unruly.extract("open", "text/plain", TEXT)
    assert found == Extraction("", f"{CRASHED}: analysis failed (OSError)")


def test_worker_limits_are_applied(unruly: Extractor) -> None:
    limits = json.loads(unruly.extract("limits", "text/plain", TEXT).text)
    assert limits["RLIMIT_AS"] == [1024 * 1024 * 1024] * 2
    assert limits["RLIMIT_FSIZE"] == [0, 0]
    assert limits["RLIMIT_NOFILE"] == [0, 0]
    assert limits["RLIMIT_CORE"] == [0, 0]


def test_cpu_limit_counts_as_a_timeout() -> None:
    limits = WorkerLimits(memory_bytes=1024 * 1024 * 1024, cpu_seconds=1)
    with Extractor(workers=1, extract=misbehave, timeout=30.0, limits=limits) as extractor:
        assert extractor.extract("spin", "text/plain", TEXT) == Extraction("", TIMED_OUT)
        assert_memo(extractor.extract("after.txt", "text/plain", TEXT))


def test_size_and_type_are_judged_before_any_worker_is_asked(unruly: Extractor) -> None:
    answered = unruly.stats.detected
    big = unruly.submit("big.txt", "text/plain", b"x" * (32 * 1024 * 1024 + 1))
    image = unruly.submit("a.png", "image/png", b"\x89PNG\r\n\x1a\n")
    assert big.done()
    assert big.result() == Extraction("", TOO_LARGE)
    assert image.done()
    assert image.result() == Extraction("", None)
    assert unruly.stats.detected == answered


def test_close_finishes_queued_work_then_refuses_more() -> None:
    extractor = Extractor(workers=1)
    futures = [extractor.submit(f"{n}.txt", "text/plain", TEXT) for n in range(40)]
    extractor.close()
    assert all(f.done() and f.result() == Extraction(TEXT.decode(), None) for f in futures)
    with pytest.raises(RuntimeError):
        extractor.submit("late.txt", "text/plain", TEXT)
    extractor.close()


def test_a_batch_keeps_its_order_around_documents_judged_at_once() -> None:
    with Extractor(workers=1, wait=False) as extractor:
        futures = extractor.submit_many(
            [
                ("a.txt", "text/plain", TEXT),
                ("a.png", "image/png", b"\x89PNG\r\n\x1a\n"),
                ("b.txt", "text/plain", b"Second memo.\n"),
                ("big.txt", "text/plain", b"x" * (32 * 1024 * 1024 + 1)),
            ]
        )
        found = [f.result() for f in futures]
    assert found == [
        Extraction(TEXT.decode(), None),
        Extraction("", None),
        Extraction("Second memo.\n", None),
        Extraction("", TOO_LARGE),
    ]
