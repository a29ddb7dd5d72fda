"""Feedback on long work: a spinner on a terminal's stderr, nothing when output is piped, no
colour with NO_COLOR (issue 15 item 6)."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli_helpers import stigscap

STIGSCAP = str(Path(sys.executable).parent / "stigscap")


@pytest.fixture(scope="module")
def ds(tmp_path_factory):
    out = tmp_path_factory.mktemp("progress") / "ds.xml"
    assert stigscap("generate", "-o", out).rc == 0
    return out


def _on_a_terminal(argv, env) -> bytes:
    """Run with stdin/stdout/stderr on a pseudo-terminal; everything it wrote."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(argv, stdin=follower, stdout=follower, stderr=follower, env=env,
                            close_fds=True)
    os.close(follower)
    data = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    proc.wait(timeout=120)
    os.close(leader)
    return data


def _argv(ds, tmp_path):
    return [STIGSCAP, "collect", "-d", str(ds), "--example", "-o", str(tmp_path / "sc.xml")]


def test_spinner_on_a_terminal(ds, tmp_path):
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120"}
    env.pop("NO_COLOR", None)
    out = _on_a_terminal(_argv(ds, tmp_path), env)
    assert b"collecting" in out and b"from the exports" in out
    assert b"\x1b[" in out                     # a terminal gets colour and cursor control


def test_no_spinner_when_piped(ds, tmp_path):
    r = subprocess.run(_argv(ds, tmp_path), capture_output=True, env=os.environ, timeout=120)
    assert r.returncode in (0, 1)
    assert b"collecting" not in r.stderr and b"\x1b[" not in r.stderr + r.stdout


def test_no_colour_with_no_color(ds, tmp_path):
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120", "NO_COLOR": "1"}
    out = _on_a_terminal(_argv(ds, tmp_path), env)
    assert b"collecting" in out
    assert not any(f"\x1b[{c}m".encode() in out for c in ("31", "32", "33", "35", "36", "1;31"))


def test_validate_shows_a_spinner_on_a_terminal_only(ds):
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120"}
    env.pop("NO_COLOR", None)
    out = _on_a_terminal([STIGSCAP, "validate", str(ds)], env)
    assert b"validating" in out and b"VALID" in out.upper()
    r = subprocess.run([STIGSCAP, "validate", str(ds)], capture_output=True, env=os.environ,
                       timeout=300)
    assert r.returncode == 0 and b"validating" not in r.stderr + r.stdout
