"""`stigscap eval` end to end: generated data stream + syschar → ARF / XCCDF results / OVAL results.

Oracles: oscap (rds-validate, info, xccdf validate with full schematron, oval validate,
sds-validate), the official XSDs, and cross-reference checks the ARF XSD cannot make.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from lxml import etree

from stigscap.evaluator.cli.main import main
from stigscap.schemas.namespaces import ARF, CORE, DS, OVAL_RES, XCCDF12

from tests.xccdf.xccdf_syschar import OBJ_CONNECTORS, syschar_xml

from tests.conftest import REPO, require_tool

SCHEMAS = Path("/usr/share/openscap/schemas")
RULE = "xccdf_mil.disa.stig_rule_SV-84553r1_rule"
MANUAL = "xccdf_mil.disa.stig_rule_SV-99999r1_rule"
PROFILE = "xccdf_mil.disa.stig_profile_MAC-1_Classified"
VALUE = "xccdf_mil.disa.stig_value_receive_connector_authmechanism"
TS = "2026-01-01T00:00:00Z"
NS = {"arf": ARF, "core": CORE, "ds": DS, "x": XCCDF12, "res": OVAL_RES}


@pytest.fixture(scope="module")
def ds_path(tmp_path_factory) -> Path:
    """The real generator's data stream for the seed rule plus one manual rule."""
    d = tmp_path_factory.mktemp("content")
    (d / "rules").mkdir()
    shutil.copy(REPO / "content" / "benchmark.yaml", d / "benchmark.yaml")
    seed = REPO / "content" / "rules" / "EX13-EG-000340.yaml"
    shutil.copy(seed, d / "rules" / seed.name)
    manual = yaml.safe_load(seed.read_text())
    for key in ("check", "values", "family"):   # (issue 14: the check comes from the family)
        manual.pop(key, None)
    manual.update(group_id="V-69999", rule_id="SV-99999r1_rule", version="EX13-EG-009999",
                  severity="medium", title="A manual rule (no automated check).",
                  check_id="C-99999r1_chk", fix_id="F-99999r1_fix", ccis=["CCI-000366"])
    (d / "rules" / "EX13-EG-009999.yaml").write_text(yaml.safe_dump(manual))
    out = tmp_path_factory.mktemp("ds") / "ds.xml"
    r = CliRunner().invoke(main, ["generate", "--content", str(d), "-o", str(out),
                                  "--timestamp", "2026-01-01T00:00:00"])
    assert r.exit_code == 0, r.output
    return out


def run_eval(tmp_path, ds_path, syschar: bytes, *extra: str, profile: str | None = PROFILE,
             name: str = "host"):
    sc = tmp_path / f"{name}-sc.xml"
    sc.write_bytes(syschar)
    arf = tmp_path / f"{name}-arf.xml"
    args = ["eval", str(ds_path), "--system-characteristics", str(sc), "--results-arf",
            str(arf), "--timestamp", TS, *extra]
    if profile:
        args += ["--profile", profile]
    r = CliRunner().invoke(main, args)
    return r, arf


def rule_result(arf_path: Path, rule: str = RULE) -> etree._Element:
    doc = etree.parse(str(arf_path))
    rr = doc.find(f".//x:TestResult/x:rule-result[@idref='{rule}']", NS)
    assert rr is not None
    return rr


def result_of(arf_path: Path, rule: str = RULE) -> str:
    return rule_result(arf_path, rule).findtext("x:result", namespaces=NS)


# ------------------------------------------------------------------------------- verdicts
def test_all_tls_passes_exit_0(tmp_path, ds_path):
    r, arf = run_eval(tmp_path, ds_path, syschar_xml([("Default EDGE01", "Tls"),
                                                      ("Client EDGE01", "Tls")]))
    assert r.exit_code == 0, r.output
    assert result_of(arf) == "pass"
    assert result_of(arf, MANUAL) == "notchecked"
    tr = etree.parse(str(arf)).find(".//x:TestResult", NS)
    scores = {s.get("system"): (s.text, s.get("maximum")) for s in tr.findall("x:score", NS)}
    assert scores == {"urn:xccdf:scoring:default": ("100", "100"),
                      "urn:xccdf:scoring:flat": ("10", "10")}


