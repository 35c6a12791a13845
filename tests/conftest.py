"""Fixtures shared by every test: where the shared corpus and test vectors live."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.vaults import TestVault, make_vault

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("VAULT_SHARED_DIR", REPO.parent / "shared"))


def _shared(sub: str) -> Path:
    path = SHARED / sub
    if not path.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"{path} is missing; CI must provide ../shared beside the checkout")
        pytest.skip(f"{path} is absent (set VAULT_SHARED_DIR to the shared folder)")
    return path


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """The third-party test corpus (`../shared/corpus`)."""
    return _shared("corpus")


@pytest.fixture(scope="session")
def age_vectors_dir() -> Path:
    """The C2SP CCTV age test vectors (`../shared/vectors/age`)."""
    return _shared("vectors/age")


@pytest.fixture
def test_vault(tmp_path: Path) -> TestVault:
    """A fresh vault with alice, bob, carol and a collection `leak` (alice and bob)."""
    return make_vault(tmp_path)
