"""PowerShell fix scripts in the content (issue 15 item 2): every rule whose DISA fix text
reads as `Set-` commands carries `<fix system="urn:xccdf:fix:script:powershell">`, guarded so it
changes only what differs, `-WhatIf` unless `$Apply`, parameterised by the rule's `equals`
Values; contradicting fixes are named, not emitted. Read by the real consumer, `oscap xccdf
generate fix`, and parsed with a PowerShell grammar (tree-sitter-powershell)."""

from __future__ import annotations

import os
import re
import subprocess

import pytest
from lxml import etree

from stigscap.content.loader import load_content
from stigscap.schemas.fixtext import fix_text_lines, parse_command
from stigscap.schemas.namespaces import XCCDF12
from tests.cli_helpers import stigscap
from tests.conftest import require_tool

TS = "2026-12-01T00:00:00Z"
SYSTEM = "urn:xccdf:fix:script:powershell"
PROFILE = "xccdf_mil.disa.stig_profile_MAC-1_Classified"
ALLOWED_CMDLETS = {"Where-Object", "ForEach-Object", "Write-Warning"}


def parse_powershell(source: str):
    try:
        import tree_sitter as ts
        import tree_sitter_powershell as tsp
    except ImportError:   # the test extras install both; CI must have them
        if os.environ.get("CI"):
            pytest.fail("tree-sitter-powershell is required in CI but not installed")
        pytest.skip("tree-sitter-powershell not installed")
    return ts.Parser(ts.Language(tsp.language())).parse(source.encode("utf-8"))


def assert_static_ok(script: str) -> None:
    """What a reviewer checks: it parses as PowerShell, runs only Get-/Set- of Exchange plus
    the pipeline and warning cmdlets, and every Set- waits for $Apply."""
    tree = parse_powershell(script)
    assert not tree.root_node.has_error, script
    code = "\n".join(line for line in script.splitlines() if not line.lstrip().startswith("#"))
    for name in re.findall(r"\b([A-Z][a-z]+-[A-Za-z]+)\b", code):
        assert name.startswith(("Get-", "Set-")) or name in ALLOWED_CMDLETS, name
    for line in code.splitlines():
        if re.search(r"\bSet-\w+", line):
            assert line.rstrip().endswith("-WhatIf:(-not $Apply)"), line
    assert "Invoke-Expression" not in code and "iex " not in code


@pytest.fixture(scope="module")
def ds(tmp_path_factory):
    out = tmp_path_factory.mktemp("fixes")
    path = out / "ds.xml"
    assert stigscap("generate", "-o", path, "--timestamp", TS).rc == 0
    return path


def _scripts(ds_path) -> dict[str, etree._Element]:
    root = etree.parse(str(ds_path)).getroot()
    return {rule.get("id").rsplit("_rule_", 1)[1]: fix
            for rule in root.iter(f"{{{XCCDF12}}}Rule")
            for fix in rule.iterfind(f"{{{XCCDF12}}}fix") if fix.get("system") == SYSTEM}


def test_every_scriptable_fix_text_has_a_script(ds):
    scripts = _scripts(ds)
    expected = set()
    for rule in load_content().rules:
        cmds = [parse_command(line) for line in fix_text_lines(rule.fix_text)]
        if cmds and all(c and c.verb == "Set" and c.props
                        and (c.identity is None or c.each_object) for c in cmds):
            expected.add(rule.rule_id)
            text = "".join(scripts[rule.rule_id].itertext())
            for c in cmds:
                assert f"# fix text: {c.line}" in text
                assert f"Get-{c.noun}" in text or "Write-Warning" in text  # all clash
    assert set(scripts) == expected
    assert len(expected) >= 30


def test_contradicting_fixes_warn_and_name_each_other(ds):
    scripts = _scripts(ds)
    by_version = {r.version: r.rule_id for r in load_content().rules}
    for me, other in (("EX13-EG-000090", "EX13-EG-000340"), ("EX13-EG-000340", "EX13-EG-000090")):
        text = "".join(scripts[by_version[me]].itertext())
        assert "Set-ReceiveConnector" not in text.replace("# fix text: Set-ReceiveConnector", "")
        assert "Write-Warning" in text and other in text and "AuthMechanism" in text


