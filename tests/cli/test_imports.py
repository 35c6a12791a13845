"""What every `vault` command pays before it starts: the parsers of hostile formats stay out."""

from __future__ import annotations

import subprocess
import sys

# Loaded only where they are used: pypdf in extraction workers, dkimpy (and dnspython) for a
# signed message, charset-normalizer for text of no known charset, textual by `vault tui`, and
# argon2 in the child that stretches a passphrase (here only if no child can start).
NOT_AT_START = ("pypdf", "dkim", "dns", "charset_normalizer", "textual", "argon2")


def test_the_command_line_imports_no_parser_it_does_not_run() -> None:
    code = f"import sys, vault.cli; print([m for m in {NOT_AT_START!r} if m in sys.modules])"
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == "[]"
