"""A closed output pipe (`stigscap … | head`) ends the command quietly: no "internal error",
no traceback on stderr."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

STIGSCAP = str(Path(sys.executable).parent / "stigscap")
MINI = Path(__file__).parents[1] / "schemas" / "fixtures" / "mini-ds.xml"


@pytest.mark.parametrize("args", [["run", "--example", "--output", "{tmp}"], ["--help"],
                                  ["validate", "{mini}"],              # the launcher, no click
                                  ["validate", "--format", "json", "{mini}"],
                                  ["validate", "--schematron", "{mini}"]])   # through click
def test_closed_stdout_ends_quietly(tmp_path, args):
    argv = [STIGSCAP, *(a.format(tmp=tmp_path / "out", mini=MINI) for a in args)]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()            # the reader is gone before the first line is written
    err = proc.stderr.read().decode()
    rc = proc.wait(timeout=300)
    assert "internal error" not in err and "Traceback" not in err, err
    assert rc in (0, 1, 2)
