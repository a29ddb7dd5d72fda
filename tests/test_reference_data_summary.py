"""Tests that need ../shared skip cleanly; the run then ends with one line saying how many,
why, and which reference data (DISA XCCDF, CKL/CKLB samples, …) they wanted."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO, shared_file

V1R5 = "U_MS_Exchange_2013_Edge_Transport_Server_STIG_V1R5_Manual-xccdf.xml"
SELECTION = ["tests/stig/test_stig_disa_reader.py", "tests/checklists/test_checklist_merge.py"]


def _pytest(shared: Path, *extra: str) -> list[str]:
    env = dict(os.environ, STIGSCAP_SHARED=str(shared))
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
                           *extra, *SELECTION], capture_output=True, text=True, cwd=REPO,
                          env=env, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return [line for line in proc.stdout.splitlines() if line.startswith("reference data:")]


def test_one_line_names_the_skipped_reference_data(tmp_path):
    missing = tmp_path / "no-shared-here"
    for extra in ((), ("-n", "2")):              # also through xdist's controller
        assert _pytest(missing, *extra) == [
            f"reference data: 4 tests skipped, {missing} not found (DISA XCCDF 3, CKL/CKLB "
            "samples 1); set STIGSCAP_SHARED to the reference data directory to run them"]


def test_partial_reference_data_and_complete_reference_data(tmp_path):
    real = shared_file("samples", V1R5).parents[1]
    partial = tmp_path / "shared"
    (partial / "samples").mkdir(parents=True)
    (partial / "samples" / V1R5).symlink_to(real / "samples" / V1R5)
    assert _pytest(partial) == [
        f"reference data: 3 tests skipped, files missing from {partial} (DISA XCCDF 2, "
        "CKL/CKLB samples 1); set STIGSCAP_SHARED to the reference data directory to run them"]
    assert _pytest(real) == []                   # nothing skipped: no line
