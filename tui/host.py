"""How screens and widgets reach the app's session and clock without importing the app."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.dom import DOMNode

from tui.session import SessionLocked, VaultSession

if TYPE_CHECKING:
    from tui.app import VaultApp


def vault_app(node: DOMNode) -> VaultApp:
    """The running `VaultApp`."""
    return cast("VaultApp", node.app)


def session(node: DOMNode) -> VaultSession:
    """The unlocked session (safe to call from a worker thread).

    Raises:
        SessionLocked: the vault is locked.
    """
    current = vault_app(node).session
    if current is None or current.closed:
        raise SessionLocked("the vault is locked")
    return current