def test_mixed_connectors_fail_with_connector_evidence_exit_2(tmp_path, ds_path):
    r, arf = run_eval(tmp_path, ds_path, syschar_xml([
        ("Default EDGE01", "Tls"), ("Relay EDGE01", "None"),
        ("Partner EDGE01", "BasicAuth, BasicAuthRequireTLS")]))
    assert r.exit_code == 2, r.output
    rr = rule_result(arf)
    assert rr.findtext("x:result", namespaces=NS) == "fail"
    messages = [m.text for m in rr.findall("x:message", NS)]
    assert any("'Relay EDGE01'" in m and "'None'" in m and "^Tls$" in m for m in messages)
    assert any("'Partner EDGE01'" in m and "BasicAuthRequireTLS" in m for m in messages)
    assert not any("Default EDGE01" in m for m in messages)
    assert [i.text for i in rr.findall("x:instance", NS)] == [
        "EDGE01\\Relay EDGE01", "EDGE01\\Partner EDGE01"]
    assert "Relay EDGE01" in r.output
    scores = {s.get("system"): s.text for s in
              etree.parse(str(arf)).findall(".//x:TestResult/x:score", NS)}
    assert scores["urn:xccdf:scoring:default"] == "0"
    # the OVAL report carries the item data (full directives: system characteristics)
    oval = etree.parse(str(arf)).find(".//arf:report[@id='oval0']/arf:content/res:oval_results",
                                      NS)
    assert "Relay EDGE01" in etree.tostring(oval, encoding="unicode")
    assert oval.find("res:directives/res:definition_false", NS).get("content") == "full"


def _tailoring(path: Path, selector: str, *, extra: str = "") -> Path:
    path.write_text(f"""<?xml version="1.0" encoding="UTF-8"?>
<Tailoring xmlns="http://checklists.nist.gov/xccdf/1.2" id="xccdf_mil.example_tailoring_site">
  <benchmark href="ds.xml"/>
  <version time="2026-01-01T00:00:00">1</version>
  <Profile id="xccdf_mil.example_profile_site" extends="{PROFILE}">
    <title>Site profile</title>
    <refine-value idref="{VALUE}" selector="{selector}"/>
    {extra}
  </Profile>
</Tailoring>
""")
    return path


@pytest.mark.parametrize("how", ["default", "refine-value", "set-value", "tailoring"])
def test_tls_exchangeserver_passes_only_under_includes(tmp_path, ds_path, how):
    sc = syschar_xml([("Default EDGE01", "Tls, ExchangeServer")])
    extra: list[str] = []
    profile = PROFILE
    if how == "refine-value":
        extra = ["--refine-value", "receive_connector_authmechanism=includes"]
    elif how == "set-value":
        extra = ["--set-value", f"{VALUE}=(^|, )Tls(, |$)"]
    elif how == "tailoring":
        extra = ["--tailoring", str(_tailoring(tmp_path / "t.xml", "includes"))]
        profile = "xccdf_mil.example_profile_site"
    r, arf = run_eval(tmp_path, ds_path, sc, *extra, profile=profile)
    expected = "fail" if how == "default" else "pass"
    assert result_of(arf) == expected, r.output
    assert r.exit_code == (2 if how == "default" else 0)
    tr = etree.parse(str(arf)).find(".//x:TestResult", NS)
    set_value = tr.find(f"x:set-value[@idref='{VALUE}']", NS).text
    assert set_value == ("^Tls$" if how == "default" else "(^|, )Tls(, |$)")
    # the exported value reached the OVAL engine as the external variable
    var = etree.parse(str(arf)).find(".//res:oval_results//res:tested_variable", NS)
    assert var.get("variable_id") == "oval:mil.disa.stig:var:6993101"
    assert var.text == set_value
    if how == "tailoring":
        doc = etree.parse(str(arf))
        assert doc.find(".//arf:report-request[@id='tailoring1']/arf:content/x:Tailoring",
                        NS) is not None
        assert tr.find("x:tailoring-file", NS) is not None
        assert tr.find("x:profile", NS).get("idref") == "xccdf_mil.example_profile_site"
        _split_and_check(arf, ds_path, tmp_path)
        # even the tailored string with both connector kinds still fails on None
        sc2 = syschar_xml([("A", "Tls, ExchangeServer"), ("B", "None")])
        r2, arf2 = run_eval(tmp_path, ds_path, sc2, *extra, profile=profile, name="h2")
        assert result_of(arf2) == "fail" and r2.exit_code == 2


