"""ARF result data streams: envelope + every embedded report on its own + cross-references.

The ARF is made by the reference tool (`oscap xccdf eval --results-arf`) from our small
family-test data stream, so the valid case is real oscap output, not a hand-written guess.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from stigscap.schemas.validate import check_file

FIXTURES = Path(__file__).with_name("fixtures")
PROFILE = "xccdf_mil.disa.stig_profile_MAC-1_Classified"


def _require_oscap() -> str:
    import os
    import shutil

    path = shutil.which("oscap")
    if path:
        return path
    if os.environ.get("CI"):
        pytest.fail("oscap is required in CI but not installed")
    pytest.skip("oscap not installed")


@pytest.fixture(scope="module")
def oscap_arf(tmp_path_factory) -> str:
    oscap = _require_oscap()
    out = tmp_path_factory.mktemp("arf") / "arf.xml"
    proc = subprocess.run([oscap, "xccdf", "eval", "--profile", PROFILE, "--results-arf", str(out),
                           str(FIXTURES / "family-ds.xml")], capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode in (0, 2), proc.stderr
    return out.read_text(encoding="utf-8")


def _mutate(tmp_path, text, old, new, count=1):
    assert old in text, old
    p = tmp_path / "arf.xml"
    p.write_text(text.replace(old, new, count), encoding="utf-8")
    return p


def _errors(path):
    return [p for p in check_file(path).problems if p.severity == "error"]


def test_oscap_arf_is_valid(schema_dir, oscap_arf, tmp_path):
    p = tmp_path / "arf.xml"
    p.write_text(oscap_arf)
    result = check_file(p)
    assert result.kind == "arf@1.1"
    assert result.errors == []
    # what SCAPVal says of oscap's ARF too (SHOULD): default rule attributes left implicit,
    # system characteristics that do not name the asset
    assert {(p.rule, p.severity) for p in result.problems} == {("A-26-1", "warning"),
                                                               ("RES-306-1", "warning")}


def test_invalid_testresult_inside_arf_is_caught(schema_dir, oscap_arf, tmp_path):
    """`oscap ds rds-validate` checks only the envelope (arf:content is lax); we check each report."""
    p = _mutate(tmp_path, oscap_arf, "<result>pass</result>", "<result>passed-ish</result>")
    rds = subprocess.run([_require_oscap(), "ds", "rds-validate", str(p)], capture_output=True,
                         check=False)
    assert rds.returncode == 0  # the gap we close
    errs = _errors(p)
    assert any(e.rule == "XSD xccdf@1.2" and "passed-ish" in e.message for e in errs), errs
    text = p.read_text()
    assert errs[0].line == text[:text.index("passed-ish")].count("\n") + 1
    assert "/arf:reports/arf:report" in errs[0].path and "TestResult" in errs[0].path


def test_invalid_oval_results_inside_arf_is_caught(schema_dir, oscap_arf, tmp_path):
    p = _mutate(tmp_path, oscap_arf, 'result="true"', 'result="truthy"')
    errs = _errors(p)
    assert any(e.rule.startswith("XSD oval-results@") for e in errs), errs


def test_res_370_check_content_ref_to_report(schema_dir, oscap_arf, tmp_path):
    p = _mutate(tmp_path, oscap_arf, 'href="#oval0"', 'href="#oval9"')
    assert "RES-370-1" in {e.rule for e in _errors(p)}
    p = _mutate(tmp_path, oscap_arf, 'href="#oval0"', 'href="#xccdf1"')
    assert "RES-370-1" in {e.rule for e in _errors(p)}


def test_res_304_target_id_ref(schema_dir, oscap_arf, tmp_path):
    p = _mutate(tmp_path, oscap_arf, 'name="asset0" href=""', 'name="asset7" href=""')
    errs = _errors(p)
    assert [e.rule for e in errs] == ["RES-304-1"]
    assert "asset0" in errs[0].message


def test_relationship_subject_dangling(schema_dir, oscap_arf, tmp_path):
    p = _mutate(tmp_path, oscap_arf, 'subject="xccdf1"', 'subject="xccdf9"')
    rules = {e.rule for e in _errors(p)}
    assert "ref:arf-relationship" in rules
    assert "XSD arf@1.1" in rules  # the ARF XSD keyref agrees


def test_rule_result_idref_checked_against_embedded_benchmark(schema_dir, oscap_arf, tmp_path):
    p = _mutate(tmp_path, oscap_arf, '<rule-result idref="xccdf_mil.disa.stig_rule_SV-84553r1_rule"',
                '<rule-result idref="xccdf_mil.disa.stig_rule_SV-1r1_rule"')
    assert "ref:xccdf-rule-result" in {e.rule for e in _errors(p)}


def test_res_253_benchmark_href(schema_dir, oscap_arf, tmp_path):
    p = _mutate(tmp_path, oscap_arf, 'benchmark href="#scap_mil.disa.stig_comp_test-xccdf.xml"',
                'benchmark href="#scap_mil.disa.stig_comp_test-oval.xml"')
    # SCAPVal's RES-253-2 only asks for an existing component; ours asks for its Benchmark
    assert "ref:arf-benchmark" in {e.rule for e in _errors(p)}


def test_standalone_testresult_is_xsd_only(cli, schema_dir, oscap_arf, tmp_path):
    from lxml import etree

    from stigscap.schemas import namespaces as ns
    from stigscap.schemas.xmlio import parse_xml_bytes

    tr = parse_xml_bytes(oscap_arf.encode()).getroot().find(f".//{{{ns.XCCDF12}}}TestResult")
    p = tmp_path / "tr.xml"
    p.write_bytes(etree.tostring(tr, xml_declaration=True, encoding="UTF-8"))
    res = cli("validate", "--format", "json", p)
    assert res.exit_code == 0, res.stdout  # idrefs into an absent Benchmark are not errors
    assert json.loads(res.stdout)["files"][0]["kind"] == "xccdf@1.2"
    bad = tmp_path / "tr-bad.xml"
    bad.write_text(p.read_text().replace("<result>pass</result>", "<result>nope</result>"))
    assert cli("validate", bad).exit_code == 2


def test_standalone_oval_results_and_item_refs(cli, schema_dir, oscap_arf, tmp_path):
    from lxml import etree

    from stigscap.schemas import namespaces as ns
    from stigscap.schemas.xmlio import parse_xml_bytes

    res_el = parse_xml_bytes(oscap_arf.encode()).getroot().find(f".//{{{ns.OVAL_RES}}}oval_results")
    p = tmp_path / "results.xml"
    p.write_bytes(etree.tostring(res_el, xml_declaration=True, encoding="UTF-8"))
    result = check_file(p)
    assert result.kind.startswith("oval-results@") and result.problems == []
    text = p.read_text()
    tested = text[text.index("<tested_item"):]
    item_id = tested.split('item_id="', 1)[1].split('"', 1)[0]
    bad = tmp_path / "results-bad.xml"
    bad.write_text(text.replace(f'<tested_item item_id="{item_id}"', '<tested_item item_id="999999"', 1))
    rules = {e.rule for e in check_file(bad).errors}
    assert "ref:oval-item" in rules


CPE_LANG = """<?xml version="1.0"?>
<cpe-lang:platform-specification xmlns:cpe-lang="http://cpe.mitre.org/language/2.0">
  <cpe-lang:platform id="exchange2013edge">
    <cpe-lang:logical-test operator="AND" negate="false">
      <cpe-lang:fact-ref name="cpe:/a:microsoft:exchange_server:2013"/>
    </cpe-lang:logical-test>
  </cpe-lang:platform>
</cpe-lang:platform-specification>
"""


def test_cpe_language_document(cli, schema_dir, tmp_path):
    p = tmp_path / "platform.xml"
    p.write_text(CPE_LANG)
    res = cli("validate", p)
    assert res.exit_code == 0 and "valid cpe-language@2.3" in res.stdout
    p.write_text(CPE_LANG.replace('operator="AND"', 'operator="XOR"'))
    assert cli("validate", p).exit_code == 2
