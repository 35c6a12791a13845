"""Fixtures for the policy tests: the shipped policies, an engine on them, a writable copy."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from vault.policy import Engine, PolicySet, shipped_policy_dir

SHIPPED = shipped_policy_dir()


@pytest.fixture(scope="session")
def shipped() -> PolicySet:
    """The shipped policy set, loaded once."""
    return PolicySet.load(SHIPPED)


@pytest.fixture(scope="session")
def engine(shipped: PolicySet) -> Engine:
    """An engine on the shipped policies."""
    return Engine(shipped)


@pytest.fixture
def policy_copy(tmp_path: Path) -> Path:
    """A copy of the shipped schema and default policies (not the examples) to edit."""
    target = tmp_path / "policies"
    target.mkdir()
    shutil.copy(SHIPPED / "schema.cedarschema", target)
    for path in SHIPPED.glob("*.cedar"):
        shutil.copy(path, target)
    return target
