"""Several processes append to one log at once; the chain stays whole."""

from __future__ import annotations

import itertools
import multiprocessing
from pathlib import Path
from threading import Barrier as ThreadBarrier

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from vault.audit import AuditLog

from .helpers import T0, Members, open_log

PER_PROCESS = 60


def _appender(path: Path, actor: str, seed: bytes, barrier: ThreadBarrier) -> None:
    log = open_log(path)
    key = Ed25519PrivateKey.from_private_bytes(seed)
    barrier.wait()
    for i in range(PER_PROCESS):
        log.append(signer=key, actor=actor, action="document.view", target=f"{actor}-{i}",
                   details={"i": i}, at=T0)


def test_concurrent_appends_from_two_processes(
    log: AuditLog, log_path: Path, members: Members
) -> None:
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(2)
    workers = [
        context.Process(target=_appender, args=(log_path, name, members.keys[name]
                                                .private_bytes_raw(), barrier))
        for name in ("alice", "bob")
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0

    report = log.verify(members.public_key_of)
    assert (report.ok, report.entries, report.problems) == (True, 2 * PER_PROCESS, ())
    entries = list(log.entries())
    for name in ("alice", "bob"):
        mine = [e.target for e in entries if e.actor == name]
        assert mine == [f"{name}-{i}" for i in range(PER_PROCESS)]
    actors = [e.actor for e in entries]
    switches = sum(1 for a, b in itertools.pairwise(actors) if a != b)
    assert switches > 1, "the two processes did not overlap; the test proved nothing"
