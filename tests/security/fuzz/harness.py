"""What the atheris harnesses share: loading atheris, and editing a real input with fuzz data.

atheris is not a dependency of the project (it is installed by hand, `pip install atheris`), so
it is imported by name here and typed as Any. Each harness starts from real inputs — the files
the vault writes, the archives the ingest tests build — and lets libFuzzer choose edits of them:
random bytes alone almost never get past the first magic number.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Sequence
from typing import Any


def atheris() -> Any:
    """The atheris module, or exit with the command that installs it."""
    try:
        return importlib.import_module("atheris")
    except ImportError:
        sys.exit("atheris is not installed: .venv/bin/pip install atheris")


def instrumented() -> Any:
    """A context in which imports of the vault's own modules get coverage instrumentation
    (third-party code is left alone: it would only slow the fuzzer down)."""
    return atheris().instrument_imports(include=["vault"])


def edited(provider: Any, seeds: Sequence[bytes]) -> tuple[int, bytes]:
    """A seed chosen by the fuzz data, with up to eight edits the fuzz data describes.

    Returns:
        The seed's index and the edited bytes.
    """
    index = provider.ConsumeIntInRange(0, len(seeds) - 1)
    data = bytearray(seeds[index])
    for _ in range(provider.ConsumeIntInRange(0, 8)):
        how = provider.ConsumeIntInRange(0, 5)
        at = provider.ConsumeIntInRange(0, max(0, len(data) - 1))
        if how == 0 and data:
            data[at] ^= 1 << provider.ConsumeIntInRange(0, 7)
        elif how == 1:
            data[at:at] = provider.ConsumeBytes(provider.ConsumeIntInRange(1, 32))
        elif how == 2:
            del data[at : at + provider.ConsumeIntInRange(1, 64)]
        elif how == 3:
            end = at + provider.ConsumeIntInRange(1, 64)
            data[end:end] = data[at:end]
        elif how == 4:
            del data[at:]
        else:
            data[at : at + 8] = provider.ConsumeBytes(8)
    return index, bytes(data)


def run(test_one_input: Callable[[bytes], None]) -> None:
    """Hand the harness to libFuzzer with the command line's options."""
    fuzzer = atheris()
    fuzzer.Setup(sys.argv, test_one_input)
    fuzzer.Fuzz()
