"""mypy over the whole package, as configured in pyproject.toml ([tool.mypy]: the engines
evaluator/oval and evaluator/xccdf checked strictly, the rest with mypy's defaults), must
report nothing. The same command, from the repository root:  python -m mypy
Skipped where mypy (the `test` extra) is not installed."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(importlib.util.find_spec("mypy") is None,
                    reason="mypy is not installed (pip install -e '.[test]')")
def test_mypy_reports_no_error(tmp_path):
    for folder in ("content", "generator", "evaluator", "schemas"):
        link = ROOT / "typecheck" / "stigscap" / folder
        assert link.is_dir() and link.resolve() == (ROOT / folder).resolve(), link
    env = {k: v for k, v in os.environ.items() if not k.startswith("MYPY")}
    r = subprocess.run([sys.executable, "-m", "mypy", "--config-file",
                        str(ROOT / "pyproject.toml"), "--cache-dir", str(tmp_path / "cache")],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-6000:] + r.stderr[-2000:]
    assert "Success: no issues found" in r.stdout
    # the package really was checked (all four folders, through the symlinks)
    checked = int(r.stdout.rsplit("in ", 1)[1].split()[0])
    assert checked >= 70, r.stdout