def test_values_are_substituted_by_oscap_from_profile_and_tailoring(ds, tmp_path):
    oscap = require_tool("oscap")
    scripts = _scripts(ds)
    hop = next(r for r in load_content().rules if r.version == "EX13-EG-000135")
    subs = [s.get("idref") for s in scripts[hop.rule_id].iter(f"{{{XCCDF12}}}sub")]
    assert subs and all(s.endswith("_value_receive_connector_maxhopcount") for s in subs)

    def generate_fix(*extra: str) -> str:
        out = tmp_path / f"fix{len(list(tmp_path.iterdir()))}.ps1"
        p = subprocess.run([oscap, "xccdf", "generate", "fix", "--template", SYSTEM,
                            "--profile", PROFILE, *extra, "--output", str(out), str(ds)],
                           capture_output=True, text=True, timeout=300)
        assert p.returncode == 0, p.stderr
        return out.read_text(encoding="utf-8")

    default = generate_fix()
    assert "Set-ReceiveConnector -Identity $_.Identity -MaxHopCount 60 -WhatIf:(-not $Apply)" in default
    assert default.count("# EX13-EG-") == len(scripts)
    assert_static_ok(default)

    tailoring = tmp_path / "t.xml"
    assert stigscap("tailor", ds, "--profile", "MAC-1_Classified", "--set-value",
                    "receive_connector_maxhopcount=30", "-o", tailoring,
                    "--timestamp", TS).rc == 0
    tailored = generate_fix("--tailoring-file", str(tailoring), "--profile",
                            "xccdf_mil.disa.stig_profile_MAC-1_Classified_tailored")
    assert "-MaxHopCount 30 -WhatIf" in tailored and "-MaxHopCount 60" not in tailored.replace(
        "# fix text: Set-ReceiveConnector -Identity <'IdentityName'> -MaxHopCount 60", "")


def test_oscap_writes_fixes_for_the_failing_rules_of_our_arf(tmp_path):
    oscap = require_tool("oscap")
    out = tmp_path / "run"
    assert stigscap("run", "--example", "-o", out, "--timestamp", TS).rc == 2
    arf = next(out.glob("*-arf.xml"))
    root = etree.parse(str(arf)).getroot()
    failing = {rr.get("idref") for rr in root.iter(f"{{{XCCDF12}}}rule-result")
               if rr.findtext(f"{{{XCCDF12}}}result") == "fail"}
    versions = {r.get("id"): r.findtext(f"{{{XCCDF12}}}version")
                for r in root.iter(f"{{{XCCDF12}}}Rule")}
    scripted = {rid for rid in failing if any(f.get("system") == SYSTEM for r in root.iter(
        f"{{{XCCDF12}}}Rule") if r.get("id") == rid for f in r.iterfind(f"{{{XCCDF12}}}fix"))}
    assert scripted
    script = tmp_path / "fix.ps1"
    p = subprocess.run([oscap, "xccdf", "generate", "fix", "--template", SYSTEM, "--result-id",
                        "xccdf_mil.disa.stig_testresult_MAC-1_Classified", "--output", str(script),
                        str(arf)], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    text = script.read_text(encoding="utf-8")
    assert set(re.findall(r"^# (EX13-EG-\d+) ", text, re.M)) == {versions[r] for r in scripted}
    assert_static_ok(text)


def test_stigscap_fix_script_parses_as_powershell(tmp_path):
    out = tmp_path / "run"
    assert stigscap("run", "--example", "-o", out, "--timestamp", TS).rc == 2
    arf = next(out.glob("*-arf.xml"))
    assert stigscap("fix", arf, "-o", tmp_path / "remediate.ps1", "--timestamp", TS).rc == 0
    text = (tmp_path / "remediate.ps1").read_text(encoding="utf-8-sig")
    tree = parse_powershell(text)
    assert not tree.root_node.has_error, text
    assert "CONFLICT" in text and "Set-" in text


def test_the_grammar_check_catches_a_broken_script():
    tree = parse_powershell("Get-X | Where-Object { ([string]$_.A -ne 'b' } | ForEach-Object {\n")
    assert tree.root_node.has_error
