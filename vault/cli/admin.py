"""Setting a vault up: `init`, `member`, `collection`."""

from __future__ import annotations

import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from vault.cli.root import cli, json_option, open_vault, pass_state, read_passphrase
from vault.keys.member import KdfParams
from vault.output import emit, escape, table
from vault.service import Vault


@cli.command()
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--admin", required=True, help="Name of the founding admin.")
@click.option(
    "--new-passphrase-file",
    type=click.Path(path_type=Path),
    help="Read the admin's first passphrase from this file instead of prompting.",
)
@click.option(
    "--kdf-memory",
    type=click.IntRange(64, 4096),
    default=64,
    show_default=True,
    help="Argon2id memory in MiB for key files (64 at least).",
)
def init(directory: Path, admin: str, new_passphrase_file: Path | None, kdf_memory: int) -> None:
    """Create a new vault in DIRECTORY with its founding admin."""
    passphrase = read_passphrase(new_passphrase_file, f"new passphrase for {admin}", confirm=True)
    vault = Vault.init(directory, admin, passphrase, kdf=KdfParams(memory_kib=kdf_memory * 1024))
    vault.close()
    click.echo(f"created vault {directory} with admin {admin}")


@cli.group()
def member() -> None:
    """Add, list and remove members."""


@member.command("add")
@click.argument("name")
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    help="A role (repeatable): admin, editor-in-chief, editor, legal, reporter, intake.",
)
@click.option(
    "--new-passphrase-file",
    type=click.Path(path_type=Path),
    help="The new member's first passphrase, from a file instead of a prompt.",
)
@json_option
@pass_state
def member_add(
    state: dict[str, Any],
    name: str,
    roles: tuple[str, ...],
    new_passphrase_file: Path | None,
    as_json: bool,
) -> None:
    """Add member NAME with their roles and first passphrase (admins only)."""
    vault = open_vault(state)
    passphrase = read_passphrase(new_passphrase_file, f"new passphrase for {name}", confirm=True)
    view = vault.add_member(name, list(roles), passphrase)
    emit(as_json, asdict(view), lambda: f"added {view.name} ({', '.join(view.roles)})")


@member.command("list")
@json_option
@pass_state
def member_list(state: dict[str, Any], as_json: bool) -> None:
    """List members and their roles."""
    views = open_vault(state).members()
    emit(
        as_json,
        [asdict(v) for v in views],
        lambda: table(
            ["member", "roles", "status"],
            [[v.name, ",".join(v.roles), "active" if v.active else "removed"] for v in views],
        ),
    )


@member.command("remove")
@click.argument("name")
@pass_state
def member_remove(state: dict[str, Any], name: str) -> None:
    """Remove member NAME and revoke every collection they held (admins only)."""
    open_vault(state).remove_member(name)
    click.echo(f"removed {name}; removal does not un-read what they already read")


@cli.group()
def collection() -> None:
    """Create, list, grant and revoke collections."""


@collection.command("create")
@click.argument("name")
@click.option("--description", default="", help="What the collection holds.")
@json_option
@pass_state
def collection_create(state: dict[str, Any], name: str, description: str, as_json: bool) -> None:
    """Create collection NAME, held by you."""
    view = open_vault(state).create_collection(name, description)
    emit(as_json, asdict(view), lambda: f"created collection {escape(view.name)} ({view.cid})")


@collection.command("list")
@json_option
@pass_state
def collection_list(state: dict[str, Any], as_json: bool) -> None:
    """List the collections you hold."""
    views = open_vault(state).collections()
    emit(
        as_json,
        [asdict(v) for v in views],
        lambda: table(
            ["collection", "id", "documents", "members", "key"],
            [
                [escape(v.name), v.cid, str(v.documents), ",".join(v.members), f"v{v.key_version}"]
                for v in views
            ],
        ),
    )


@collection.command("grant")
@click.argument("name")
@click.argument("member_name", metavar="MEMBER")
@pass_state
def collection_grant(state: dict[str, Any], name: str, member_name: str) -> None:
    """Give MEMBER access to collection NAME."""
    view = open_vault(state).grant(name, member_name)
    click.echo(f"{member_name} now holds {escape(view.name)}")


@collection.command("revoke")
@click.argument("name")
@click.argument("member_name", metavar="MEMBER")
@pass_state
def collection_revoke(state: dict[str, Any], name: str, member_name: str) -> None:
    """Take collection NAME away from MEMBER, rotating its keys."""
    view = open_vault(state).revoke(name, member_name)
    click.echo(
        f"revoked {member_name} from {escape(view.name)}; new check-ins use key "
        f"v{view.key_version}. Revocation does not un-read what they already read."
    )


@collection.command("export-identity")
@click.argument("name")
@click.option("--output", type=click.Path(path_type=Path), help="Write to this new file (0600).")
@pass_state
def collection_export_identity(state: dict[str, Any], name: str, output: Path | None) -> None:
    """DANGEROUS: write collection NAME's age identity, for recovery with the `age` tool.

    Whoever holds it can decrypt every object of the collection without the vault:
    age -d -i identity.txt objects/ab/<oid> | head -c <size>
    """
    text = open_vault(state).export_identity(name)
    if output is None:
        click.echo(text, nl=False)
        return
    fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    click.echo(
        f"wrote {output}: keep it offline; it opens every object of the collection", err=True
    )
