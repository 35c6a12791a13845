"""The one error hierarchy of the vault.

Every failure a user can meet is a `VaultError` subclass carrying the process exit code the
command line maps it to (DESIGN §11) and an optional hint saying what to do next. Messages are
safe to print: they never carry secrets, and crypto failures carry no detail an attacker could use.
"""


class VaultError(Exception):
    """Base of every expected failure; `exit_code` 1 means "failed, with a reason"."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(VaultError):
    """The request itself is malformed: unknown names, bad arguments."""

    exit_code = 2


class NotFound(UsageError):
    """A named vault, member, collection or document does not exist (or is not visible)."""


class Refused(VaultError):
    """Refused by policy, embargo, missing approvals or the clock guard."""

    exit_code = 3


class AccessDenied(Refused):
    """The member holds no key for what was asked, or policy forbids it."""


class IntegrityError(VaultError):
    """Tampering or corruption. Deliberately detail-free when it comes from cryptography."""

    exit_code = 4


class BadCredentials(VaultError):
    """Wrong passphrase or unknown member."""

    exit_code = 5


class AuditUnavailable(VaultError):
    """The audit entry could not be written, so the action did not happen."""


class Cancelled(VaultError):
    """A long operation was cancelled; what was committed before stays."""


class VaultLocked(VaultError):
    """Another process holds the vault's writer lock."""
