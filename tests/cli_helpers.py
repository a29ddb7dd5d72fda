"""Run the real `stigscap` command line in a subprocess (as a user would)."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass


@dataclass
class Run:
    rc: int
    out: str
    err: str


def stigscap(*args: str, cwd=None, env=None, timeout: float = 300) -> Run:
    p = subprocess.run([sys.executable, "-m", "stigscap.evaluator.cli.main", *map(str, args)],
                       capture_output=True, text=True, cwd=cwd, env=env, timeout=timeout)
    return Run(p.returncode, p.stdout, p.stderr)


def assert_one_line_error(run: Run, *needles: str) -> None:
    assert run.rc == 1, (run.rc, run.out, run.err)
    lines = [line for line in run.err.splitlines() if line.strip()]
    assert len(lines) == 1, run.err
    assert "Traceback" not in run.err
    assert lines[0].startswith("stigscap: ")
    for n in needles:
        assert n in lines[0], (n, lines[0])
