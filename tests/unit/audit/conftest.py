"""Fixtures for the audit log tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from vault.audit import AuditLog

from .helpers import Members, open_log


@pytest.fixture
def members() -> Members:
    return Members.of("alice", "bob", "carol")


@pytest.fixture
def log_path(tmp_path: Path) -> Path:
    return tmp_path / "audit.log"


@pytest.fixture
def log(log_path: Path) -> AuditLog:
    return open_log(log_path)
