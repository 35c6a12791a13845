"""Command palette entries (Ctrl+P) for the main actions: check in, embargoes, releases, audit,
lock, open a collection.

Collection names come from the vault, so they are escaped and shown as plain content, never
through the palette's markup-reading highlighter.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content

from tui.host import vault_app
from tui.widgets.safe import shown


class VaultCommands(Provider):
    """The app's own commands; none while the vault is locked."""

    def _commands(self) -> list[tuple[str, Callable[[], object], str]]:
        app = vault_app(self.screen)
        current = app.session
        if current is None or current.closed:
            return []
        commands: list[tuple[str, Callable[[], object], str]] = [
            ("Check in material", app.action_check_in, "open the check-in screen"),
            ("Embargoes", app.action_embargoes, "see, set, extend or lift embargoes"),
            ("Release queue", app.action_releases, "request, approve and run releases"),
            ("Audit log", app.action_audit, "read and verify the audit log"),
            ("Dashboard", app.action_dashboard, "back to the dashboard"),
            ("Lock the vault", app.action_lock, "close the vault and ask for the passphrase"),
        ]
        for name in current.collections:
            commands.append(
                (f"Open collection: {shown(name)}", partial(app.switch_collection, name), "browse")
            )
        return commands

    async def discover(self) -> Hits:
        for text, command, help_text in self._commands():
            yield DiscoveryHit(Content(text), command, text=text, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, command, help_text in self._commands():
            score, offsets = matcher.fuzzy_search.match(matcher.query, text)
            if score > 0:
                yield Hit(score, _highlight(text, offsets), command, text=text, help=help_text)


def _highlight(text: str, offsets: Sequence[int]) -> Content:
    """`text` as plain content (never markup), the matched letters underlined."""
    content = Content(text)
    for offset in offsets:
        content = content.stylize("bold underline", offset, offset + 1)
    return content
