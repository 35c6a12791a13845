"""The root of the `vault` command: global options, unlocking, passphrases, error mapping.

Data goes to standard output (one JSON document with `--json`); diagnostics go to standard
error as `vault: error: …` with a `vault: hint: …` line where one helps. Exit codes (DESIGN §11):
0 ok · 1 failed · 2 usage · 3 refused · 4 integrity failure · 5 bad credentials.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, NoReturn

import click
from sqlalchemy.exc import DatabaseError

from vault.errors import UsageError, VaultError
from vault.output import escape
from vault.service import Vault

pass_state = click.make_pass_decorator(dict, ensure=True)


def run(group: click.Group) -> NoReturn:
    """Run the command group, mapping every expected failure to its exit code."""
    try:
        code = group.main(standalone_mode=False, prog_name="vault")
    except VaultError as exc:
        fail(exc.message, exc.hint, exc.exit_code)
    except DatabaseError:
        # SQLCipher authenticates every page: an unreadable page is damage or tampering.
        fail("a vault database is damaged", "run `vault check` to see which", 4)
    except click.exceptions.Abort:
        fail("aborted", None, 1)
    except click.ClickException as exc:
        fail(exc.format_message(), "see `vault --help`", 2)
    except KeyboardInterrupt:
        fail("interrupted", None, 130)
    except BrokenPipeError:
        sys.stderr.close()
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)


def fail(message: str, hint: str | None, code: int) -> NoReturn:
    """Print a diagnostic and exit."""
    click.echo(f"vault: error: {escape(message)}", err=True)
    if hint:
        click.echo(f"vault: hint: {escape(hint)}", err=True)
    sys.exit(code)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--vault",
    "vault_dir",
    envvar="VAULT_DIR",
    type=click.Path(path_type=Path),
    help="The vault directory (env VAULT_DIR).",
)
@click.option(
    "--as", "member", envvar="VAULT_MEMBER", help="Act as this member (env VAULT_MEMBER)."
)
@click.option(
    "--passphrase-file",
    envvar="VAULT_PASSPHRASE_FILE",
    type=click.Path(path_type=Path),
    help="Read the member's passphrase from this file (env VAULT_PASSPHRASE_FILE).",
)
@click.version_option(package_name="embargo-vault", prog_name="vault")
@pass_state
def cli(
    state: dict[str, Any], vault_dir: Path | None, member: str | None, passphrase_file: Path | None
) -> None:
    """Embargo Vault: hold leaked material encrypted, under embargo, with an audit trail.

    Check material in, review it, and release it when the embargo lifts. Every command that
    touches vault material needs --vault DIR, --as MEMBER and the member's passphrase.
    """
    state.update(vault_dir=vault_dir, member=member, passphrase_file=passphrase_file)


def open_vault(state: dict[str, Any]) -> Vault:
    """Unlock the vault named by the global options."""
    if state.get("vault") is not None:
        return state["vault"]  # type: ignore[no-any-return]
    vault_dir, member = state["vault_dir"], state["member"]
    if vault_dir is None:
        raise UsageError("which vault?", hint="give --vault DIR or set VAULT_DIR")
    if member is None:
        raise UsageError("acting as whom?", hint="give --as MEMBER or set VAULT_MEMBER")
    passphrase = read_passphrase(state["passphrase_file"], f"passphrase for {member}")
    vault = Vault.open(vault_dir, member, passphrase)
    state["vault"] = vault
    click.get_current_context().call_on_close(vault.close)
    return vault


PASSPHRASE_FILE_LIMIT = 4096


def read_passphrase(path: Path | None, prompt: str, *, confirm: bool = False) -> bytes:
    """A passphrase from a file (one trailing newline dropped) or a hidden prompt."""
    if path is not None:
        try:
            # Bounded: the file may be a pipe (`<(pass show …)`), or by mistake /dev/zero.
            with path.open("rb") as source:
                text = source.read(PASSPHRASE_FILE_LIMIT + 1)
        except OSError as exc:
            raise UsageError(f"cannot read passphrase file: {exc.strerror}") from None
        if len(text) > PASSPHRASE_FILE_LIMIT:
            raise UsageError(
                f"the passphrase file holds more than {PASSPHRASE_FILE_LIMIT} bytes",
                hint="it should hold the passphrase alone",
            )
        text = text.removesuffix(b"\n").removesuffix(b"\r")
    elif sys.stdin.isatty():
        text = click.prompt(prompt, hide_input=True, confirmation_prompt=confirm, err=True).encode()
    else:
        raise UsageError("no passphrase given", hint="use --passphrase-file FILE in scripts")
    if not text:
        raise UsageError("the passphrase is empty")
    return text


json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