def test_includes_does_not_accept_basicauthrequiretls(tmp_path, ds_path):
    r, arf = run_eval(tmp_path, ds_path, syschar_xml([("X", "BasicAuthRequireTLS")]),
                      "--refine-value", "receive_connector_authmechanism=includes")
    assert result_of(arf) == "fail" and r.exit_code == 2


@pytest.mark.parametrize("role,version", [("Mailbox", "Version 15.0 (Build 1497.2)"),
                                          ("Edge", "Version 15.1 (Build 2507.6)")])
def test_not_edge_or_not_2013_is_notapplicable(tmp_path, ds_path, role, version):
    r, arf = run_eval(tmp_path, ds_path, syschar_xml([("Relay", "None")], role=role,
                                                      version=version))
    assert r.exit_code == 0, r.output
    assert result_of(arf) == "notapplicable"
    assert result_of(arf, MANUAL) == "notapplicable"
    msg = rule_result(arf).findtext("x:message", namespaces=NS)
    assert "not the platform" in msg and "oval:mil.disa.stig:def:1" in msg
    tr = etree.parse(str(arf)).find(".//x:TestResult", NS)
    assert tr.find("x:score[@system='urn:xccdf:scoring:flat']", NS).get("maximum") == "0"


def test_item_error_gives_error_exit_1(tmp_path, ds_path):
    r, arf = run_eval(tmp_path, ds_path, syschar_xml(
        connector_status="error", connector_message="Get-ReceiveConnector: access denied"))
    assert r.exit_code == 1, r.output
    rr = rule_result(arf)
    assert rr.findtext("x:result", namespaces=NS) == "error"
    assert any("access denied" in (m.text or "") for m in rr.findall("x:message", NS))
    assert arf.exists()  # the results are still written: the error is a verdict, not a crash


def test_unselected_rule_is_notselected(tmp_path, ds_path):
    t = _tailoring(tmp_path / "t.xml", "exact",
                   extra=f'<select idref="{MANUAL}" selected="false"/>')
    r, arf = run_eval(tmp_path, ds_path, syschar_xml(), "--tailoring", str(t),
                      profile="xccdf_mil.example_profile_site")
    assert result_of(arf, MANUAL) == "notselected"
    assert result_of(arf) == "pass" and r.exit_code == 0


def test_no_profile_uses_benchmark_selection(tmp_path, ds_path):
    r, arf = run_eval(tmp_path, ds_path, syschar_xml(), profile=None)
    tr = etree.parse(str(arf)).find(".//x:TestResult", NS)
    assert tr.find("x:profile", NS) is None
    assert tr.get("id") == "xccdf_mil.disa.stig_testresult_default"
    assert result_of(arf) == "pass" and r.exit_code == 0


