"""The `vault` command with a crash point, for crash injection (run as a subprocess).

    python -c "from tests.security.crashpoint import main; main()" VAULT-ARGUMENTS…

`VAULT_CRASH` (an environment variable) says how it dies:

- `event:N` — a Python audit hook counts the process's changes to the file system (opening a
  file for writing, rename/replace, unlink, mkdir, rmdir, link, truncate) and, at the Nth,
  SIGKILLs the process group (the command and the type-detection and extraction workers it
  spawned) *before* that change is made;
- `count:FILE` — no kill: when the command exits, writes the number of such changes and the
  seconds the command ran (after its imports) to FILE, so a test can spread crash points over
  the whole operation;
- `ready:FD` — writes one byte to the inherited descriptor FD once the imports are done, so a
  test can kill the process group after a delay measured from the start of the real work.

SQLite's own writes happen in C, out of sight of audit hooks: timed kills cover them.

The command runs with `-c`, not as a script: `multiprocessing`'s spawn start method re-imports a
main *script* in every worker it starts, which would run the command again in each of them.
"""

from __future__ import annotations

import atexit
import os
import signal
import sys
import time

_CHANGES = frozenset(
    {"os.rename", "os.remove", "os.mkdir", "os.rmdir", "os.link", "os.truncate", "shutil.rmtree"}
)
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


def _is_change(event: str, args: tuple[object, ...]) -> bool:
    if event in _CHANGES:
        return True
    if event != "open" or isinstance(args[0], int):
        return False  # not an open, or os.fdopen of a descriptor already counted
    mode, flags = args[1], args[2]
    if isinstance(mode, str):
        return any(c in mode for c in "wax+")
    return isinstance(flags, int) and bool(flags & _WRITE_FLAGS)


def main() -> None:
    """Import the command, arm the crash point, run the command."""
    how, _, arg = os.environ.get("VAULT_CRASH", "").partition(":")
    started = time.monotonic()
    from vault.cli import main as vault_main

    imported = time.monotonic()
    changes = 0
    kill_at = int(arg) if how == "event" else 0

    def hook(event: str, args: tuple[object, ...]) -> None:
        nonlocal changes
        if _is_change(event, args):
            changes += 1
            if changes == kill_at:
                os.killpg(os.getpgrp(), signal.SIGKILL)

    if how in ("event", "count"):
        sys.addaudithook(hook)
    if how == "count":

        def report() -> None:
            elapsed = time.monotonic() - imported
            with open(arg, "w") as out:
                out.write(f"{changes} {elapsed:.3f} {imported - started:.3f}\n")

        atexit.register(report)
    if how == "ready":
        os.write(int(arg), b"r")
        os.close(int(arg))
    sys.argv = ["vault", *sys.argv[1:]]
    vault_main()
