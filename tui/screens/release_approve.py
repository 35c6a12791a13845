"""Approve: the member types their passphrase again; it is checked, then the approval is signed.

An approval is a signature that lets material leave the vault, so an unlocked session is not
consent enough. `Vault.confirm_passphrase` (Argon2id: slow on purpose) and `approve_release` run
in one thread worker; a wrong passphrase says so and lets the member retry. The field is emptied
as soon as it has been read; the worker gets the passphrase in a `bytearray` that it zeroes once
checked, so the worker object Textual keeps around afterwards holds nothing of it.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Label, Static

from tui.host import session, vault_app
from tui.messages.releases import ApprovalFailed, Approved
from tui.screens.base import describe
from tui.widgets.safe import safe_text
from vault.errors import BadCredentials
from vault.service import ReleaseView


class ApproveScreen(ModalScreen[ReleaseView | None]):
    """Ask for the passphrase and approve one request; Escape approves nothing."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]
    AUTO_FOCUS = "#approve-passphrase"

    def __init__(self, view: ReleaseView, collection: str) -> None:
        super().__init__()
        self.view = view
        self.collection = collection
        self.busy = False

    def compose(self) -> ComposeResult:
        view = self.view
        with Vertical(id="approve-box"):
            yield Label(Text.assemble("Approve release ", (view.id, "bold")))
            yield Static(
                Text.assemble(
                    safe_text(self.collection, "bold"),
                    f" · {view.documents} document(s) · requested by ",
                    safe_text(view.requester),
                ),
                classes="approve-line",
            )
            yield Static(Text.assemble("reason: ", safe_text(view.reason)), classes="approve-line")
            yield Input(
                placeholder="your passphrase, to sign the approval",
                password=True,
                id="approve-passphrase",
            )
            yield Static("", id="approve-message", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        if not vault_app(self).cursor_blink:
            self.query_one(Input).cursor_blink = False

    @on(Input.Submitted)
    def submit(self) -> None:
        """Enter checks the passphrase and, if it is right, signs the approval."""
        field = self.query_one("#approve-passphrase", Input)
        if self.busy or not field.value:
            return
        passphrase = bytearray(field.value.encode())
        field.value = ""
        self.busy = True
        self.say("checking the passphrase…")
        self.approve(self.view.id, passphrase)

    # A fixed description: Textual would otherwise keep the arguments' repr, the passphrase.
    @work(thread=True, exit_on_error=False, exclusive=True, group="approve", description="approve")
    def approve(self, ref: str, passphrase: bytearray) -> None:
        """Check the passphrase, then sign the approval (worker thread)."""
        try:
            with session(self).use() as vault:
                try:
                    vault.confirm_passphrase(bytes(passphrase))
                finally:
                    passphrase[:] = bytes(len(passphrase))
                approved = vault.approve_release(ref)
        except Exception as exc:
            self.post_message(ApprovalFailed(exc))
            return
        self.post_message(Approved(approved))

    def on_approved(self, message: Approved) -> None:
        message.stop()
        self.dismiss(message.view)

    def on_approval_failed(self, message: ApprovalFailed) -> None:
        message.stop()
        self.busy = False
        if isinstance(message.error, BadCredentials):
            self.say("wrong passphrase — try again", error=True)
        else:
            self.say(describe(message.error), error=True)
        self.query_one("#approve-passphrase", Input).focus()

    def say(self, text: str, *, error: bool = False) -> None:
        """Show a line under the field."""
        line = self.query_one("#approve-message", Static)
        line.update(Text(text))
        line.set_class(error, "error")

    def action_cancel(self) -> None:
        """Approve nothing (not while an approval is being signed: its result must be seen)."""
        if not self.busy:
            self.dismiss(None)
