"""The embargo editor dialog: target, date, time, zone and reason, checked as they are typed.

Every keystroke (and every second, as time passes) re-checks the fields
(`tui.screens.embargo_time.assess`) and shows either the instant in UTC, in the zone typed and
in the workstation's zone, or what is wrong in words; Save stays disabled until the fields name
a future instant and a reason is given. The caller offers only targets the policies let the
member set an embargo on. Saving runs in a thread worker; a refusal from the
service (a partial lift without `lift-embargo`, a document embargo earlier than its
collection's, the clock guard) is shown in the dialog and as a notification, and the fields are
kept so the member can correct them. The dialog returns the change the service made.

Editing an existing embargo moves it later with `extend_embargo`; any other time goes through
`set_embargo`, which treats an earlier time as a partial lift.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Label, Select, Static
from textual.worker import Worker, WorkerState

from tui.host import session, vault_app
from tui.messages.embargo import Change, EmbargoChanged, EmbargoRow
from tui.screens.base import describe
from tui.screens.embargo_time import Assessment, Zone, assess
from tui.session import SessionLocked
from tui.widgets.plain_input import PlainInput, TextRefused
from tui.widgets.safe import safe_text
from vault.service.embargo import MAX_REASON


@dataclass(frozen=True)
class Target:
    """A collection or document the editor may put an embargo on."""

    ref: str  # what the service is given: a collection name or a document id
    label: str  # unescaped, as the vault holds it
    current: datetime | None = None  # the instant its own embargo holds until, if any


@dataclass(frozen=True)
class Save:
    """What the Save button will ask the service for."""

    ref: str
    instant: datetime
    zone: str
    reason: str
    extend: bool


class EmbargoEditor(ModalScreen[Change | None]):
    """Set an embargo on one of `targets`, or change `editing`'s."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "save", "Save"),
    ]

    def __init__(
        self,
        targets: list[Target],
        *,
        chosen: str | None,
        zone: str,
        workstation: Zone,
        editing: EmbargoRow | None = None,
    ) -> None:
        """Make the dialog.

        Args:
            targets: what may be chosen (only `editing`'s target when editing).
            chosen: the target chosen at first.
            zone: the zone offered at first.
            workstation: the workstation's zone, for the second rendering.
            editing: the embargo being changed, if any; its time and reason fill the fields.
        """
        super().__init__()
        self.targets = {t.ref: t for t in targets}
        self.chosen = chosen if chosen in self.targets else next(iter(self.targets), None)
        self.zone = zone
        self.workstation = workstation
        self.editing = editing
        self.assessment = Assessment(None, ())
        self.saving = False
        self.notice = ""  # safe text: a refused paste, or why the service refused to save

    def compose(self) -> ComposeResult:
        editing = self.editing
        with Vertical(id="embargo-box"):
            if editing is None:
                yield Label(Text("Set an embargo", style="bold"))
            else:
                title = Text.assemble("Change the embargo on ", safe_text(editing.label, "bold"))
                yield Label(title)
            with Horizontal(classes="embargo-field"):
                yield Label("Target")
                if editing is None:
                    options = [(safe_text(t.label), t.ref) for t in self.targets.values()]
                    yield Select[str](
                        options,
                        allow_blank=False,
                        value=self.chosen or Select.NULL,
                        id="embargo-target",
                        compact=True,
                    )
                else:
                    yield Static(safe_text(editing.label), id="embargo-target-fixed")
            with Horizontal(classes="embargo-field"):
                yield Label("Date")
                yield PlainInput(placeholder="YYYY-MM-DD", id="embargo-date", compact=True)
                yield Label("Time", id="embargo-time-label")
                yield PlainInput(placeholder="HH:MM", id="embargo-time", compact=True)
            with Horizontal(classes="embargo-field"):
                yield Label("Zone")
                yield PlainInput(
                    self.zone, placeholder="Europe/Paris", id="embargo-zone", compact=True
                )
            with Horizontal(classes="embargo-field"):
                yield Label("Reason")
                yield PlainInput(
                    placeholder="why it is held, e.g. polls close",
                    id="embargo-reason",
                    compact=True,
                    max_length=MAX_REASON,
                )
            yield Static("", id="embargo-check", markup=False)
            yield Static("", id="embargo-warning", markup=False)
            with Horizontal(id="embargo-buttons"):
                yield Button("Save", variant="primary", id="embargo-save", disabled=True)
                yield Button("Cancel", id="embargo-cancel")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        editing = self.editing
        if editing is not None:
            wall = editing.zone.wall(editing.until)
            self.query_one("#embargo-date", Input).value = f"{wall:%Y-%m-%d}"
            self.query_one("#embargo-time", Input).value = f"{wall:%H:%M}"
            self.query_one("#embargo-reason", Input).value = editing.view.reason
        if not vault_app(self).cursor_blink:
            for field in self.query(Input):
                field.cursor_blink = False
        self.query_one("#embargo-date", Input).focus()
        self.recheck()
        self.set_interval(1.0, self.recheck)  # the countdown moves on, and a time can pass

    # Checking
    @property
    def target(self) -> Target | None:
        """The target chosen."""
        return self.targets.get(self.chosen) if self.chosen is not None else None

    def field(self, name: str) -> str:
        """What is typed in a field (date, time, zone, reason)."""
        return self.query_one(f"#embargo-{name}", Input).value

    @on(Input.Changed)
    def typed(self) -> None:
        """The member typed: what was said about the last attempt no longer applies."""
        self.notice = ""
        self.recheck()

    def recheck(self) -> None:
        """Check the fields and show the renderings or the problem; enable Save if valid."""
        target = self.target
        self.assessment = assess(
            self.field("date"),
            self.field("time"),
            self.field("zone"),
            now=vault_app(self).clock.now(),
            workstation=self.workstation,
            current=target.current if target else None,
        )
        lines = list(self.assessment.lines)
        problem = not self.assessment.valid
        if not problem:
            reason = self.field("reason").strip()
            if target is None:
                lines.append("choose a target: you hold no collection")
                problem = True
            elif not reason or not reason.isprintable():
                lines.append("reason: say why it is held (printable text)")
                problem = True
        check = self.query_one("#embargo-check", Static)
        check.update(Text("\n".join(lines)))
        check.set_class(problem, "error")
        warning = self.query_one("#embargo-warning", Static)
        said = "\n".join(text for text in (self.assessment.warning, self.notice) if text)
        warning.update(Text(said))
        warning.display = bool(said)
        self.query_one("#embargo-save", Button).disabled = problem or self.saving
        self.refresh_bindings()

    @on(TextRefused)
    def refused(self, event: TextRefused) -> None:
        """Say why typed or pasted text did not go in (here, rather than as a notification)."""
        event.stop()
        self.notice = "control and format characters cannot be typed or pasted here"
        self.recheck()

    @on(Select.Changed, "#embargo-target")
    def target_chosen(self, event: Select.Changed) -> None:
        """A new target may hold an embargo of its own already: check against it."""
        self.chosen = event.value if isinstance(event.value, str) else None
        self.recheck()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "save":
            return None if self.query_one("#embargo-save", Button).disabled else True
        return True

    @on(Input.Submitted)
    def next_or_save(self, event: Input.Submitted) -> None:
        """Enter saves once the fields are valid; until then it moves to the next field."""
        if not self.query_one("#embargo-save", Button).disabled:
            self.action_save()
        else:
            self.focus_next()

    # Saving
    @on(Button.Pressed, "#embargo-save")
    def action_save(self) -> None:
        """Ask the service to set or extend the embargo."""
        target, instant = self.target, self.assessment.instant
        if target is None or instant is None or self.query_one("#embargo-save", Button).disabled:
            return
        current = target.current
        extend = self.editing is not None and current is not None and instant > current
        save = Save(target.ref, instant, self.field("zone").strip(), self.field("reason"), extend)
        self.saving = True
        self.query_one("#embargo-save", Button).disabled = True
        self._save(save)

    @work(thread=True, exit_on_error=False, exclusive=True, group="embargo-save")
    def _save(self, save: Save) -> None:
        with session(self).use() as vault:
            if save.extend:
                view = vault.extend_embargo(
                    save.ref, save.instant, zone=save.zone, reason=save.reason
                )
                verb = "extended"
            else:
                view = vault.set_embargo(save.ref, save.instant, zone=save.zone, reason=save.reason)
                verb = "set"
        self.post_message(EmbargoChanged(Change(verb, view)))

    def on_embargo_changed(self, message: EmbargoChanged) -> None:
        message.stop()
        self.dismiss(message.change)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            self.saving = False
            self.report(event.worker.error)

    def report(self, error: BaseException) -> None:
        """Tell the member the service refused, in the dialog and as a notification."""
        if isinstance(error, SessionLocked):
            return
        text = describe(error)
        self.notify(text, title="error", severity="error", markup=False)
        self.notice = f"not saved: {text}"
        self.recheck()

    @on(Button.Pressed, "#embargo-cancel")
    def action_cancel(self) -> None:
        """Close without changing anything."""
        self.dismiss(None)
