"""The terminal app (`vault tui`): Textual screens over `vault.service.Vault`, and nothing else.

The app reaches the vault only through `vault.service`; the library never imports this package
(an architecture test keeps it so). `tui.app.VaultApp` is the entry point.
"""
