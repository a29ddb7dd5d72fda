"""Shared test helpers: where ../shared is, and skipping cleanly when it is not there."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("STIGSCAP_SHARED", REPO.parent / "shared"))
SAMPLES = SHARED / "samples"


SHARED_SKIP = "reference file not available: "


def shared_file(*parts: str) -> Path:
    """A file under ../shared; the test is skipped (not failed) when it is absent."""
    p = SHARED.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"{SHARED_SKIP}{p}")
    return p


def _reference_group(path: str) -> str:
    """What a missing reference file is, for the skip summary."""
    name = Path(path).name
    if "scapval" in Path(path).parts:
        return "SCAPVal"
    if name.endswith("-xccdf.xml"):
        return "DISA XCCDF"
    if name.endswith((".ckl", ".cklb")):
        return "CKL/CKLB samples"
    if name.endswith(".xsd"):
        return "CKL schema"
    return name


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """One line when tests skipped for want of ../shared: how many, why, which data."""
    groups: dict[str, int] = {}
    for rep in terminalreporter.stats.get("skipped", []):
        longrepr = getattr(rep, "longrepr", None)
        reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else ""
        at = reason.find(SHARED_SKIP)
        if at < 0:
            continue
        group = _reference_group(reason[at + len(SHARED_SKIP):].strip())
        groups[group] = groups.get(group, 0) + 1
    if not groups:
        return
    total = sum(groups.values())
    why = (f"{SHARED} not found" if not SHARED.is_dir()
           else f"files missing from {SHARED}")
    kinds = ", ".join(f"{g} {n}" for g, n in sorted(groups.items(), key=lambda x: (-x[1], x[0])))
    terminalreporter.write_line(
        f"reference data: {total} test{'s' if total != 1 else ''} skipped, {why} ({kinds}); "
        "set STIGSCAP_SHARED to the reference data directory to run them")


def require_tool(name: str) -> str:
    """Path of an external tool; skipped outside CI, a hard failure in CI (CI installs it)."""
    path = shutil.which(name)
    if path:
        return path
    if os.environ.get("CI"):
        pytest.fail(f"{name} is required in CI but not installed")
    pytest.skip(f"{name} not installed")
