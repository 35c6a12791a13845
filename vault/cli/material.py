"""Working with material: `checkin`, `ls`, `show`, `cat`."""

from __future__ import annotations

import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from vault.cli.progress import ProgressBar
from vault.cli.root import cli, json_option, open_vault, pass_state
from vault.errors import UsageError, VaultError
from vault.ingest.found_flags import ALL_FLAGS as FLAGS
from vault.output import emit, escape, human_size, table
from vault.service import DocumentDetail, Filter, Receipt
from vault.service.review import STATUSES


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--collection", required=True, help="The collection to check into.")
@click.option("--source", default="", help="Where the material came from.")
@click.option("--medium", default="", help="What it arrived on (USB stick, download, …).")
@json_option
@pass_state
def checkin(
    state: dict[str, Any],
    paths: tuple[Path, ...],
    collection: str,
    source: str,
    medium: str,
    as_json: bool,
) -> None:
    """Check files and folders into a collection and print the receipt.

    Exits 1 if any item failed (the rest are stored), listing each failure.
    """
    vault = open_vault(state)
    bar = ProgressBar() if sys.stderr.isatty() and not as_json else None
    try:
        receipt = vault.check_in(
            list(paths),
            collection=collection,
            source=source,
            medium=medium,
            progress=bar.update if bar else None,
            cancel=bar.cancelled if bar else None,
        )
    finally:
        if bar:
            bar.close()
    emit(as_json, receipt.to_json(), lambda: receipt_text(receipt))
    if not receipt.ok:
        raise VaultError(
            "check-in incomplete: "
            + ("cancelled" if receipt.cancelled else f"{receipt.counts()['failed']} item(s) failed")
        )


def receipt_text(receipt: Receipt) -> str:
    """The human receipt: counts, then every item that was not simply stored."""
    counts = receipt.counts()
    lines = [
        f"intake {receipt.intake_id} into {escape(receipt.collection)}: "
        + ", ".join(f"{n} {k}" for k, n in counts.items())
    ]
    for item in receipt.items:
        if item.outcome in ("skipped", "failed") or item.flags:
            why = item.reason or ",".join(item.flags)
            lines.append(f"  {item.outcome:9} {escape(item.path)}: {escape(why)}")
    if receipt.cancelled:
        lines.append("cancelled: items not listed above were not checked in")
    return "\n".join(lines)


@cli.command("ls")
@click.option("--collection", help="Only this collection.")
@click.option("--status", type=click.Choice(STATUSES), help="Only documents with this status.")
@click.option("--flag", help="Only documents with this flag (see `vault flags`).")
@click.option("--type", "mime", help="Only this type, or type prefix: application/pdf, image/.")
@click.option("--tag", "tag_name", help="Only documents with this tag.")
@json_option
@pass_state
def ls(
    state: dict[str, Any],
    collection: str | None,
    status: str | None,
    flag: str | None,
    mime: str | None,
    tag_name: str | None,
    as_json: bool,
) -> None:
    """List documents in the collections you hold."""
    where = Filter(status=status, flag=flag, mime=mime, tag=tag_name)
    docs = open_vault(state).documents(collection, where)
    emit(
        as_json,
        [asdict(d) for d in docs],
        lambda: table(
            ["id", "collection", "name", "size", "status", "flags"],
            [
                [
                    d.oid[:12],
                    escape(d.collection),
                    escape(d.name),
                    human_size(d.size),
                    d.status,
                    ",".join(d.flags),
                ]
                for d in docs
            ],
        ),
    )


@cli.command()
@click.argument("doc")
@json_option
@pass_state
def show(state: dict[str, Any], doc: str, as_json: bool) -> None:
    """Show a document's metadata and provenance (DOC: an id or its first digits)."""
    detail = open_vault(state).show(doc)
    emit(as_json, asdict(detail), lambda: detail_text(detail))


def detail_text(detail: DocumentDetail) -> str:
    """The human form of `vault show`."""
    d = detail.document
    lines = [
        f"id          {d.oid}",
        f"collection  {escape(d.collection)}",
        f"name        {escape(d.name)}",
        f"size        {d.size} bytes ({human_size(d.size)})",
        f"sha256      {d.sha256}",
        f"type        {escape(d.mime)}"
        + (f" ({escape(detail.description)})" if detail.description else ""),
        f"status      {d.status}",
        f"flags       {', '.join(d.flags) or '-'}",
    ]
    lines += [f"  {flag}: {FLAGS[flag]}" for flag in d.flags if flag in FLAGS]
    lines.append(f"tags        {', '.join(escape(t) for t in d.tags) or '-'}")
    if d.dkim:
        lines.append(f"dkim        {d.dkim}: {escape(detail.dkim_detail)}")
    if detail.index_error:
        lines.append(f"text index  not indexed: {escape(detail.index_error)}")
    lines.append("occurrences:")
    for occ in detail.occurrences:
        where = f" in {escape(occ.container)}" if occ.container else ""
        lines.append(
            f"  intake {occ.intake} by {occ.member} at {occ.at}: {escape(occ.path)}{where}"
            + (f" (source: {escape(occ.source)})" if occ.source else "")
        )
    if detail.history:
        lines.append("status history:")
        lines += [
            f"  {h.at} {h.member}: {h.old} -> {h.new}" + (f" ({escape(h.note)})" if h.note else "")
            for h in detail.history
        ]
    if detail.notes:
        lines.append("notes:")
        lines += [f"  {n.at} {n.member}: {escape(n.text)}" for n in detail.notes]
    return "\n".join(lines)


@cli.command()
@click.argument("doc")
@click.option("--output", type=click.Path(path_type=Path), help="Write to this new file.")
@pass_state
def cat(state: dict[str, Any], doc: str, output: Path | None) -> None:
    """Write a document's content to standard output or, with --output, to a new file.

    Binary content is never written to a terminal: use --output or a pipe.
    """
    vault = open_vault(state)
    if output is not None:
        view = vault.export(doc, output)
        click.echo(f"wrote {view.size} bytes to {output}", err=True)
        return
    view, chunks = vault.read(doc)
    out = sys.stdout.buffer
    first = True
    for chunk in chunks:
        if first and sys.stdout.isatty() and _binary(chunk):
            raise UsageError(
                "refusing to write binary content to a terminal",
                hint="use --output FILE or pipe it",
            )
        first = False
        out.write(chunk)
    out.flush()
    del view


def _binary(sample: bytes) -> bool:
    if b"\0" in sample[:8192]:
        return True
    try:
        sample[:8192].decode()
    except UnicodeDecodeError as exc:
        return exc.start < 8188
    return False


@cli.command()
@click.argument("doc")
@click.option(
    "--status",
    required=True,
    type=click.Choice(STATUSES),
    help="The new verification status.",
)
@click.option("--note", default="", help="Why: kept with the status history.")
@pass_state
def mark(state: dict[str, Any], doc: str, status: str, note: str) -> None:
    """Record a document's verification status."""
    previous = open_vault(state).mark(doc, status, note)
    click.echo(f"{doc}: {previous} -> {status}")


@cli.command()
@json_option
def flags(as_json: bool) -> None:
    """Explain every flag check-in can put on a document."""
    emit(as_json, dict(FLAGS), lambda: "\n".join(f"{k:24} {v}" for k, v in sorted(FLAGS.items())))
