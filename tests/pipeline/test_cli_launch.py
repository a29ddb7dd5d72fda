"""The console script's launcher: which file's schema it prepares, and that the command it
runs is the command the user typed (the same output, the same exit code, as click alone)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from stigscap.evaluator.cli import launch
from stigscap.evaluator.cli.launch import validate_target
from stigscap.evaluator.cli.validate_files import plain_command_line

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


@pytest.mark.parametrize("argv, expected", [
    (["validate", "a.xml"], {"files": ["a.xml"]}),
    (["validate", "a.xml", "b c.xml"], {"files": ["a.xml", "b c.xml"]}),
    (["validate", "--xsd-only", "a.xml", "--no-warnings"],
     {"files": ["a.xml"], "xsd_only": True, "no_warnings": True}),
    (["validate", "--format", "json", "a.xml"], {"files": ["a.xml"], "fmt": "json"}),
    (["validate", "--format=text", "a.xml"], {"files": ["a.xml"], "fmt": "text"}),
    # everything else is click's to read
    (["validate", "--format", "xml", "a.xml"], None),
    (["validate", "a.xml", "--format"], None),
    (["validate", "--schema-dir", "/s", "a.xml"], None),
    (["validate", "--schematron", "a.xml"], None),
    (["validate", "--help"], None),
    (["validate", "-h", "a.xml"], None),
    (["validate", "--", "a.xml"], None),
    (["validate", "a.xml", "-odd.xml"], None),
    (["validate", "a\x1b[31m.xml"], None),
    (["validate", ""], None),
    (["validate", "--xsd-only"], None),
    (["--debug", "validate", "a.xml"], None),
    (["eval", "a.xml"], None),
    ([], None),
])
def test_plain_command_line(argv, expected):
    assert plain_command_line(argv) == expected


@pytest.mark.parametrize("exc, code, line", [
    (RuntimeError("boom\n  here"), 1, "stigscap: internal error: RuntimeError: boom here"),
    (KeyboardInterrupt(), 130, "stigscap: interrupted"),
])
def test_a_plain_run_fails_as_click_would(monkeypatch, capsys, exc, code, line):
    """What the click application does with an unexpected exception (main._Root.invoke),
    the launcher does when it runs validate without click."""
    from stigscap.evaluator.cli import validate_files

    def fail(*_a, **_k):
        raise exc

    monkeypatch.setattr(validate_files, "validate_files", fail)
    assert launch._validate_without_click({"files": ["a.xml"]}) == code
    assert capsys.readouterr().err == line + "\n"


def test_a_plain_run_does_not_load_click(schema_dir_or_skip):
    run = subprocess.run([sys.executable, "-X", "importtime", "-c",
                          "import sys; from stigscap.evaluator.cli.launch import main; "
                          "sys.argv[0] = 'stigscap'; main()", "validate", "--xsd-only", str(MINI)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and "valid sds@1.3" in run.stdout, run.stderr
    imported = [line.rsplit("|", 1)[-1].strip() for line in run.stderr.splitlines()
                if line.startswith("import time:")]
    assert "stigscap.schemas.validate" in imported and "click" not in imported


@pytest.mark.parametrize("args", [["--format", "json"], ["--xsd-only"], [], ["--no-warnings"],
                                  ["--format=json", "--no-warnings", "--xsd-only"],
                                  ["--schematron"]])
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


def test_launcher_runs_the_same_command_on_several_files(schema_dir_or_skip, tmp_path):
    """Several files in one command line, one of them missing and one a directory: the
    launcher's plain run and click print the same and end with the same exit code."""
    argv = ["validate", str(MINI), str(tmp_path / "missing.xml"), str(tmp_path), str(MINI)]
    assert plain_command_line(argv) is not None
    via_launcher = subprocess.run([_stigscap(), *argv], capture_output=True, text=True,
                                  timeout=120)
    via_click = subprocess.run(
        [sys.executable, "-c", "import sys; from stigscap.evaluator.cli.main import main; "
         "sys.argv[0] = 'stigscap'; main()", *argv], capture_output=True, text=True, timeout=120)
    assert (via_launcher.returncode, via_launcher.stdout, via_launcher.stderr) == \
        (via_click.returncode, via_click.stdout, via_click.stderr)
    assert via_launcher.returncode == 1 and via_launcher.stdout.count("valid sds@1.3") == 2


@pytest.mark.parametrize("encoding", ["utf-8", "latin-1", "ascii"])
def test_launcher_and_click_agree_whatever_the_output_encoding(schema_dir_or_skip, tmp_path,
                                                              encoding):
    """A file name outside ASCII, printed to a stdout in another encoding: the launcher
    leaves a stream that is not UTF-8 to click, so both print (or fail) alike."""
    import os
    import shutil

    target = tmp_path / "élan…ds.xml"
    shutil.copyfile(MINI, target)
    env = {**os.environ, "PYTHONIOENCODING": encoding}
    via_launcher = subprocess.run([_stigscap(), "validate", str(target)], capture_output=True,
                                  timeout=120, env=env)
    via_click = subprocess.run(
        [sys.executable, "-c", "import sys; from stigscap.evaluator.cli.main import main; "
         "sys.argv[0] = 'stigscap'; main()", "validate", str(target)],
        capture_output=True, timeout=120, env=env)
    assert (via_launcher.returncode, via_launcher.stdout, via_launcher.stderr) == \
        (via_click.returncode, via_click.stdout, via_click.stderr)
    assert via_launcher.returncode == 0, via_launcher.stderr
    if encoding == "latin-1":   # '…' is no latin-1 character: written as an escape
        assert "élan\\u2026ds.xml: valid" in via_launcher.stdout.decode("latin-1")
    else:                       # click.echo writes UTF-8 to an ASCII stream
        assert "élan…ds.xml: valid" in via_launcher.stdout.decode("utf-8")
