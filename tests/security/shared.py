"""Fixtures' building blocks shared by the security suites."""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest


def built_once(factory: pytest.TempPathFactory, name: str, build: Callable[[Path], None]) -> Path:
    """A directory built once per test run and shared by the xdist workers, which only copy it.

    Building a vault costs several Argon2 derivations and a check-in; doing it once instead of
    once per worker leaves the two cores to the tests themselves.

    Args:
        factory: pytest's `tmp_path_factory`.
        name: the directory's name, unique per suite.
        build: fills the (new, empty) directory it is given.

    Returns:
        The built directory.
    """
    base = factory.getbasetemp()
    # Under xdist each worker has its own basetemp inside the run's: share the run's.
    root = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / f"shared-{name}"
    root.mkdir(exist_ok=True)
    built = root / "built"
    with (root / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (root / "done").exists():
            shutil.rmtree(built, ignore_errors=True)  # a build another worker did not finish
            built.mkdir()
            build(built)
            (root / "done").touch()
    return built
