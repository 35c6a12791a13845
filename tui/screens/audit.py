"""Audit viewer: every entry of the log, filtered as you type, and a Verify action.

Entries are decrypted by the service (reading the log is itself logged) and turned into plain,
escaped lines in the worker. Verify checks the whole chain and every signature, in a worker.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Footer, Header, Input, Static

from tui.host import session
from tui.messages.audit import AuditLine, AuditLoaded, AuditVerified, Verdict
from tui.screens.base import VaultScreen
from tui.widgets.plain_input import PlainInput
from tui.widgets.safe import shown
from tui.widgets.table import Column, VirtualTable


def _plain(value: object) -> object:
    """What `json.dumps` cannot write itself: read-only mappings (and anything else, as text)."""
    return dict(value) if isinstance(value, Mapping) else str(value)


COLUMNS: list[Column[AuditLine]] = [
    Column("seq", lambda e: str(e.seq), width=6, right=True),
    Column("time (UTC)", lambda e: e.at, width=19),
    Column("actor", lambda e: e.actor, width=8),
    Column("action", lambda e: e.action, width=18),
    Column("target", lambda e: e.target, weight=1),
    Column("details", lambda e: e.details, weight=2),
]


class EntryTable(VirtualTable[AuditLine]):
    """The entries; Enter shows the one under the cursor in full."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "select", "Details")]


class AuditScreen(VaultScreen):
    """The vault's audit log."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("slash", "focus_filter", "Filter"),
        Binding("v", "verify", "Verify"),
        Binding("r", "reload", "Reload"),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        yield PlainInput(placeholder="filter  (/)", id="audit-filter", compact=True)
        yield Static("loading…", id="audit-count", markup=False)
        yield Static("", id="audit-verdict", markup=False)
        yield EntryTable(COLUMNS, key=lambda e: e.key, empty="no entries", id="audit")
        yield Static("", id="audit-entry", markup=False)
        yield Footer()

    @property
    def table(self) -> EntryTable:
        """The entries table."""
        return self.query_one("#audit", EntryTable)

    def on_mount(self) -> None:
        super().on_mount()
        self.sub_title = "audit log"
        self.table.focus()
        self.query_one("#audit-verdict", Static).display = False
        self.query_one("#audit-entry", Static).display = False
        self.action_reload()

    def action_reload(self) -> None:
        """Read the log again."""
        self._load()

    @work(thread=True, exit_on_error=False, exclusive=True, group="audit")
    def _load(self) -> None:
        with session(self).use() as vault:
            lines = [
                AuditLine(
                    entry.seq,
                    entry.at.strftime("%Y-%m-%d %H:%M:%S"),
                    shown(entry.actor),
                    shown(entry.action),
                    shown(entry.target),
                    shown(json.dumps(entry.details, ensure_ascii=False, default=_plain)),
                )
                for entry in vault.audit_entries()
            ]
        self.post_message(AuditLoaded(lines))

    def on_audit_loaded(self, message: AuditLoaded) -> None:
        self.table.set_rows(message.lines)
        self.table.action_edge(1)
        self._count()

    def _count(self) -> None:
        table = self.table
        text = f"{table.count:,} of {table.total:,} entries"
        self.query_one("#audit-count", Static).update(Text(text))

    @on(Input.Changed, "#audit-filter")
    def filter_entries(self, event: Input.Changed) -> None:
        """Narrow the table to entries containing the text, as it is typed."""
        self.table.filter(event.value)
        self._count()

    @on(Input.Submitted, "#audit-filter")
    def filter_done(self) -> None:
        """Enter in the filter box goes to the table."""
        self.table.focus()

    def action_focus_filter(self) -> None:
        """Put the cursor in the filter box."""
        self.query_one("#audit-filter", Input).focus()

    def action_back(self) -> None:
        """Leave the filter box, or go back."""
        if self.focused is not self.table:
            self.table.focus()
        else:
            self.dismiss()

    def on_virtual_table_selected(self, event: VirtualTable.Selected) -> None:
        line = self.table.current
        if line is not None:
            entry = self.query_one("#audit-entry", Static)
            head = f"#{line.seq} {line.at} {line.actor} {line.action} {line.target}"
            entry.update(Text(f"{head}\n{line.details}"))
            entry.display = True

    def action_verify(self) -> None:
        """Verify the chain and every signature."""
        self._say("verifying…", ok=None)
        self._verify()

    @work(thread=True, exit_on_error=False, exclusive=True, group="verify")
    def _verify(self) -> None:
        with session(self).use() as vault:
            report = vault.audit_verify()
        verdict = Verdict(report.ok, report.entries, report.head.seq, report.problems)
        self.post_message(AuditVerified(verdict))

    def on_audit_verified(self, message: AuditVerified) -> None:
        verdict = message.verdict
        if verdict.ok:
            text = f"verified: ok — {verdict.entries:,} entries, head at seq {verdict.head}"
        else:
            problems = "; ".join(verdict.problems[:5])
            more = len(verdict.problems) - 5
            text = f"verify FAILED: {problems}" + (f" (and {more} more)" if more > 0 else "")
        self._say(shown(text), ok=verdict.ok)

    def _say(self, text: str, *, ok: bool | None) -> None:
        verdict = self.query_one("#audit-verdict", Static)
        verdict.update(Text(text))
        verdict.display = True
        verdict.set_class(ok is True, "ok")
        verdict.set_class(ok is False, "error")

    def forget(self) -> None:
        self.table.clear()
        self.query_one("#audit-entry", Static).update("")
