"""`vault embargo` and the clock through the real command, with `faketime` for the wall clock."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.vaults import PASSPHRASES, TestVault
from vault.clock import FixedClock
from vault.service import Vault

UNTIL = ("--until", "2037-05-07 20:00", "--tz", "Europe/Paris")
REASON = ("--reason", "polls close; electoral silence law")


def test_set_show_extend_lift(test_vault: TestVault) -> None:
    made = test_vault.cli("embargo", "set", "leak", *UNTIL, *REASON, "--json")
    assert made.returncode == 0, made.stderr
    view = json.loads(made.stdout)
    assert view["until_utc"] == "2037-05-07T18:00:00+00:00"
    assert view["zone"] == "Europe/Paris"
    assert view["holds"] is True

    shown = test_vault.cli("embargo", "show", member="bob")
    assert shown.returncode == 0, shown.stderr
    text = shown.stdout.decode()
    assert "2037-05-07 18:00 UTC = 2037-05-07 20:00 CEST (UTC+02:00) Europe/Paris" in text
    assert "lifts in " in text
    assert "polls close; electoral silence law" in text

    refused = test_vault.cli("embargo", "set", "leak", *UNTIL, *REASON, member="bob")
    assert refused.returncode == 3
    assert b"bob (reporter) to set-embargo" in refused.stderr

    later = ("--until", "2037-05-08 08:00", "--tz", "America/New_York")
    extended = test_vault.cli("embargo", "extend", "leak", *later)
    assert extended.returncode == 0, extended.stderr
    assert b"2037-05-08 12:00 UTC = 2037-05-08 08:00 EDT (UTC-04:00) America/New_York" in (
        extended.stdout
    )
    earlier = test_vault.cli("embargo", "extend", "leak", *UNTIL)
    assert earlier.returncode == 2
    assert b"extend only moves an embargo later" in earlier.stderr

    lifted = test_vault.cli("embargo", "lift", "leak")
    assert lifted.returncode == 0, lifted.stderr
    assert json.loads(test_vault.cli("embargo", "show", "--json", check=True).stdout) == []


@pytest.mark.parametrize(
    ("local", "says", "candidates"),
    [
        (
            "2017-03-26 02:30",
            b"does not exist in Europe/Paris",
            (b"2017-03-26 00:30 UTC = 2017-03-26 01:30 CET", b"2017-03-26 01:30 UTC = "),
        ),
        (
            "2017-10-29 02:30",
            b"happens twice in Europe/Paris",
            (b"2017-10-29 00:30 UTC = 2017-10-29 02:30 CEST", b"2017-10-29 01:30 UTC = "),
        ),
    ],
)
def test_daylight_saving_changes_are_refused(
    tmp_path: Path, local: str, says: bytes, candidates: tuple[bytes, bytes]
) -> None:
    # Refused before the vault is unlocked (nobody types a passphrase for a time that is wrong).
    test_vault = TestVault(tmp_path / "not-even-a-vault", tmp_path)
    result = test_vault.cli(
        "embargo", "set", "leak", "--until", local, "--tz", "Europe/Paris", *REASON
    )
    assert result.returncode == 2
    assert says in result.stderr
    for candidate in candidates:
        assert candidate in result.stderr


def _faketime() -> str:
    found = shutil.which("faketime")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("the `faketime` command is not installed (apt-get install faketime)")
        pytest.skip("the `faketime` command is not installed (apt-get install faketime)")
    return found


def _at(
    faketime: str, when: str, test_vault: TestVault, *args: str, member: str = "alice"
) -> subprocess.CompletedProcess[bytes]:
    """Run the command as if the wall clock read `when` (UTC), through libfaketime.

    faketime preloads libfaketime into the interpreter (and any process it starts, such as the
    type-detection sandbox); Python's clock reads go through clock_gettime and see the fake time,
    which starts at `when` and then runs on.
    """
    environment = {k: v for k, v in os.environ.items() if not k.startswith("VAULT_")}
    environment["TZ"] = "UTC"  # faketime reads `when` in the local zone
    command = [
        faketime,
        when,
        sys.executable,
        "-m",
        "vault",
        "--vault",
        str(test_vault.path),
        "--as",
        member,
        "--passphrase-file",
        str(test_vault.passphrase_file(member)),
        *args,
    ]
    return subprocess.run(command, capture_output=True, env=environment, timeout=300)


def _json(result: subprocess.CompletedProcess[bytes]) -> Any:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_an_embargo_before_and_after_it_lifts(tmp_path: Path) -> None:
    faketime = _faketime()
    # The vault's history starts on 5 May 2017, so the faked clock is never behind it.
    path = tmp_path / "vault"
    with Vault.init(
        path, "alice", PASSPHRASES["alice"], clock=FixedClock(datetime(2017, 5, 5, 10, tzinfo=UTC))
    ) as vault:
        vault.add_member("bob", ["reporter"], PASSPHRASES["bob"])
        vault.create_collection("leak")
        vault.grant("leak", "bob")
    secrets_dir = tmp_path / "secrets"
    secrets_dir.mkdir()
    test_vault = TestVault(path, secrets_dir)
    before, after = "2017-05-06 12:00:00", "2017-05-08 12:00:00"

    made = _at(
        faketime,
        before,
        test_vault,
        "embargo",
        "set",
        "leak",
        "--until",
        "2017-05-07 20:00",
        "--tz",
        "Europe/Paris",
        *REASON,
    )
    assert made.returncode == 0, made.stderr
    assert b"lifts in 1 d 5 h 59 min" in made.stdout or b"lifts in 1 d 6 h" in made.stdout

    [held] = _json(
        _at(faketime, before, test_vault, "embargo", "show", "leak", "--json", member="bob")
    )
    assert held["holds"] is True
    assert held["utc"] == "2017-05-07 18:00 UTC"
    assert held["local"] == "2017-05-07 20:00 CEST (UTC+02:00) Europe/Paris"
    explain = ("policy", "explain", "run-release", "--on", "leak", "--json")
    decision = _json(_at(faketime, before, test_vault, *explain))
    assert decision["allowed"] is False
    assert "release-not-before-embargo" in decision["reasons"]
    assert "now 2017-05-06 12:00" in decision["facts"]

    [lifted] = _json(
        _at(faketime, after, test_vault, "embargo", "show", "leak", "--json", member="bob")
    )
    assert lifted["holds"] is False
    assert lifted["countdown"].startswith("lifted 17 h") or lifted["countdown"].startswith(
        "lifted 18 h"
    )
    decision = _json(_at(faketime, after, test_vault, *explain))
    assert "release-not-before-embargo" not in decision["reasons"], "the embargo has lifted"
    assert "release-needs-approvals" in decision["reasons"]

    # Back to the 6th after the vault has logged the 8th (any logged action, a listing here):
    # the clock guard refuses.
    assert _at(faketime, after, test_vault, "ls", member="bob").returncode == 0
    rolled = _at(faketime, before, test_vault, "embargo", "lift", "leak")
    assert rolled.returncode == 3
    assert rolled.stderr.startswith(b"vault: error: the clock reads 2017-05-06 12:00")
    assert b"vault time confirm" in rolled.stderr
