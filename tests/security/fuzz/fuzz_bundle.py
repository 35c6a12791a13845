"""atheris: an edited release bundle never verifies, and verification never raises.

    .venv/bin/python -m tests.security.fuzz.fuzz_bundle -max_total_time=600

Builds one real bundle in a temporary directory first (a few seconds), then edits one of its
files per input, in place, restoring it afterwards. The build runs under the main guard: check-in
starts worker processes, which import this module again.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from tests.security.fuzz.harness import atheris, edited, instrumented, run

with instrumented():  # before anything else imports the vault: only then is it instrumented
    from vault.errors import IntegrityError
    from vault.release import sshsig
    from vault.service import verify_bundle

# After the instrumented imports: it imports the vault too.
from tests.security.test_fuzz_bundle import _build

BUNDLE: list[Path] = []
FILES: list[Path] = []
ORIGINALS: list[bytes] = []


def _same_signature(original: bytes, candidate: bytes) -> bool:
    try:
        return sshsig._dearmor(candidate.decode()) == sshsig._dearmor(original.decode())
    except (IntegrityError, UnicodeDecodeError):
        return False


def test_one_input(data: bytes) -> None:
    """verify_bundle on the bundle with one file edited."""
    index, candidate = edited(atheris().FuzzedDataProvider(data), ORIGINALS)
    FILES[index].write_bytes(candidate)
    try:
        report = verify_bundle(BUNDLE[0])
    finally:
        FILES[index].write_bytes(ORIGINALS[index])
    if report.ok:
        assert candidate == ORIGINALS[index] or (
            FILES[index].name.endswith(".sig") and _same_signature(ORIGINALS[index], candidate)
        ), f"{FILES[index].name} edited and the bundle still verifies"


def main() -> None:
    """Build the bundle, then fuzz."""
    with tempfile.TemporaryDirectory() as scratch:
        _build(Path(scratch))
        bundle = Path(scratch) / "bundle"
        BUNDLE.append(bundle)
        FILES.extend(sorted(p for p in bundle.rglob("*") if p.is_file()))
        ORIGINALS.extend(p.read_bytes() for p in FILES)
        run(test_one_input)


if __name__ == "__main__":
    main()
