"""New release request: a collection, why, and optionally when it may run and when it lapses.

Times are wall-clock times in an IANA zone, read with `Vault.local_instant` as the member types
(so a DST gap or overlap is refused before anything is signed); the line under the fields shows
the UTC instants they name. The request itself is made by the queue screen, in a worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Label, Select, Static

from tui.host import vault_app
from tui.widgets.plain_input import PlainInput
from tui.widgets.safe import safe_text, shown
from vault.errors import VaultError
from vault.service import Vault

UTC_FORMAT = "%Y-%m-%d %H:%M UTC"


@dataclass(frozen=True)
class RequestDraft:
    """What the member asked for, validated: the queue screen signs it as a request."""

    collection: str
    reason: str
    not_before: datetime | None
    expires: datetime | None


class NewRequestScreen(ModalScreen[RequestDraft | None]):
    """Fill in a release request; Ctrl+S makes it, Escape makes nothing."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "confirm", "Request"),
    ]
    AUTO_FOCUS = "#request-reason"

    def __init__(self, collections: list[str]) -> None:
        super().__init__()
        self.collections = collections

    def compose(self) -> ComposeResult:
        with Vertical(id="request-box"):
            yield Label(Text("New release request", style="bold"))
            with Horizontal(classes="release-field"):
                yield Label("Collection")
                yield Select[str](
                    ((safe_text(name), name) for name in self.collections),
                    prompt="choose a collection",
                    id="request-collection",
                    compact=True,
                    value=self.collections[0] if len(self.collections) == 1 else Select.NULL,
                )
            for label, field in FIELDS:
                with Horizontal(classes="release-field"):
                    yield Label(label)
                    yield PlainInput(
                        DEFAULTS.get(field, ""),
                        placeholder=PLACEHOLDERS[field],
                        id=f"request-{field}",
                        compact=True,
                    )
            yield Static("", id="request-utc", markup=False)
            yield Static("", id="request-message", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        if not vault_app(self).cursor_blink:
            for field in self.query(Input):
                field.cursor_blink = False
        self.times()

    def value(self, field: str) -> str:
        """A field's text, stripped."""
        return self.query_one(f"#request-{field}", Input).value.strip()

    def times(self) -> tuple[datetime | None, datetime | None]:
        """The not-before and expiry instants typed, also shown in UTC under the fields.

        Raises:
            VaultError: a time or the zone cannot be read (the line says which).
        """
        line = self.query_one("#request-utc", Static)
        zone = self.value("zone") or "UTC"
        found: list[datetime | None] = []
        words: list[str] = []
        try:
            for field, name in (("not-before", "not before"), ("expires", "expires")):
                text = self.value(field)
                instant = Vault.local_instant(text, zone) if text else None
                found.append(instant)
                words.append(f"{name} {instant.strftime(UTC_FORMAT) if instant else '-'}")
        except VaultError as exc:
            line.update(Text(shown(exc.message)))
            line.set_class(True, "error")
            raise
        line.update(Text(" · ".join(words)))
        line.set_class(False, "error")
        return found[0], found[1]

    @on(Input.Changed)
    def retimed(self) -> None:
        """Show what the times typed so far name in UTC."""
        try:
            self.times()
        except VaultError:
            return  # the line under the fields says what is wrong

    @on(Input.Submitted)
    def next_field(self, event: Input.Submitted) -> None:
        """Enter moves to the next field, and makes the request from the last one."""
        if event.input.id == "request-expires":
            self.action_confirm()
        else:
            self.focus_next()

    def action_confirm(self) -> None:
        """Make the request from the fields, if they are complete and valid."""
        collection = self.query_one("#request-collection", Select).value
        reason = self.value("reason")
        if not isinstance(collection, str):
            self.say("choose the collection to release from")
            return
        if not reason:
            self.say("say why this material is released")
            self.query_one("#request-reason", Input).focus()
            return
        try:
            not_before, expires = self.times()
        except VaultError:
            self.say("a time or the zone is not right: see the line above")
            return
        self.dismiss(RequestDraft(collection, reason, not_before, expires))

    def say(self, text: str) -> None:
        """Show a problem under the fields."""
        line = self.query_one("#request-message", Static)
        line.update(Text(text))
        line.set_class(True, "error")

    def action_cancel(self) -> None:
        """Make no request."""
        self.dismiss(None)


FIELDS = [
    ("Reason", "reason"),
    ("Not before", "not-before"),
    ("Zone", "zone"),
    ("Expires", "expires"),
]
DEFAULTS = {"zone": "UTC"}
PLACEHOLDERS = {
    "reason": "why this material is released (signed with the request)",
    "not-before": "YYYY-MM-DD HH:MM (empty: as soon as embargoes allow)",
    "zone": "IANA zone of the times, e.g. Europe/Paris",
    "expires": "YYYY-MM-DD HH:MM (empty: never)",
}
