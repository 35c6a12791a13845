"""`vault demo`: build the demo vault."""

from __future__ import annotations

from pathlib import Path

import click

from vault.cli.root import cli, json_option
from vault.output import emit


@cli.command()
@click.argument("directory", type=click.Path(path_type=Path))
@json_option
def demo(directory: Path, as_json: bool) -> None:
    """Build a demo vault in DIRECTORY with members, a synthetic leak and a forgery."""
    from vault import demo as demo_vault  # it signs its mail with dkimpy: no other command loads it

    made = demo_vault.build(directory)
    data = {
        "vault": str(made.path),
        "collection": made.collection,
        "documents": made.documents,
        "members": [
            {"name": n, "roles": made.members[n], "passphrase": made.passphrases[n]}
            for n in made.members
        ],
    }

    def text() -> str:
        lines = [f"demo vault at {made.path}: {made.documents} documents in {made.collection}"]
        lines += [
            f"  {n:6} {','.join(made.members[n]):24} passphrase: {made.passphrases[n]}"
            for n in made.members
        ]
        lines.append(f"try: vault --vault {made.path} --as alice ls")
        return "\n".join(lines)

    emit(as_json, data, text)
