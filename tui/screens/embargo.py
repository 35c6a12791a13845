"""Embargo editor: the embargoes the member can see, and setting, extending or lifting one.

The table lists each embargo (`Vault.embargoes`, on one collection or document if the screen was
opened on it) with its lift time in its own zone and the workstation's, its reason, who set it,
whether it still holds and a countdown that ticks every second on the app's clock without
asking the vault again; the pane below shows the row under the cursor in full. The listing is
read in a thread worker together with the policies' decisions on `set-embargo` and
`lift-embargo` for each target, so Set, Extend and Lift are greyed out where the policies refuse,
with the reason in a note line. Set and Extend open `EmbargoEditor`; Lift asks first
(`LiftConfirm`) and runs in a worker. The service enforces everything again.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Footer, Header, Static

from tui.host import session, vault_app
from tui.messages.embargo import (
    Change,
    EmbargoChanged,
    EmbargoesLoaded,
    EmbargoListing,
    EmbargoRow,
    Permissions,
)
from tui.screens.base import VaultScreen
from tui.screens.embargo_editor import EmbargoEditor, Target
from tui.screens.embargo_lift import LiftConfirm
from tui.screens.embargo_time import (
    default_zone,
    remaining,
    short_text,
    wall_text,
    workstation_zone,
)
from tui.widgets.safe import shown
from tui.widgets.table import Column, VirtualTable
from vault.errors import VaultError
from vault.policy.embargo import countdown, utc_rendering
from vault.service import Decision, Vault


def decide(vault: Vault, action: str, ref: str) -> Decision:
    """The policies' decision on `action` for `ref`; a policy set that cannot answer refuses."""
    try:
        return vault.explain(action, on=ref)
    except VaultError as error:
        return Decision(False, errors=(error.message,), asked=f"{action} on {ref}")


def its_zone(row: EmbargoRow) -> str:
    """The lift time in the embargo's own zone, with the zone's abbreviation."""
    return wall_text(row.until, row.zone, offset=False)


def first_line(decision: Decision) -> str:
    """The decision's first line, e.g. `refused: bob (reporter) to set-embargo collection …`."""
    return decision.explain().splitlines()[0]


