"""Snapshots of the main screens at 100×30 and 80×24: cursor blink off, a fixed clock.

Each screen is drawn as plain text (`screen_text`) and compared with
`tests/tui/snapshots/<screen>-<width>x<height>.txt`. What differs from one vault to the next —
ids and digests (keyed by each vault's random keys), instants, temporary paths — is replaced by
a placeholder first, so a snapshot changes only when the screen does. After a deliberate change
to a screen, write the snapshots again and read the diff before committing:

    VAULT_UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/tui/test_snapshots.py
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from tests.tui.helpers import SIZES, drive, pilot_test, resize, screen_text, settle, unlock
from tests.vaults import TestVault
from tui.app import VaultApp
from vault.clock import FixedClock
from vault.service import DocumentView, Vault

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("VAULT_UPDATE_SNAPSHOTS") == "1"
DAVE = b"dave passphrase"  # an editor, who may request releases

# Longest first, so a date-time is not half-replaced as a date.
VARIABLE = [
    (
        re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?"),
        "<time>",
    ),
    (re.compile(r"\d{4}-\d{2}-\d{2}"), "<date>"),
    (re.compile(r"\b\d{2}:\d{2}(:\d{2})?\b"), "<clock>"),
    # Ids and digests whole, or cut short by a column ("d452d1…", even "0e…").
    (re.compile(r"(?<![0-9A-Za-z])[0-9a-f]+…"), "<hex>…"),
    (re.compile(r"(?<![0-9A-Za-z])(?=[a-f]*\d)[0-9a-f]{6,}(?![0-9A-Za-z])"), "<hex>"),
    (re.compile(r"SHA256:[A-Za-z0-9+/]{43}"), "<fingerprint>"),
    # The rest of an id or digest folded onto a line of its own inside a box.
    (re.compile(r"^(\s*│\s+)[0-9a-f]+(\s+│)\s*$", re.MULTILINE), r"\1<hex>\2"),
]


def normalized(text: str, *paths: Path) -> str:
    """The screen with what varies between vaults replaced, trailing spaces dropped."""
    for path in sorted(paths, key=lambda p: -len(str(p))):
        text = text.replace(str(path), "<dir>")
    for pattern, placeholder in VARIABLE:
        text = pattern.sub(placeholder, text)
    return "\n".join(line.rstrip() for line in text.splitlines()) + "\n"


def compare(name: str, text: str) -> None:
    """Compare with the stored snapshot, or store it when updating."""
    path = SNAPSHOTS / f"{name}.txt"
    if UPDATE:
        SNAPSHOTS.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    assert path.exists(), f"no snapshot {path.name}: write it with VAULT_UPDATE_SNAPSHOTS=1"
    assert text == path.read_text(encoding="utf-8"), f"screen {name} differs from its snapshot"


@pytest.fixture(autouse=True)
def workstation_in_utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Screens show times in the workstation's zone too: make it the same on every machine."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


Opener = Callable[[VaultApp, dict[str, DocumentView]], Awaitable[None] | None]


async def _nothing(app: VaultApp, stored: dict[str, DocumentView]) -> None:
    """Stay on the screen the app is on."""


SCREENS: dict[str, Opener] = {
    "dashboard": _nothing,
    "browser": lambda app, stored: app.open_collection("leak"),
    "document": lambda app, stored: app.open_document(stored["memo.txt"].oid),
    "checkin": lambda app, stored: app.open_check_in("leak"),
    "embargoes": lambda app, stored: app.open_embargoes(),
    "releases": lambda app, stored: app.action_releases(),
    "audit": lambda app, stored: app.action_audit(),
}


def _embargo_and_request(tv: TestVault, clock: FixedClock) -> None:
    """Something for every screen to show: an embargo lifting in two days, a pending request.

    The embargo's zone keeps no daylight-saving time, so its rendering is the same all year.
    The clock moves to half past a minute: a time on the whole minute is shown without
    seconds, and would make the columns one time in sixty different.
    """
    now = clock.now()
    clock.set(now.replace(second=30, microsecond=0) + timedelta(minutes=1))
    with tv.open() as vault:
        vault.add_member("dave", ["editor"], DAVE)
        vault.grant("leak", "dave")
        vault.set_embargo(
            "leak", clock.now() + timedelta(days=2), zone="Asia/Tokyo", reason="polls close"
        )
    with Vault.open(tv.path, "dave", DAVE) as vault:
        vault.request_release("leak", reason="after the polls")


@pilot_test
async def test_unlock_screen(
    tv: TestVault, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tv.path.parent)  # the screen shows the vault's path as given
    app = VaultApp(Path(tv.path.name), "alice", clock=clock, cursor_blink=False)
    async with drive(app, SIZES[0]) as pilot:
        await settle(app, pilot)
        for width, height in SIZES:
            await resize(pilot, (width, height))
            compare(f"unlock-{width}x{height}", normalized(screen_text(app), tv.path))


@pytest.mark.parametrize("screen", sorted(SCREENS))
@pilot_test
async def test_main_screens(
    tv: TestVault,
    clock: FixedClock,
    stored: dict[str, DocumentView],
    tmp_path: Path,
    screen: str,
) -> None:
    _embargo_and_request(tv, clock)
    browse = tmp_path / "inbox"
    browse.mkdir()
    (browse / "dump.zip").write_bytes(b"")
    app = VaultApp(tv.path, "alice", clock=clock, cursor_blink=False, browse_root=browse)
    async with drive(app, SIZES[0]) as pilot:
        await unlock(app, pilot)
        opened = SCREENS[screen](app, stored)
        if opened is not None:
            await opened
        await settle(app, pilot)
        for width, height in SIZES:
            await resize(pilot, (width, height))
            await settle(app, pilot)
            text = normalized(screen_text(app), browse, tv.path, tmp_path)
            compare(f"{screen}-{width}x{height}", text)
