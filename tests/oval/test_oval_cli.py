"""`stigscap oval-analyse` end to end: the real CLI, files in, results file out."""

from __future__ import annotations

import subprocess

from lxml import etree

from tests.oval.ovalcases_builder import (F, P, State, Test, cmdlet_item, cmdlet_object, collected,
                               connector, criteria, criterion, definition, definitions_doc,
                               external_variable, syschar_doc, variables_doc)
from tests.cli_helpers import assert_one_line_error, stigscap
from tests.conftest import require_tool

VAR = f"{P}:var:6993101"
OBJ = f"{P}:obj:6993101"
DEF = f"{P}:def:69931"


def _files(tmp_path, auths):
    d = tmp_path / "defs.xml"
    s = tmp_path / "sc.xml"
    d.write_bytes(definitions_doc(
        [definition(DEF, criteria("AND", criterion(f"{P}:tst:6993101")))],
        [Test(f"{P}:tst:6993101", OBJ, [f"{P}:ste:6993101"]).xml()], [cmdlet_object(OBJ)],
        [State(f"{P}:ste:6993101", [F("authmechanism", None, operation="pattern match",
                                      var_ref=VAR)]).xml()],
        [external_variable(VAR)]))
    s.write_bytes(syschar_doc([collected(OBJ, "complete", [1])],
                              [cmdlet_item(1, [connector(f"C{i}", a)
                                               for i, a in enumerate(auths)])]))
    return d, s


def test_cli_analyse_with_variables_and_var(tmp_path):
    d, s = _files(tmp_path, ["Tls", "Tls, ExchangeServer"])
    v = tmp_path / "vars.xml"
    v.write_bytes(variables_doc({VAR: ("string", ["^Tls$"])}))
    out = tmp_path / "res.xml"
    run = stigscap("oval-analyse", d, s, "--variables", v, "--results", out,
                   env={"SOURCE_DATE_EPOCH": "1790000000", "PATH": "/usr/bin:/bin"})
    assert run.rc == 0, run.err
    assert run.out.strip() == f"{DEF}: false"
    doc = etree.parse(str(out))
    assert doc.findtext("{*}generator/{*}timestamp") == "2026-09-21T14:13:20"
    run = stigscap("oval-analyse", d, s, "--var", f"{VAR}=(^|, )Tls(, |$)", "--results", out,
                   "--directives", "thin", "--timestamp", "2026-01-01T00:00:00")
    assert run.rc == 0 and run.out.strip() == f"{DEF}: true"
    require_tool("oscap")
    r = subprocess.run(["oscap", "oval", "validate", str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_cli_bad_input_one_line_no_output(tmp_path):
    d, s = _files(tmp_path, ["Tls"])
    out = tmp_path / "res.xml"
    assert_one_line_error(stigscap("oval-analyse", s, d, "--results", out),
                          "expected an OVAL oval_definitions document")
    (tmp_path / "broken.xml").write_text("<oval_definitions")
    assert_one_line_error(stigscap("oval-analyse", tmp_path / "broken.xml", s, "--results", out),
                          "not well-formed")
    assert_one_line_error(stigscap("oval-analyse", d, s, "--var", "novalue", "--results", out),
                          "ID=VALUE")
    assert not out.exists()