class EmbargoScreen(VaultScreen):
    """Embargoes, optionally opened on one collection or document."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("s", "set", "Set"),
        Binding("e", "extend", "Extend"),
        Binding("l", "lift", "Lift"),
        Binding("r", "reload", "Reload"),
    ]

    def __init__(self, target: str | None = None) -> None:
        """Make the screen.

        Args:
            target: a collection name or document id, to show only the embargoes on it.
        """
        super().__init__()
        self.target = target
        self.listing: EmbargoListing | None = None
        self.workstation = workstation_zone()
        self.now = datetime.min.replace(tzinfo=UTC)
        self.reads = 0  # reads started: one overtaken by a newer read must not show its answer
        here = self.workstation
        self.columns: list[Column[EmbargoRow]] = [
            Column("target", lambda r: shown(r.label), weight=2),
            Column("until (its zone)", its_zone, weight=3),
            Column(f"here: {here.label}", lambda r: short_text(r.until, here, named=False), 16),
            Column("holds, lifts in", lambda r: remaining(r.effective, self.now), width=17),
            Column("reason", lambda r: shown(r.view.reason), weight=2),
            Column("set by", lambda r: shown(r.view.set_by), width=8),
        ]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="embargo-note", markup=False)
        empty = "no embargo on what you hold" if self.target is None else "no embargo here"
        yield VirtualTable(self.columns, empty=empty, id="embargoes")
        yield Static("", id="embargo-detail", markup=False)
        yield Footer(compact=True)

    @property
    def table(self) -> VirtualTable[EmbargoRow]:
        """The table of embargoes."""
        return self.query_one("#embargoes", VirtualTable)

    def on_mount(self) -> None:
        super().on_mount()
        if self.target is not None:
            self.sub_title = shown(self.target)
        self.now = vault_app(self).clock.now()
        self.table.focus()
        self.watch(self.table, "cursor", self._moved, init=False)
        self.set_interval(1.0, self.tick)
        self.action_reload()

    # Loading
    def action_reload(self) -> None:
        """Read the embargoes and the policies' decisions again."""
        self.reads += 1
        self._load(self.target, self.reads)

    @work(thread=True, exit_on_error=False, exclusive=True, group="embargoes")
    def _load(self, target: str | None, read: int) -> None:
        with session(self).use() as vault:
            views = vault.embargoes(target)
            collections = tuple(c.name for c in vault.collections())
            rows = sorted(
                (EmbargoRow.of(v) for v in views), key=lambda r: (not r.view.holds, r.effective)
            )
            refs = dict.fromkeys([*collections, *(r.ref for r in rows)])
            if target is not None:
                refs[target] = None
            permissions = Permissions(
                {ref: decide(vault, "set-embargo", ref) for ref in refs},
                {ref: decide(vault, "lift-embargo", ref) for ref in refs},
            )
        listing = EmbargoListing(tuple(rows), collections, permissions)
        self.post_message(EmbargoesLoaded(listing, read))

    def on_embargoes_loaded(self, message: EmbargoesLoaded) -> None:
        if message.read != self.reads:
            return  # a newer read is under way (or the vault was locked)
        self.listing = message.listing
        self.table.set_rows(message.listing.rows)
        self._moved()

    def forget(self) -> None:
        self.reads += 1
        self.listing = None
        self.table.clear()
        self._moved()

    # Showing
    def tick(self) -> None:
        """Move the countdowns on (every second, on the app's clock)."""
        self.now = vault_app(self).clock.now()
        self.table.refresh()
        self._detail()

    def _moved(self) -> None:
        self._detail()
        self._note()
        self.refresh_bindings()

    def _detail(self) -> None:
        row = self.table.current
        pane = self.query_one("#embargo-detail", Static)
        pane.display = row is not None
        if row is None:
            return
        view = row.view
        kind = "collection" if view.kind == "collection" else f"document {view.target_id[:12]}"
        state = "holds" if self.now < row.effective else "lifted"
        here = self.workstation
        lines = [
            f"{shown(row.label)} — {kind} · {state}",
            f"until  {view.utc}",
            f"zone   {wall_text(row.until, row.zone)} {row.zone.label}",
            f"here   {wall_text(row.until, here)} {here.label}",
            f"       {countdown(row.effective, self.now)}",
            f"reason {shown(view.reason)}",
            f"set by {shown(view.set_by)} at {utc_rendering(datetime.fromisoformat(view.set_at))}",
        ]
        if row.effective != row.until:
            lines[4] += f" (held longer by its collection: {utc_rendering(row.effective)})"
        pane.update(Text("\n".join(lines)))

    def _note(self) -> None:
        note = self.query_one("#embargo-note", Static)
        row = self.table.current
        lines = []
        refused_set = self._refusal("set", self._set_ref())
        if refused_set:
            what = "set or extend this embargo" if row is not None else "set an embargo here"
            lines.append(shown(f"you may not {what}: {refused_set}"))
        refused_lift = self._refusal("lift", row.ref) if row is not None else ""
        if refused_lift:
            lines.append(shown(f"you may not lift this embargo: {refused_lift}"))
        note.update(Text("\n".join(lines)))
        note.display = bool(lines)

    def _set_ref(self) -> str | None:
        """The target Set and Extend act on: the row's, else the screen's, else a collection."""
        row = self.table.current
        if row is not None:
            return row.ref
        if self.target is not None:
            return self.target
        if self.listing is not None and self.listing.collections:
            return self.listing.collections[0]
        return None

    def _refusal(self, kind: str, ref: str | None) -> str:
        """Why the policies refuse `kind` ("set" or "lift") on `ref`; "" if they allow it."""
        if self.listing is None or ref is None:
            return ""
        decisions = self.listing.permissions.set if kind == "set" else self.listing.permissions.lift
        decision = decisions.get(ref)
        return first_line(decision) if decision is not None and not decision.allowed else ""

    # Actions
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action not in ("set", "extend", "lift"):
            return True
        if self.listing is None:
            return None
        if action == "set":
            return True if self._targets() else None
        row = self.table.current
        if row is None or self._refusal("set" if action == "extend" else "lift", row.ref):
            return None
        return True

    def _targets(self) -> list[Target]:
        """What Set may put an embargo on: targets the policies allow, collections first."""
        listing = self.listing
        if listing is None:
            return []
        current = {r.ref: r.until for r in listing.rows}
        labels = {r.ref: r.label for r in listing.rows}
        refs = dict.fromkeys([*listing.collections, *labels])
        if self.target is not None:
            refs[self.target] = None
        return [
            Target(ref, labels.get(ref, ref), current.get(ref))
            for ref in refs
            if not self._refusal("set", ref)
        ]

    def action_set(self) -> None:
        """Put an embargo on a collection (the row's target, if a row is chosen)."""
        row = self.table.current
        targets = self._targets()
        if not targets:
            return
        zone = row.view.zone if row is not None else default_zone(self.workstation)
        editor = EmbargoEditor(
            targets, chosen=self._set_ref(), zone=zone, workstation=self.workstation
        )
        self.app.push_screen(editor, self._changed)

    def action_extend(self) -> None:
        """Change the row's embargo: later extends it; earlier is a partial lift."""
        row = self.table.current
        if row is None or self.check_action("extend", ()) is not True:
            return
        target = Target(row.ref, row.label, row.until)
        editor = EmbargoEditor(
            [target], chosen=row.ref, zone=row.view.zone, workstation=self.workstation, editing=row
        )
        self.app.push_screen(editor, self._changed)

    def on_virtual_table_selected(self, event: VirtualTable.Selected) -> None:
        event.stop()
        self.action_extend()

    def action_lift(self) -> None:
        """Lift the row's embargo now, once the member confirms."""
        row = self.table.current
        if row is None or self.check_action("lift", ()) is not True:
            return

        def confirmed(lift: bool | None) -> None:
            if lift:
                self._lift(row.ref)

        self.app.push_screen(LiftConfirm(row), confirmed)

    @work(thread=True, exit_on_error=False, exclusive=True, group="embargo-lift")
    def _lift(self, ref: str) -> None:
        with session(self).use() as vault:
            view = vault.lift_embargo(ref)
        self.post_message(EmbargoChanged(Change("lifted", view)))

    def on_embargo_changed(self, message: EmbargoChanged) -> None:
        self._changed(message.change)

    def _changed(self, change: Change | None) -> None:
        if change is None:
            return
        current = vault_app(self).session
        if current is not None:
            current.changes += 1
        view = change.view
        text = shown(f"{change.verb} the embargo on {view.name}: {view.rendering}")
        self.notify(text, markup=False)
        self.action_reload()
