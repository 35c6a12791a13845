"""The library knows nothing of the terminal app (DESIGN §3)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

VAULT = Path(__file__).resolve().parents[2] / "vault"


def test_service_does_not_import_textual() -> None:
    code = (
        "import sys, vault.service, vault.cli\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('textual', 'tui', 'rich')]\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True)
    assert result.stdout.decode().strip() == ""


def test_library_never_prints_exits_or_reads_the_wall_clock() -> None:
    """Invariant 6: time comes from a Clock; only the CLI prints or exits."""
    offenders = []
    for path in VAULT.rglob("*.py"):
        relative = path.relative_to(VAULT).as_posix()
        if relative.startswith("cli/") or relative in ("clock.py", "__main__.py"):
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                text = ast.unparse(node.func)
                if text in (
                    "print",
                    "sys.exit",
                    "exit",
                    "quit",
                    "datetime.now",
                    "datetime.utcnow",
                    "time.time",
                    "date.today",
                    "datetime.today",
                ):
                    offenders.append(f"{relative}:{node.lineno}: {text}")
    assert offenders == []
