"""Reviewing material: `note`, `tag`, `preview`, `search`, `dkim`."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from vault.cli.root import cli, json_option, open_vault, pass_state
from vault.errors import UsageError
from vault.output import emit, escape, human_size, table
from vault.service import Filter
from vault.service.review import STATUSES


@cli.command()
@click.argument("doc")
@click.argument("text")
@pass_state
def note(state: dict[str, Any], doc: str, text: str) -> None:
    """Append a note to a document (notes are kept with author and time, never edited)."""
    open_vault(state).add_note(doc, text)
    click.echo(f"noted on {doc}")


@cli.command()
@click.argument("doc")
@click.argument("tags", nargs=-1, required=True)
@click.option("--remove", is_flag=True, help="Remove these tags instead of adding them.")
@pass_state
def tag(state: dict[str, Any], doc: str, tags: tuple[str, ...], remove: bool) -> None:
    """Tag a document (free-form tags: finance, source-a, check-dates …)."""
    now = open_vault(state).tag(doc, list(tags), remove=remove)
    click.echo(f"{doc}: {', '.join(escape(t) for t in now) or 'no tags'}")


@cli.command()
@click.argument("doc")
@json_option
@pass_state
def preview(state: dict[str, Any], doc: str, as_json: bool) -> None:
    """Show a document safely: text with every control character visible, e-mail as headers
    and text parts, anything else as a hex dump. Nothing is ever opened in another program."""
    view, shown = open_vault(state).preview(doc)
    header = f"{escape(view.name)} · {escape(view.mime)} · {human_size(view.size)} · {shown.kind}"
    if shown.encoding:
        header += f" · {shown.encoding}"
    emit(
        as_json,
        {"document": asdict(view), **asdict(shown)},
        lambda: "\n".join(
            [header, "-" * min(len(header), 100), shown.text]
            + ([f"… ({escape(shown.note)})"] if shown.truncated or shown.note else [])
        ),
    )


@cli.command()
@click.argument("query")
@click.option("--collection", help="Only this collection.")
@click.option("--status", type=click.Choice(STATUSES), help="Only documents with this status.")
@click.option("--flag", help="Only documents with this flag.")
@click.option("--type", "mime", help="Only this type, or type prefix.")
@click.option("--tag", "tag_name", help="Only documents with this tag.")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@json_option
@pass_state
def search(
    state: dict[str, Any],
    query: str,
    collection: str | None,
    status: str | None,
    flag: str | None,
    mime: str | None,
    tag_name: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """Search names and text of the documents you can read, best matches first.

    QUERY is FTS5 syntax: words, "an exact phrase", OR, NOT, prefix*.
    """
    where = Filter(status=status, flag=flag, mime=mime, tag=tag_name)
    hits = open_vault(state).search(query, collection=collection, where=where, limit=limit)
    emit(
        as_json,
        [{**asdict(h.document), "snippet": h.snippet, "score": h.score} for h in hits],
        lambda: (
            "\n".join(
                f"{h.document.oid[:12]}  {escape(h.document.collection)}  {escape(h.document.name)}"
                f"\n    {escape(h.snippet)}"
                for h in hits
            )
            or "(no match)"
        ),
    )


@cli.group()
def dkim() -> None:
    """DKIM evidence for leaked e-mail, against an offline archive of public keys."""


@dkim.command("import")
@click.argument("file", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@pass_state
def dkim_import(state: dict[str, Any], file: Path) -> None:
    """Import archived DKIM keys: lines of `<selector>._domainkey.<domain> <TXT value>`."""
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{file} is not UTF-8 text") from None
    total = open_vault(state).import_dkim_keys(text)
    click.echo(
        f"the archive holds keys for {total} selector(s); run `vault dkim check` "
        "to re-check mail already in the vault"
    )


@dkim.command("check")
@click.option("--collection", help="Only this collection.")
@json_option
@pass_state
def dkim_check(state: dict[str, Any], collection: str | None, as_json: bool) -> None:
    """Re-check the DKIM signatures of every e-mail against the key archive."""
    counts = open_vault(state).check_mail(collection)
    emit(
        as_json,
        counts,
        lambda: table(["result", "messages"], [[k, str(v)] for k, v in sorted(counts.items())]),
    )
