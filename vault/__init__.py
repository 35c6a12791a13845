"""Embargo Vault: an encrypted, audited vault for leaked material held under embargo."""

__version__ = "0.1.0"
