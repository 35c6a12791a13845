"""Argon2id in a child process: the same key as in-process, and the secrets never on argv."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from argon2.low_level import Type, hash_secret_raw

from vault.keys import stretch as stretch_module
from vault.keys.stretch import StretchFailed, stretch

PASSPHRASE = b"correct horse battery staple"
SALT = b"0123456789abcdef"
COSTS = {"memory_kib": 64 * 1024, "passes": 3, "lanes": 4}


def _reference() -> bytes:
    return hash_secret_raw(
        PASSPHRASE,
        SALT,
        time_cost=3,
        memory_cost=64 * 1024,
        parallelism=4,
        hash_len=32,
        type=Type.ID,
    )


def test_the_child_derives_the_argon2id_key() -> None:
    assert stretch(PASSPHRASE, SALT, **COSTS) == _reference()


def test_the_key_depends_on_every_input() -> None:
    keys = {
        stretch(PASSPHRASE, SALT, **COSTS),
        stretch(PASSPHRASE + b"!", SALT, **COSTS),
        stretch(PASSPHRASE, SALT[::-1], **COSTS),
        stretch(PASSPHRASE, SALT, **{**COSTS, "passes": 4}),
    }
    assert len(keys) == 4


def test_secrets_go_through_the_pipe_and_the_child_is_isolated(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[dict[str, Any]] = []
    real_run = subprocess.run

    def spy(args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[bytes]:
        seen.append({"args": args, **kwargs})
        return real_run(args, **kwargs)

    monkeypatch.setattr(subprocess, "run", spy)
    assert stretch(PASSPHRASE, SALT, **COSTS) == _reference()
    (call,) = seen
    assert call["args"][:3] == [sys.executable, "-I", "-c"]
    assert not any(PASSPHRASE in arg.encode() for arg in call["args"])
    assert PASSPHRASE in call["input"]
    assert "env" not in call  # nothing secret is put in the environment either


def test_a_child_that_gives_no_key_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stretch_module, "_CHILD", "import sys; sys.exit(7)")
    with pytest.raises(StretchFailed, match="exit status 7"):
        stretch(PASSPHRASE, SALT, **COSTS)


def test_without_an_interpreter_the_key_is_derived_in_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sys, "executable", "")
    assert stretch(PASSPHRASE, SALT, **COSTS) == _reference()
