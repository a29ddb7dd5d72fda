"""`stigscap fix ARF -o remediate.ps1` (issue 15 item 2): Set- commands for the failing
objects only, guarded and -WhatIf unless -Apply, contradictory rules named and left out."""

from __future__ import annotations

import re

import pytest
from lxml import etree

from tests.cli_helpers import assert_one_line_error, stigscap

X = "{http://checklists.nist.gov/xccdf/1.2}"
TS = "2026-12-01T00:00:00Z"


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    out = tmp_path_factory.mktemp("fix")
    assert stigscap("run", "--example", "--output", out / "run", "--timestamp", TS).rc == 2
    arf = next((out / "run").glob("*-arf.xml"))
    r = stigscap("fix", arf, "-o", out / "fix.ps1", "--timestamp", TS)
    assert r.rc == 0, r.err
    return arf, (out / "fix.ps1").read_bytes(), r.out


def _failing(arf) -> dict[str, list[str]]:
    root = etree.parse(str(arf)).getroot()
    versions = {r.get("id"): r.findtext(f"{X}version") for r in root.iter(f"{X}Rule")}
    out = {}
    for rr in root.iter(f"{X}rule-result"):
        if rr.findtext(f"{X}result") == "fail":
            out[versions[rr.get("idref")]] = [i.text for i in rr.iter(f"{X}instance")]
    return out


def test_script_changes_only_failing_objects_guarded_and_whatif(example):
    arf, data, _ = example
    assert data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data
    text = data.decode("utf-8-sig")
    assert "param([switch]$Apply)" in text
    failing = _failing(arf)
    sets = [ln.strip() for ln in text.splitlines() if ln.strip().startswith("Set-")]
    assert sets, text
    lines = text.splitlines()
    for i, ln in enumerate(lines):
        if ln.strip().startswith("Set-"):
            assert ln.rstrip().endswith("-WhatIf:(-not $Apply)"), ln
            assert lines[i - 1].startswith("if (") and lines[i - 2].startswith("$o = Get-"), ln
    # every command line is a Get-/Set- (nothing else is ever scripted)
    verbs = {m.group(1) for m in re.finditer(r"^\s*(?:\$o = )?([A-Z][a-z]+)-[A-Z]", text, re.M)}
    assert verbs <= {"Get", "Set"}
    # each -Identity is a failing object of the rule that the comment above names
    rule = None
    for ln in lines:
        m = re.match(r"# (EX13-EG-\d+) ", ln)
        if m:
            rule = m.group(1)
        m = re.search(r"^\s*Set-\w+ -Identity '((?:[^']|'')*)'", ln)
        if m:
            assert m.group(1).replace("''", "'") in failing[rule], (rule, ln)


def test_contradicting_rules_are_named_and_left_out(example):
    arf, data, out = example
    text = data.decode("utf-8-sig")
    failing = _failing(arf)
    assert {"EX13-EG-000090", "EX13-EG-000340"} <= set(failing)
    conflict = [ln for ln in text.splitlines() if ln.startswith("# CONFLICT")]
    assert len(conflict) == 1 and "EX13-EG-000090" in conflict[0] \
        and "EX13-EG-000340" in conflict[0] and "AuthMechanism" in conflict[0]
    assert "-AuthMechanism" not in text.replace(conflict[0], "")
    # the rules without a contradiction all get their change
    for rule in set(failing) - {"EX13-EG-000090", "EX13-EG-000340"}:
        assert f"# {rule} " in text, rule
    assert "1 conflict(s)" in out


def test_bad_input_is_a_one_line_error(tmp_path):
    bad = tmp_path / "bad.xml"
    bad.write_text("<x/>")
    assert_one_line_error(stigscap("fix", bad, "-o", tmp_path / "f.ps1"))
    assert not (tmp_path / "f.ps1").exists()
