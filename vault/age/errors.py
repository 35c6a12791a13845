"""Errors raised by the age format.

Every malformed, tampered or truncated input raises an `AgeError`. The subclasses say at which
stage the file was refused (header, header MAC, identity match, payload) — the stages the C2SP
test vectors distinguish — so a caller or a test can tell a parsing bug from tampering. Messages
are short and fixed: they never carry key material, stanza contents or cryptography's own
exception text.
"""

from vault.errors import IntegrityError


class AgeError(IntegrityError):
    """The age file (or key string) is malformed, tampered with or truncated."""


class HeaderError(AgeError):
    """The header does not parse, or a stanza addressed to one of our identities is malformed."""


class HeaderMACError(AgeError):
    """The header parsed and a file key was unwrapped, but the header MAC does not match."""


class PayloadError(AgeError):
    """The STREAM payload failed to authenticate, was truncated, or has trailing data."""


class NoIdentityMatch(AgeError):
    """None of the identities could unwrap the file key."""

    def __init__(self, message: str = "no identity matches this age file") -> None:
        super().__init__(message, hint="is the file encrypted to a key you hold?")
