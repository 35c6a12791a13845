"""The newsroom policy specification, written out by hand.

This table is the spec the shipped `policies/newsroom.cedar` must meet; the tests compare the
engine's decisions with it. It is deliberately not derived from the policies. Change a rule, change
its row here.

`Y` allowed at any time, `-` never, `E` allowed only once the embargo has lifted (and, for
`run-release`, with the approvals a release needs).
"""

from __future__ import annotations

from typing import Literal

Cell = Literal["Y", "-", "E"]

ROLES: tuple[str, ...] = ("admin", "editor-in-chief", "editor", "legal", "reporter", "intake")

# fmt: off
TABLE: dict[str, tuple[Cell, Cell, Cell, Cell, Cell, Cell]] = {
    # action             admin  chief  editor legal  reporter intake
    "checkin":          ("-",   "Y",   "Y",   "-",   "Y",     "Y"),
    "read":             ("-",   "Y",   "Y",   "Y",   "Y",     "-"),
    "search":           ("-",   "Y",   "Y",   "Y",   "Y",     "-"),
    "mark":             ("-",   "Y",   "Y",   "-",   "Y",     "-"),
    "tag":              ("-",   "Y",   "Y",   "-",   "Y",     "-"),
    "set-embargo":      ("-",   "Y",   "Y",   "-",   "-",     "-"),
    "lift-embargo":     ("-",   "Y",   "-",   "-",   "-",     "-"),
    "request-release":  ("-",   "Y",   "Y",   "-",   "-",     "-"),
    "approve-release":  ("-",   "Y",   "-",   "Y",   "-",     "-"),
    "run-release":      ("-",   "E",   "E",   "-",   "-",     "-"),
    "grant":            ("-",   "Y",   "Y",   "-",   "-",     "-"),
    "revoke":           ("-",   "Y",   "Y",   "-",   "-",     "-"),
    "manage-members":   ("Y",   "-",   "-",   "-",   "-",     "-"),
    "change-policy":    ("Y",   "Y",   "-",   "-",   "-",     "-"),
    "export-identity":  ("-",   "Y",   "-",   "-",   "-",     "-"),
    "confirm-time":     ("Y",   "Y",   "-",   "-",   "-",     "-"),
}
# fmt: on

# Which resources each action is asked about (the schema's `appliesTo`).
KINDS: dict[str, tuple[str, ...]] = {
    "checkin": ("Collection",),
    "read": ("Collection", "Document"),
    "search": ("Vault", "Collection"),
    "mark": ("Document",),
    "tag": ("Document",),
    "set-embargo": ("Collection", "Document"),
    "lift-embargo": ("Collection", "Document"),
    "request-release": ("Collection", "Document"),
    "approve-release": ("Collection", "Document"),
    "run-release": ("Collection", "Document"),
    "grant": ("Collection",),
    "revoke": ("Collection",),
    "manage-members": ("Vault",),
    "change-policy": ("Vault",),
    "export-identity": ("Collection",),
    "confirm-time": ("Vault",),
}


def cell(action: str, role: str) -> Cell:
    """The table's entry for one action and role."""
    return TABLE[action][ROLES.index(role)]


def ever_allowed(action: str, roles: frozenset[str]) -> bool:
    """Whether any of `roles` is ever allowed `action` (in some phase, with some approvals)."""
    return any(cell(action, role) != "-" for role in roles)
