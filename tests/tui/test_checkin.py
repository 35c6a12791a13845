"""Check-in: progress to the end and a receipt; cancelling a long one mid-way; hostile names."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from textual.message import Message
from textual.widgets import Input, ProgressBar, Select

from tests.tui.conftest import write_material
from tests.tui.helpers import drive, on_top, pilot_test, screen_text, settle, unlock
from tests.vaults import TestVault
from tui.app import VaultApp
from tui.messages.checkin import CheckInProgress
from tui.screens.checkin import CheckInScreen
from tui.screens.document import DocumentScreen
from vault.clock import FixedClock

REPO = Path(__file__).resolve().parents[2]
RAW = ("\x1b", "\u202e", "\x07")


def check_in_screen(app: VaultApp) -> CheckInScreen:
    screen = app.screen
    assert isinstance(screen, CheckInScreen)
    assert screen.query_one("#collection", Select).value == "leak"  # the only one: chosen
    return screen


@pilot_test
async def test_check_in_shows_progress_and_the_receipt(
    tv: TestVault, clock: FixedClock, tmp_path: Path
) -> None:
    material = write_material(tmp_path / "second dump")
    (material / "again\x1b]0;pwned\x07.txt").write_text("would retitle the window\n")
    progress: list[CheckInProgress] = []

    def hook(message: Message) -> None:
        if isinstance(message, CheckInProgress):
            progress.append(message)

    app = VaultApp(tv.path, "alice", clock=clock, cursor_blink=False, browse_root=material)
    async with drive(app, (100, 30), hook=hook) as pilot:
        await unlock(app, pilot)
        await pilot.press("i")  # from the dashboard, into the collection under the cursor
        await settle(app, pilot)
        screen = check_in_screen(app)
        text = screen_text(app)
        assert "evil\\x1b[2Jname\\u202etxt.exe" in text  # the tree shows names escaped
        assert "again\\x1b]0;pwned\\x07.txt" in text
        assert not any(raw in text + app.export_screenshot() for raw in RAW)

        screen.query_one("#paths", Input).value = f"'{material}'"  # quoted: it has a space
        screen.query_one("#source", Input).value = "second copy, from a reader"
        await pilot.press("ctrl+s")
        await settle(app, pilot)

        receipt = screen.receipt
        assert receipt is not None
        assert not receipt.cancelled
        counts = receipt.counts()
        assert (counts["new"], counts["duplicate"]) == (1, 5)  # only the new file is new
        assert progress  # the bar moved while it ran
        last = progress[-1].progress
        assert (last.files, last.total_files) == (6, 6)
        assert screen.query_one("#bar", ProgressBar).percentage == 1.0
        text = screen_text(app)
        assert "6 files (6 on disk)" in text
        assert "· 2 flagged" in text  # both hostile names; counted from the receipt
        assert f"intake {receipt.intake_id} into leak: 1 new, 5 duplicate" in text
        assert "evil\\x1b[2Jname\\u202etxt.exe" in text  # the flagged item, escaped
        assert "control-chars" in text  # the flags of the hostile names
        assert not any(raw in text + app.export_screenshot() for raw in RAW)
        assert "Back" in text.splitlines()[-1]

        await pilot.press("enter")  # the flagged item, straight to its document
        await settle(app, pilot)
        assert isinstance(app.screen, DocumentScreen)
        await pilot.press("escape")
        await settle(app, pilot)
        assert on_top(app, screen)

    with tv.open() as vault:
        names = [d.name for d in vault.documents("leak")]
    assert "again\\x1b]0;pwned\\x07.txt" in names
    assert len(names) == 6


@pilot_test
async def test_cancel_stops_a_long_check_in_and_says_so(
    tv: TestVault, clock: FixedClock, tmp_path: Path
) -> None:
    many = tmp_path / "many"
    many.mkdir()
    total = 1500
    for index in range(total):
        (many / f"note-{index:04}.txt").write_text(f"note {index}\n")
    app = VaultApp(tv.path, "alice", clock=clock, cursor_blink=False, browse_root=tmp_path)

    seen_running: list[bool] = []

    def hook(message: Message) -> None:
        # Cancel as soon as the first progress report reaches the screen, noting first that the
        # screen showed the check-in running (afterwards it may already have ended).
        if isinstance(message, CheckInProgress) and isinstance(app.screen, CheckInScreen):
            if not seen_running:
                # Running, with Cancel offered (the footer shows what check_action allows).
                seen_running.append(
                    app.screen.running and bool(app.screen.check_action("cancel", ()))
                )
            app.screen.action_cancel()

    async with drive(app, (80, 24), hook=hook) as pilot:
        await unlock(app, pilot)
        app.action_check_in()
        await settle(app, pilot)
        screen = check_in_screen(app)
        screen.query_one("#tree").focus()
        await pilot.press("down", "p")  # pick `many` in the tree, by keyboard
        await settle(app, pilot)
        assert screen.picked == [many]
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert seen_running == [True]

        receipt = screen.receipt
        assert receipt is not None
        assert receipt.cancelled
        stored = receipt.counts()["new"]
        assert stored < total
        assert not screen.running
        assert "cancelled: items not listed were not checked in" in screen_text(app)

    with tv.open() as vault:
        assert len(vault.documents("leak")) == 5 + stored  # what the receipt says was stored


FRESH = """
import asyncio, sys
from pathlib import Path
from textual.widgets import Input
from tests.tui.helpers import settle, unlock
from tui.app import VaultApp

async def main() -> None:
    app = VaultApp(Path(sys.argv[1]), "alice", browse_root=Path(sys.argv[2]))
    async with app.run_test() as pilot:
        await unlock(app, pilot)
        app.action_check_in()
        await settle(app, pilot)
        app.screen.query_one("#paths", Input).value = sys.argv[2]
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        receipt = app.screen.receipt
        print(receipt.counts()["new"] if receipt else "no receipt")

asyncio.run(main())
"""


def test_check_in_works_in_a_fresh_process(tv: TestVault, tmp_path: Path) -> None:
    """The first detector start happens inside the running app (where stderr is Textual's)."""
    material = tmp_path / "fresh"
    material.mkdir()
    (material / "one.txt").write_text("a first process of its own\n")
    result = subprocess.run(
        [sys.executable, "-c", FRESH, str(tv.path), str(material)],
        capture_output=True,
        cwd=REPO,
        timeout=300,
        check=False,
    )
    assert result.stdout.decode().strip().splitlines()[-1:] == ["1"], result.stderr.decode()
