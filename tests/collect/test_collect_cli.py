"""`stigscap collect` end to end: exit codes, atomic output, and oscap as an independent judge."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from stigscap.evaluator.cli.main import main
from tests.collect.collect_fixtures import (CONNECTORS, DEFS, STAMP, assert_valid_syschar,
                                            clixml_text, write_clixml)
from tests.conftest import require_tool


def _run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_example_collects_and_exits_0(tmp_path):
    out = tmp_path / "sc.xml"
    r = _run("collect", "-d", str(DEFS), "--example", "-o", str(out), "--timestamp", STAMP,
             "--interface", "Ethernet0,192.0.2.10,00-15-5D-01-02-03")
    assert r.exit_code == 0, r.output
    data = out.read_bytes()
    assert b"<primary_host_name>edge01.perimeter.example.mil</primary_host_name>" in data
    assert b"<ip_address>192.0.2.10</ip_address>" in data
    assert b'<arf:object-ref ref-id="asset0"/>' in data
    assert b"<oval:timestamp>2026-01-01T00:00:00Z</oval:timestamp>" in data
    assert_valid_syschar(out)


def test_output_is_deterministic_with_source_date_epoch(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    a, b = tmp_path / "a.xml", tmp_path / "b.xml"
    for out in (a, b):
        assert _run("collect", "-d", str(DEFS), "--example", "-o", str(out)).exit_code == 0
    assert a.read_bytes() == b.read_bytes()
    assert b"<oval:timestamp>2026-01-01T00:00:00Z</oval:timestamp>" in a.read_bytes()


def test_missing_export_writes_the_file_and_exits_1(tmp_path):
    d = tmp_path / "exports"
    d.mkdir()
    write_clixml(d / "Get-ReceiveConnector.xml", clixml_text())
    out = tmp_path / "sc.xml"
    r = _run("collect", "-d", str(DEFS), "--from", str(d), "-o", str(out), "--host-name",
             "EDGE01", "--asset-ref", "")
    assert r.exit_code == 1
    assert "1 of 2 object(s) not collected" in r.output
    data = out.read_bytes()
    assert b'flag="not collected"' in data and b"asset-identification" not in data
    assert_valid_syschar(out)


@pytest.mark.parametrize("args, message", [
    (["--from", "/nonexistent/dir"], "no such directory"),
    (["--from", "Get-ReceiveConnector=/nonexistent.xml"], "export file not found"),
    ([], "give --from"),
    (["--example", "--timestamp", "yesterday"], "not an ISO 8601"),
    (["--example", "--interface", "eth0"], "NAME,IP,MAC"),
    (["--example", "--asset-ref", "1 bad"], "NCName"),
])
def test_bad_arguments_exit_1_without_output(tmp_path, args, message):
    out = tmp_path / "sc.xml"
    r = _run("collect", "-d", str(DEFS), "-o", str(out), *args)
    assert r.exit_code == 1 and message in r.output
    assert not out.exists() and not list(tmp_path.iterdir())


def test_bad_definitions_leave_an_existing_output_untouched(tmp_path):
    out = tmp_path / "sc.xml"
    out.write_bytes(b"previous")
    bad = tmp_path / "defs.xml"
    bad.write_bytes(b"<oval_definitions><unclosed>")
    r = _run("collect", "-d", str(bad), "--example", "-o", str(out))
    assert r.exit_code == 1 and "not well-formed" in r.output
    assert out.read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["defs.xml", "sc.xml"]


def test_cli_in_a_subprocess_prints_one_line_no_traceback(tmp_path):
    exe = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "stigscap"
    if not exe.exists():
        pytest.skip("console script not installed in .venv")
    r = subprocess.run([str(exe), "collect", "-d", str(tmp_path / "none.xml"), "--example",
                        "-o", str(tmp_path / "o.xml")], capture_output=True, text=True)
    assert r.returncode == 1
    assert "Traceback" not in r.stderr and r.stderr.count("\n") == 1


def _analyse(tmp_path: Path, connectors) -> dict[str, str]:
    oscap = require_tool("oscap")
    d = tmp_path / "exports"
    d.mkdir()
    write_clixml(d / "Get-ReceiveConnector.xml", clixml_text(connectors))
    (d / "Get-ExchangeServer.xml").write_bytes(
        (Path(__file__).resolve().parents[2] / "content" / "examples" /
         "edge2013" / "Get-ExchangeServer.xml").read_bytes())
    sc = tmp_path / "sc.xml"
    r = _run("collect", "-d", str(DEFS), "--from", str(d), "-o", str(sc), "--timestamp", STAMP)
    assert r.exit_code == 0, r.output
    res = tmp_path / "results.xml"
    p = subprocess.run([oscap, "oval", "analyse", "--results", str(res), str(DEFS), str(sc)],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    text = res.read_text(encoding="utf-8")
    return dict(re.findall(r'<definition definition_id="([^"]+)" result="([^"]+)"', text))


def test_oscap_analyse_compliant_export_is_true(tmp_path):
    results = _analyse(tmp_path, [(n, "Tls") for n, _ in CONNECTORS])
    assert results == {"oval:mil.disa.stig:def:69931": "true",
                       "oval:mil.disa.stig:def:1": "true"}


def test_oscap_analyse_noncompliant_export_is_false(tmp_path):
    results = _analyse(tmp_path, CONNECTORS)
    assert results["oval:mil.disa.stig:def:69931"] == "false"
    assert results["oval:mil.disa.stig:def:1"] == "true"
