"""Running the real `vault` command inside the test process.

`run(...)` calls the console script's entry point, `vault.cli.main`, with its arguments in
`sys.argv`, exactly as the installed `vault` command does: the same argument parsing, the same
error-to-exit-code mapping, the same diagnostics. What it saves is the interpreter start and
the imports (1.5–3 s per call on the CI machine), which is what lets the permission matrix and
the tamper sweep run hundreds of commands within their time budget. The suites that need a
process of their own (crash injection) still start `vault` as a subprocess, and the sweep and
the matrix each check a sample of their cases through a real subprocess too.

An exception that escapes the entry point is what a user would see as a traceback: it is
returned as exit code 1 with the formatted traceback on standard error, so tests can assert
that none occurred.
"""

from __future__ import annotations

import os
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

from vault.cli import main


@dataclass(frozen=True)
class Outcome:
    """What a run of `vault` left behind."""

    code: int
    stdout: bytes
    stderr: bytes

    @property
    def traceback(self) -> bool:
        """Whether a Python traceback reached standard error."""
        return b"Traceback (most recent call last)" in self.stderr

    def describe(self) -> str:
        """Exit code and the ends of both streams, for assertion messages."""
        return f"exit {self.code}; stdout {self.stdout[-300:]!r}; stderr {self.stderr[-600:]!r}"


def run(*args: str | Path) -> Outcome:
    """Run `vault ARGS…` in this process and return its exit code and output."""
    runner = CliRunner()
    clean_env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("VAULT_")}
    saved = sys.argv
    with runner.isolation(env=clean_env) as (out, err, _):
        sys.argv = ["vault", *(str(a) for a in args)]
        try:
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except Exception:  # what the real command would print as a traceback
            sys.stderr.write(traceback.format_exc())
            code = 1
        finally:
            sys.argv = saved
            sys.stdout.flush()
            sys.stderr.flush()
        return Outcome(code, out.getvalue(), err.getvalue())


def as_member(vault_dir: Path, member: str, passphrase_file: Path, *args: str | Path) -> Outcome:
    """Run `vault --vault DIR --as MEMBER --passphrase-file FILE ARGS…` in this process."""
    return run("--vault", vault_dir, "--as", member, "--passphrase-file", passphrase_file, *args)
