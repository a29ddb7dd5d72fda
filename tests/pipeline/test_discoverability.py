"""Man pages made from the commands, shell completion through the lazy command table, and
`--version` (issue 15 item 11)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest

import stigscap
from stigscap.evaluator.cli.main import COMMANDS
from tests.cli_helpers import stigscap as run_stigscap

STIGSCAP = str(Path(sys.executable).parent / "stigscap")


def test_man_pages_cover_every_command_and_option(tmp_path):
    import importlib
    out = tmp_path / "man"
    assert run_stigscap("man", "-o", out, "--timestamp", "2026-12-01T00:00:00Z").rc == 0
    assert {p.name for p in out.iterdir()} == {"stigscap.1"} | {f"stigscap-{n}.1"
                                                               for n in COMMANDS}
    for name, (module, _) in COMMANDS.items():
        cmd = next(c for c in importlib.import_module(f"stigscap.evaluator.cli.{module}").COMMANDS
                   if c.name == name)
        page = (out / f"stigscap-{name}.1").read_text()
        assert page.startswith(f'.TH "STIGSCAP-{name.upper()}" 1 "2026-12-01"')
        for param in cmd.params:
            if isinstance(param, click.Option) and not param.hidden:
                assert param.opts[0] in page, (name, param.opts[0])
    again = tmp_path / "again"
    assert run_stigscap("man", "-o", again, "--timestamp", "2026-12-01T00:00:00Z").rc == 0
    assert all((again / p.name).read_bytes() == p.read_bytes() for p in out.iterdir())


@pytest.mark.skipif(not shutil.which("groff"), reason="groff not installed")
def test_man_pages_render_without_warnings(tmp_path):
    assert run_stigscap("man", "-o", tmp_path).rc == 0
    for page in sorted(tmp_path.iterdir()):
        r = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", str(page)],
                           capture_output=True, text=True)
        assert r.returncode == 0 and r.stderr == "", (page.name, r.stderr)


def test_shell_completion_knows_the_commands():
    env = {**os.environ, "COMP_WORDS": "stigscap ta", "COMP_CWORD": "1",
           "_STIGSCAP_COMPLETE": "bash_complete"}
    r = subprocess.run([STIGSCAP], capture_output=True, text=True, env=env, timeout=60)
    assert "plain,tailor" in r.stdout.splitlines()
    env["_STIGSCAP_COMPLETE"] = "bash_source"
    r = subprocess.run([STIGSCAP], capture_output=True, text=True, env=env, timeout=60)
    assert "_stigscap_completion()" in r.stdout


def test_version_is_the_package_version():
    r = subprocess.run([STIGSCAP, "--version"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.strip() == f"stigscap, version {stigscap.__version__}"
