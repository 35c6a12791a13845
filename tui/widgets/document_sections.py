"""The document screen's descriptive sections: metadata, flags, provenance."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from tui.widgets.safe import safe_text
from tui.widgets.section import DocumentSection
from vault.ingest.found_flags import ALL_FLAGS
from vault.output import human_size
from vault.service import DocumentDetail


def _field(table: Table, label: str, value: str, style: str = "") -> None:
    table.add_row(Text(label, style="bold"), safe_text(value, style))


class MetadataSection(DocumentSection[None]):
    """Name, id, collection, type, size, digest and status."""

    TITLE = "Document"

    def show(self, detail: DocumentDetail, data: None) -> None:
        doc = detail.document
        table = Table.grid(padding=(0, 2))
        table.add_column(no_wrap=True)
        table.add_column(overflow="fold")
        _field(table, "name", doc.name)
        _field(table, "id", doc.oid)
        _field(table, "collection", doc.collection)
        _field(table, "type", doc.mime)
        if detail.description:
            _field(table, "described", detail.description)
        _field(table, "size", f"{human_size(doc.size)} ({doc.size:,} bytes)")
        _field(table, "sha-256", doc.sha256)
        _field(table, "status", doc.status, f"status-{doc.status}")
        self.body.update(table)


class FlagsSection(DocumentSection[None]):
    """Each flag with what it means."""

    TITLE = "Flags"

    def show(self, detail: DocumentDetail, data: None) -> None:
        flags = detail.document.flags
        if not flags:
            self.body.update(Text("no flags"))
            return
        table = Table.grid(padding=(0, 2))
        table.add_column(no_wrap=True, style="bold")
        table.add_column(overflow="fold")
        for flag in flags:
            meaning = ALL_FLAGS.get(flag, "a flag this version does not know")
            table.add_row(safe_text(flag), Text(meaning))
        self.body.update(table)


class ProvenanceSection(DocumentSection[None]):
    """Every occurrence: intake, member, time, source, container, path."""

    TITLE = "Provenance"

    def show(self, detail: DocumentDetail, data: None) -> None:
        lines: list[Text] = []
        for seen in detail.occurrences:
            source = seen.source + (f" ({seen.medium})" if seen.medium else "")
            lines.append(
                Text.assemble(
                    (f"intake {seen.intake}", "bold"),
                    " · ",
                    safe_text(seen.member),
                    " · ",
                    safe_text(seen.at),
                    " · ",
                    safe_text(source or "no source given"),
                )
            )
            if seen.container:
                lines.append(Text.assemble("  in     ", safe_text(seen.container)))
            lines.append(Text.assemble("  path   ", safe_text(seen.path)))
        self.body.update(Text("\n").join(lines))
        self.border_subtitle = f"{len(detail.occurrences)} occurrence(s)"

    def forget(self) -> None:
        super().forget()
        self.border_subtitle = ""
