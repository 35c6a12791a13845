"""`vault tui`: open the full-screen terminal app on the vault named by `--vault`.

The app (package `tui`, built on Textual) is imported only when this command runs, so the rest of
the command line, and the library, never load Textual.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from vault.cli.root import cli, pass_state
from vault.errors import UsageError


@cli.command("tui")
@click.option(
    "--idle-lock",
    type=click.FloatRange(min=0),
    default=600.0,
    show_default=True,
    envvar="VAULT_IDLE_LOCK",
    help="Lock after this many idle seconds; 0 never (env VAULT_IDLE_LOCK).",
)
@pass_state
def tui_command(state: dict[str, Any], idle_lock: float) -> None:
    """Open the terminal app: browse, review, check in, embargoes, releases, the audit log.

    The app asks for the passphrase itself; --as only fills in the member name.
    """
    vault_dir = state["vault_dir"]
    if vault_dir is None:
        raise UsageError("which vault?", hint="give --vault DIR or set VAULT_DIR")
    if not vault_dir.is_dir():
        raise UsageError(f"no vault at {vault_dir}", hint="create one with `vault init`")
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError(
            "the terminal app needs a terminal", hint="use the other commands in scripts"
        )
    from tui.app import VaultApp  # Textual loads only for this command

    VaultApp(vault_dir, state["member"], idle_timeout=idle_lock).run()
