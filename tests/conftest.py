"""Shared test helpers: where ../shared is, and skipping cleanly when it is not there."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("STIGSCAP_SHARED", REPO.parent / "shared"))
SAMPLES = SHARED / "samples"


def shared_file(*parts: str) -> Path:
    """A file under ../shared; the test is skipped (not failed) when it is absent."""
    p = SHARED.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"reference file not available: {p}")
    return p


def require_tool(name: str) -> str:
    """Path of an external tool; skipped outside CI, a hard failure in CI (CI installs it)."""
    path = shutil.which(name)
    if path:
        return path
    if os.environ.get("CI"):
        pytest.fail(f"{name} is required in CI but not installed")
    pytest.skip(f"{name} not installed")
