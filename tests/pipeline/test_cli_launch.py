"""The console script's launcher: which file's schema it prepares, and that the command it
runs is the command the user typed (the same output, the same exit code, as click alone)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from stigscap.evaluator.cli.launch import validate_target

MINI = Path(__file__).parents[1] / "schemas" / "fixtures" / "mini-ds.xml"


@pytest.mark.parametrize("argv, expected", [
    (["validate", "a.xml"], ("a.xml", None)),
    (["validate", "a.xml", "b.xml"], ("a.xml", None)),
    (["--debug", "validate", "--xsd-only", "a.xml"], ("a.xml", None)),
    (["validate", "--schema-dir", "/s", "a.xml"], ("a.xml", "/s")),
    (["validate", "--schema-dir=/s", "--format", "json", "a.xml"], ("a.xml", "/s")),
    (["validate", "--format=json", "--no-warnings", "a.xml"], ("a.xml", None)),
    (["validate", "--", "-odd-name.xml"], ("-odd-name.xml", None)),
    (["validate", "--format", "json"], None),          # no file: nothing to prepare
    (["validate"], None),
    (["eval", "a.xml"], None),                          # other commands: nothing
    (["--help"], None),
    ([], None),
])
def test_validate_target(argv, expected):
    assert validate_target(argv) == expected


def _stigscap() -> str:
    return str(Path(sys.executable).with_name("stigscap"))


@pytest.mark.parametrize("args", [["--format", "json"], ["--xsd-only"], []])
def test_launcher_runs_the_same_command(schema_dir_or_skip, args, tmp_path):
    """Through the launcher (the installed script, which ends a validate run without the
    interpreter's tear-down) and through click directly: same stdout, stderr and exit code,
    for a valid file, an invalid one (by a reference check, and by XSD) and a file that does
    not exist."""
    invalid = tmp_path / "invalid-ds.xml"
    invalid.write_text(MINI.read_text(encoding="utf-8").replace(
        "<win-def:verb>Get</win-def:verb>", "<win-def:verb>Set</win-def:verb>", 1), encoding="utf-8")
    # invalid by XSD alone: the launcher's early XSD pass finds it invalid, the command words it
    xsd_invalid = tmp_path / "xsd-invalid-ds.xml"
    xsd_invalid.write_text(MINI.read_text(encoding="utf-8").replace(
        "<win-def:cmdlet_test id", "<win-def:cmdletx_test id", 1).replace(
        "</win-def:cmdlet_test>", "</win-def:cmdletx_test>", 1), encoding="utf-8")
    codes = []
    for target in (str(MINI), str(invalid), str(xsd_invalid), str(tmp_path / "missing.xml")):
        via_launcher = subprocess.run([_stigscap(), "validate", *args, target],
                                      capture_output=True, text=True, timeout=120)
        via_click = subprocess.run(
            [sys.executable, "-c", "import sys; from stigscap.evaluator.cli.main import main; "
             "sys.argv[0] = 'stigscap'; main()", "validate", *args, target],
            capture_output=True, text=True, timeout=120)
        assert (via_launcher.returncode, via_launcher.stdout, via_launcher.stderr) == \
            (via_click.returncode, via_click.stdout, via_click.stderr)
        codes.append(via_launcher.returncode)
    assert codes == [0, 2, 2, 1] and "missing.xml" in via_launcher.stderr


@pytest.fixture
def schema_dir_or_skip():
    from tests.schemas.conftest import require_schema_dir
    return require_schema_dir()