# --------------------------------------------------------------------------- ARF structure
def _split_and_check(arf_path: Path, ds_path: Path, tmp_path: Path) -> None:
    oscap = require_tool("oscap")
    r = subprocess.run([oscap, "ds", "rds-validate", str(arf_path)], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    r = subprocess.run([oscap, "info", str(arf_path)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Result Data Stream" in r.stdout

    doc = etree.parse(str(arf_path))
    root = doc.getroot()
    ids = {e.get("id") for e in root.iter(f"{{{ARF}}}report-request", f"{{{ARF}}}asset",
                                          f"{{{ARF}}}report")}
    rels = [(r.get("type"), r.get("subject"), [c.text for c in r.findall("core:ref", NS)])
            for r in root.iterfind("core:relationships/core:relationship", NS)]
    for _, subject, refs in rels:
        assert subject in ids and all(ref in ids for ref in refs)
    assert ("arfvocab:createdFor", "xccdf1", ["collection1"]) in rels
    about = [refs[0] for t, s, refs in rels if t == "arfvocab:isAbout" and s == "xccdf1"]
    assert about == ["asset0"]

    # TestResult: XSD only (its idrefs point into the Benchmark of the report-request)
    tr = root.find("arf:reports/arf:report[@id='xccdf1']/arf:content/x:TestResult", NS)
    xsd = etree.XMLSchema(etree.parse(str(SCHEMAS / "xccdf/1.2/xccdf_1.2.xsd")))
    tr_doc = etree.ElementTree(etree.fromstring(etree.tostring(tr)))
    assert xsd.validate(tr_doc), xsd.error_log
    tid = tr.find("x:target-id-ref", NS)
    assert tid.get("name") == about[0]
    assert tid.get("system") == "http://scap.nist.gov/schema/asset-identification/1.1"
    for attr in ("start-time", "end-time", "test-system"):
        assert tr.get(attr)
    assert tr.findtext("x:target-address", namespaces=NS)
    assert tr.findtext("x:identity", namespaces=NS)

    # the report-request holds the source data stream, byte-for-byte the same document
    coll = root.find("arf:report-requests/arf:report-request[@id='collection1']/arf:content/"
                     "ds:data-stream-collection", NS)
    source = etree.parse(str(ds_path)).getroot()
    assert etree.tostring(coll, method="c14n", exclusive=True) == \
        etree.tostring(source, method="c14n", exclusive=True)
    coll_file = tmp_path / "split-ds.xml"
    coll_file.write_bytes(etree.tostring(coll, xml_declaration=True, encoding="UTF-8"))
    r = subprocess.run([oscap, "ds", "sds-validate", str(coll_file)], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    bench_href = tr.find("x:benchmark", NS).get("href")
    assert bench_href.startswith("#")
    comp = coll.find(f"ds:component[@id='{bench_href[1:]}']", NS)
    assert comp is not None and comp.find("x:Benchmark", NS).get("id") == \
        tr.find("x:benchmark", NS).get("id")

    # every check-content-ref points at an arf:report holding oval_results; each validates
    reports = {rep.get("id"): rep for rep in root.iterfind("arf:reports/arf:report", NS)}
    hrefs = {ref.get("href") for ref in tr.iterfind(".//x:check-content-ref", NS)}
    oval_ids = [k for k in reports if k.startswith("oval")]
    assert oval_ids
    for href in hrefs:
        assert href.startswith("#") and href[1:] in reports
        assert reports[href[1:]].find("arf:content/res:oval_results", NS) is not None
    for rid in oval_ids:
        res = reports[rid].find("arf:content/res:oval_results", NS)
        f = tmp_path / f"split-{rid}.xml"
        f.write_bytes(etree.tostring(res, xml_declaration=True, encoding="UTF-8"))
        r = subprocess.run([oscap, "oval", "validate", str(f)], capture_output=True, text=True)
        assert r.returncode == 0, r.stdout + r.stderr
        assert res.findtext("{http://oval.mitre.org/XMLSchema/oval-results-5}generator/"
                            "{http://oval.mitre.org/XMLSchema/oval-common-5}schema_version") \
            == "5.11.2"


@pytest.mark.parametrize("connectors", [[("Default EDGE01", "Tls")],
                                        [("Default EDGE01", "Tls"), ("Relay", "None")]])
def test_arf_validates_and_cross_references(tmp_path, ds_path, connectors):
    r, arf = run_eval(tmp_path, ds_path, syschar_xml(connectors))
    assert r.exit_code in (0, 2)
    _split_and_check(arf, ds_path, tmp_path)
    # the project's own validator (XSD of every embedded report + SCAP 1.3 checks) agrees
    v = CliRunner().invoke(main, ["validate", str(arf)])
    assert v.exit_code == 0 and "valid arf@1.1" in v.output, v.output
    asset = etree.parse(str(arf)).find(".//arf:asset[@id='asset0']", NS)
    text = etree.tostring(asset, encoding="unicode")
    for expected in ("192.0.2.10", "00:15:5D:01:02:03", "EDGE01.example.mil", ">EDGE01<"):
        assert expected in text


def test_xccdf_results_merged_into_benchmark_pass_full_schematron(tmp_path, ds_path):
    oscap = require_tool("oscap")
    sc = tmp_path / "sc.xml"
    sc.write_bytes(syschar_xml([("Default EDGE01", "Tls"), ("Relay", "None")]))
    res, oval = tmp_path / "results.xml", tmp_path / "oval-results.xml"
    r = CliRunner().invoke(main, ["eval", str(ds_path), "--profile", "MAC-1_Classified",
                                  "--system-characteristics", str(sc), "--results", str(res),
                                  "--oval-results", str(oval), "--timestamp", TS])
    assert r.exit_code == 2, r.output
    p = subprocess.run([oscap, "xccdf", "validate", str(res)], capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    bench = etree.parse(str(res)).getroot()
    assert bench.tag == f"{{{XCCDF12}}}Benchmark"
    tr = bench.find("x:TestResult", NS)
    assert tr.find(f"x:rule-result[@idref='{RULE}']/x:result", NS).text == "fail"
    # outside an ARF the check keeps its data stream href
    assert tr.find(".//x:check-content-ref", NS).get("href").endswith("-oval.xml")
    p = subprocess.run([oscap, "oval", "validate", str(oval)], capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr


def test_output_is_deterministic(tmp_path, ds_path):
    sc = syschar_xml([("Default EDGE01", "Tls"), ("Relay", "None")])
    _, a1 = run_eval(tmp_path, ds_path, sc, name="one")
    _, a2 = run_eval(tmp_path, ds_path, sc, name="two")
    assert a1.read_bytes() == a2.read_bytes()
    tr = etree.parse(str(a1)).find(".//x:TestResult", NS)
    assert tr.get("end-time") == "2026-01-01T00:00:00"


def test_source_date_epoch_sets_the_time(tmp_path, ds_path):
    sc = tmp_path / "sc.xml"
    sc.write_bytes(syschar_xml())
    arf = tmp_path / "arf.xml"
    r = CliRunner().invoke(main, ["eval", str(ds_path), "--system-characteristics", str(sc),
                                  "--results-arf", str(arf)],
                           env={"SOURCE_DATE_EPOCH": "1767225600"})
    assert r.exit_code == 0, r.output
    tr = etree.parse(str(arf)).find(".//x:TestResult", NS)
    assert tr.get("start-time") == tr.get("end-time") == "2026-01-01T00:00:00"


# ------------------------------------------------------------------------------- bad input
def test_missing_profile_lists_available_profiles(tmp_path, ds_path):
    r, arf = run_eval(tmp_path, ds_path, syschar_xml(), profile="MAC-9_Nothing")
    assert r.exit_code == 1
    line = r.output.strip()
    assert "\n" not in line and "Traceback" not in line
    assert "MAC-9_Nothing" in line and "xccdf_mil.disa.stig_profile_MAC-3_Sensitive" in line
    assert not arf.exists()


def test_syschar_from_other_content_is_refused(tmp_path, ds_path):
    sc = syschar_xml().replace(OBJ_CONNECTORS.encode(), b"oval:org.example:obj:7")
    sc = sc.replace(b"oval:mil.disa.stig:obj:101", b"oval:org.example:obj:8")
    r, arf = run_eval(tmp_path, ds_path, sc)
    assert r.exit_code == 1
    assert "do not match" in r.output and "Traceback" not in r.output
    assert not arf.exists()


@pytest.mark.parametrize("bad", [b"<oval_system_characteristics", b"",
                                 b"<?xml version='1.0'?><foo/>"])
def test_invalid_syschar_is_an_error_without_output(tmp_path, ds_path, bad):
    r, arf = run_eval(tmp_path, ds_path, bad)
    assert r.exit_code == 1
    assert len(r.output.strip().splitlines()) == 1 and "Traceback" not in r.output
    assert not arf.exists()


def test_invalid_datastream_and_bad_options(tmp_path, ds_path):
    bad = tmp_path / "bad.xml"
    bad.write_text("<Benchmark xmlns='http://checklists.nist.gov/xccdf/1.2'/>")
    r, arf = run_eval(tmp_path, bad, syschar_xml())
    assert r.exit_code == 1 and "not a SCAP source data stream" in r.output
    assert not arf.exists()
    r, arf = run_eval(tmp_path, ds_path, syschar_xml(), "--refine-value",
                      "receive_connector_authmechanism=loose")
    assert r.exit_code == 1 and "no selector 'loose'" in r.output and not arf.exists()
    r, arf = run_eval(tmp_path, ds_path, syschar_xml(), "--set-value", "nonexistent=1")
    assert r.exit_code == 1 and "unknown Value" in r.output and not arf.exists()
