"""The document screen's review sections: embargo, DKIM evidence, and notes, history and tags.

- **Embargo**: what holds the document back from publication — its own embargo or its
  collection's, whichever lifts later (`Vault.embargoes(oid)`) — in the zone it was entered in,
  with the countdown; or "not embargoed".
- **DKIM evidence** (e-mail only; hidden for anything else): the result the check-in or the last
  `vault dkim check` found, a sentence saying what it proves, and the verifier's detail.
- **Notes and tags**: the tags, every status change (who, when, from, to, why) and every note
  with its author and time, all from the detail `Vault.show` returned.

Everything that comes from the vault is shown through `safe_text`.
"""

from __future__ import annotations

from datetime import datetime

from rich.table import Table
from rich.text import Text

from tui.widgets.safe import safe_text
from tui.widgets.section import DocumentSection
from vault.service import DocumentDetail, EmbargoView, Vault

DKIM_MEANING = {
    "pass": "the signed headers and the body are exactly as the signing domain sent them",
    "body-altered": (
        "the signed headers are genuine, but the body was changed after it was signed"
    ),
    "fail": (
        "the signature does not verify: a signed header was changed, the signature is not "
        "genuine, or its key is too weak to prove anything"
    ),
    "key-missing": (
        "the vault's key archive holds no key for this signer: import it (vault dkim import) "
        "and check again (vault dkim check)"
    ),
    "no-signature": "the message carries no DKIM signature: nothing proves where it came from",
    "error": "the signature or the message is malformed, or too large to check",
}
# Rich styles, not the stylesheet's status classes: these texts are spans inside other texts.
VERDICT_STYLE = {
    "pass": "bold green",
    "authentic": "bold green",
    "body-altered": "bold red",
    "fail": "bold red",
    "forged": "bold red",
    "disputed": "bold red",
}


def _label(text: str) -> Text:
    return Text(text, style="bold")


def _grid() -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(no_wrap=True)
    table.add_column(overflow="fold")
    return table


def holding(views: list[EmbargoView]) -> EmbargoView | None:
    """The embargo that lifts last among a document's own and its collection's, if any."""
    if not views:
        return None
    return max(views, key=lambda v: datetime.fromisoformat(v.until_utc))


class EmbargoSection(DocumentSection[list[EmbargoView]]):
    """When the document may be published."""

    TITLE = "Embargo"

    def fetch(self, vault: Vault, detail: DocumentDetail) -> list[EmbargoView]:
        return vault.embargoes(detail.document.oid)

    def show(self, detail: DocumentDetail, data: list[EmbargoView] | None) -> None:
        view = holding(data or [])
        if view is None:
            self.body.update(Text("not embargoed"))
            return
        whose = "its own embargo" if view.kind == "document" else "the collection's embargo"
        table = _grid()
        verb = "embargoed until" if view.holds else "embargo lifted at"
        table.add_row(_label(verb), safe_text(view.local, "bold"))
        table.add_row(Text(""), safe_text(view.countdown))
        table.add_row(_label("held by"), safe_text(f"{whose}, set by {view.set_by}"))
        table.add_row(_label("reason"), safe_text(view.reason))
        self.body.update(table)


class DkimSection(DocumentSection[None]):
    """DKIM evidence for e-mail: the result, what it means, and the verifier's detail."""

    TITLE = "DKIM evidence"

    def show(self, detail: DocumentDetail, data: None) -> None:
        result = detail.document.dkim
        self.display = bool(result)
        if not result:
            self.body.update("")
            return
        table = _grid()
        table.add_row(_label("result"), safe_text(result, VERDICT_STYLE.get(result, "bold")))
        meaning = DKIM_MEANING.get(result, "a result this version does not know")
        table.add_row(_label("means"), Text(meaning))
        if detail.dkim_detail:
            table.add_row(_label("detail"), safe_text(detail.dkim_detail))
        self.body.update(table)


class NotesSection(DocumentSection[None]):
    """Tags, the history of status changes, and the notes."""

    TITLE = "Notes and tags"

    def show(self, detail: DocumentDetail, data: None) -> None:
        tags = detail.document.tags
        lines = [
            Text.assemble(_label("tags  "), safe_text(", ".join(tags)) if tags else Text("no tags"))
        ]
        for change in detail.history:
            line = Text.assemble(
                safe_text(change.at),
                " ",
                safe_text(change.member, "bold"),
                "  status ",
                safe_text(change.old),
                " → ",
                safe_text(change.new, VERDICT_STYLE.get(change.new, "bold")),
            )
            if change.note:
                line.append_text(Text.assemble(": ", safe_text(change.note)))
            lines.append(line)
        for note in detail.notes:
            # A note may hold several lines: each is escaped on its own, so they stay lines.
            text = Text("\n    ").join(safe_text(part) for part in note.text.split("\n"))
            lines.append(
                Text.assemble(safe_text(note.at), " ", safe_text(note.member, "bold"), ": ", text)
            )
        if not detail.notes and not detail.history:
            lines.append(Text("no notes and no status changes yet"))
        self.body.update(Text("\n").join(lines))
        self.border_subtitle = f"{len(detail.notes)} note(s) · {len(detail.history)} change(s)"

    def forget(self) -> None:
        super().forget()
        self.border_subtitle = ""
