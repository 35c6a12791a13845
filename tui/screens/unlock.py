"""Unlock: member name and passphrase; a wrong passphrase says so and lets the member retry.

Argon2id takes a noticeable fraction of a second, so `Vault.open` runs in a thread worker while
the screen says it is unlocking. The passphrase field is emptied as soon as it has been read.
"""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Footer, Input, Label, Static

from tui.host import vault_app
from tui.messages.loading import Unlocked, UnlockFailed
from tui.screens.base import VaultScreen, describe
from tui.widgets.plain_input import PlainInput
from tui.widgets.safe import safe_text
from vault.errors import BadCredentials
from vault.service import Vault


class UnlockScreen(VaultScreen):
    """Asks who is there and for their passphrase."""

    AUTO_FOCUS = "#passphrase"

    def __init__(self, member: str | None = None, *, notice: str = "") -> None:
        super().__init__()
        self.member = member or ""
        self.notice = notice
        self.busy = False

    def compose(self) -> ComposeResult:
        app = vault_app(self)
        with Vertical(id="unlock-box"):
            yield Label("Embargo Vault", id="unlock-title")
            yield Static(safe_text(str(app.vault_dir)), id="unlock-vault")
            yield PlainInput(self.member, placeholder="member name", id="member")
            yield Input(placeholder="passphrase", password=True, id="passphrase")
            yield Static(Text(self.notice), id="unlock-message")
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        if not self.member:
            self.query_one("#member", Input).focus()

    @on(Input.Submitted)
    def submit(self, event: Input.Submitted) -> None:
        """Enter in the member field moves on; Enter in the passphrase field unlocks."""
        member = self.query_one("#member", Input).value.strip()
        field = self.query_one("#passphrase", Input)
        if not member:
            self.say("give your member name", error=True)
            self.query_one("#member", Input).focus()
            return
        if event.input.id == "member" or not field.value:
            field.focus()
            return
        if self.busy:
            return
        passphrase = field.value.encode()
        field.value = ""
        self.busy = True
        self.say("unlocking…")
        self.unlock(member, passphrase)

    # A fixed description: Textual would otherwise keep the arguments' repr, the passphrase.
    @work(thread=True, exit_on_error=False, exclusive=True, group="unlock", description="unlock")
    def unlock(self, member: str, passphrase: bytes) -> None:
        """Open the vault as `member` (Argon2id: slow on purpose)."""
        app = vault_app(self)
        try:
            vault = Vault.open(app.vault_dir, member, passphrase, clock=app.clock)
        except Exception as exc:
            self.post_message(UnlockFailed(exc))
            return
        self.post_message(Unlocked(vault))

    def on_unlocked(self, message: Unlocked) -> None:
        self.busy = False
        vault_app(self).unlocked(message.vault)

    def on_unlock_failed(self, message: UnlockFailed) -> None:
        self.busy = False
        if isinstance(message.error, BadCredentials):
            self.say("wrong member name or passphrase — try again", error=True)
        else:
            self.say(describe(message.error), error=True)
        self.query_one("#passphrase", Input).focus()

    def say(self, text: str, *, error: bool = False) -> None:
        """Show a line under the fields."""
        line = self.query_one("#unlock-message", Static)
        line.update(Text(text))
        line.set_class(error, "error")
