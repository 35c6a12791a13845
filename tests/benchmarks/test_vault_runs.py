"""Which vault check-ins the benchmark times: only those that stored or skipped every item."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.peers import Vault


def _receipt(run_dir: Path, failed: int) -> None:
    counts = {"new": 1 - failed, "duplicate": 0, "skipped": 0, "failed": failed, "flagged": 0}
    (run_dir / "receipt.json").write_text(json.dumps({"counts": counts, "cancelled": False}))


def test_a_check_in_whose_items_failed_is_not_a_timed_run(tmp_path: Path) -> None:
    vault = Vault(tmp_path / "work")
    _receipt(tmp_path, failed=1)
    assert vault.check(1, tmp_path) == "exit 1, 1 item(s) failed"
    kept = {"new": 0, "duplicate": 0, "skipped": 0, "failed": 1, "flagged": 0}
    assert vault.notes["receipt"] == kept  # the counts are kept all the same


def test_a_complete_check_in_is_a_timed_run(tmp_path: Path) -> None:
    vault = Vault(tmp_path / "work")
    _receipt(tmp_path, failed=0)
    assert vault.check(0, tmp_path) is None
