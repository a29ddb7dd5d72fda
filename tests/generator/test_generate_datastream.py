"""The generated SCAP 1.3 source data stream: validity (oscap, official XSDs) and round-trip facts."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from lxml import etree

from stigscap.content.loader import load_content
from stigscap.generator.build import generate
from tests.cli_helpers import stigscap
from tests.conftest import require_tool

NS = {
    "ds": "http://scap.nist.gov/schema/scap/source/1.2",
    "cat": "urn:oasis:names:tc:entity:xmlns:xml:catalog",
    "xlink": "http://www.w3.org/1999/xlink",
    "x": "http://checklists.nist.gov/xccdf/1.2",
    "dc": "http://purl.org/dc/elements/1.1/",
    "od": "http://oval.mitre.org/XMLSchema/oval-definitions-5",
    "win": "http://oval.mitre.org/XMLSchema/oval-definitions-5#windows",
    "ocil": "http://scap.nist.gov/schema/ocil/2.0",
    "cpe": "http://cpe.mitre.org/dictionary/2.0",
}
RULE = "xccdf_mil.disa.stig_rule_SV-84553r1_rule"


@pytest.fixture(scope="module")
def ds_file(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("gen") / "ds.xml"
    r = stigscap("generate", "-o", out, "--components", out.parent / "components")
    assert r.rc == 0, r.err
    return out


@pytest.fixture(scope="module")
def ds(ds_file):
    return etree.parse(str(ds_file)).getroot()


def _oscap(*args):
    oscap = require_tool("oscap")
    return subprocess.run([oscap, *map(str, args)], capture_output=True, text=True, timeout=300)


def test_sds_validate(ds_file):
    p = _oscap("ds", "sds-validate", ds_file)
    assert p.returncode == 0, p.stdout + p.stderr


def test_full_schematron_has_no_errors(ds_file):
    p = _oscap("xccdf", "validate", ds_file)
    out = p.stdout + p.stderr
    assert p.returncode == 0, out
    assert "Global schematron validation using the source data stream schematron: PASS" in out
    assert not [line for line in out.splitlines() if line.startswith("Error")], out


def test_oscap_info_reads_it(ds_file):
    p = _oscap("info", ds_file)
    assert p.returncode == 0, p.stderr
    assert "xccdf_mil.disa.stig_profile_MAC-1_Classified" in p.stdout


@pytest.mark.parametrize("name", ["ms-exchange-2013-edge-stig-oval.xml",
                                  "ms-exchange-2013-edge-stig-cpe-oval.xml"])
def test_oval_components_validate(ds_file, name):
    p = _oscap("oval", "validate", ds_file.parent / "components" / name)
    assert p.returncode == 0, p.stdout + p.stderr


def test_rule_facts_round_trip(ds):
    rule = ds.find(f".//x:Rule[@id='{RULE}']", NS)
    assert rule is not None
    group = rule.getparent()
    assert group.get("id") == "xccdf_mil.disa.stig_group_V-69931"
    assert group.findtext("x:title", namespaces=NS) == "SRG-APP-000439"
    assert rule.get("severity") == "high" and rule.get("weight") == "10.0"
    assert rule.findtext("x:version", namespaces=NS) == "EX13-EG-000340"
    assert rule.findtext("x:title", namespaces=NS) == \
        "Exchange internal Receive connectors must require encryption."
    assert [i.text for i in rule.findall("x:ident", NS)] == ["CCI-002418"]
    assert rule.find("x:ident", NS).get("system") == "http://cyber.mil/cci"
    nist = {(r.findtext("dc:title", namespaces=NS), r.findtext("dc:identifier", namespaces=NS))
            for r in rule.findall("x:reference", NS) if r.get("href")}
    assert nist == {("NIST SP 800-53 Revision 4", "SC-8"), ("NIST SP 800-53 Revision 5", "SC-8")}
    fix = rule.find("x:fixtext", NS)
    assert fix.get("fixref") == "F-76163r1_fix"
    assert "Set-ReceiveConnector -Identity <'IdentityName'> -AuthMechanism 'Tls'" in fix.text
    desc = rule.findtext("x:description", namespaces=NS)
    assert desc.startswith("The Simple Mail Transfer Protocol (SMTP) Receive connector")
    assert "by default it must be exactly Tls" in desc  # the check's meaning is stated


def test_oval_check_wiring(ds):
    rule = ds.find(f".//x:Rule[@id='{RULE}']", NS)
    checks = rule.findall("x:check", NS)
    assert [c.get("system") for c in checks] == [
        "http://oval.mitre.org/XMLSchema/oval-definitions-5", "http://scap.nist.gov/schema/ocil/2"]
    oval_check = checks[0]
    ref = oval_check.find("x:check-content-ref", NS)
    export = oval_check.find("x:check-export", NS)
    assert ref.get("name") == "oval:mil.disa.stig:def:69931"
    # the href resolves through the XCCDF component-ref catalog to the OVAL component
    xccdf_ref = ds.find(".//ds:checklists/ds:component-ref", NS)
    uri = xccdf_ref.find(f"cat:catalog/cat:uri[@name='{ref.get('href')}']", NS).get("uri")
    cref = ds.find(f".//ds:component-ref[@id='{uri[1:]}']", NS)
    comp = ds.find(f"ds:component[@id='{cref.get('{http://www.w3.org/1999/xlink}href')[1:]}']", NS)
    definition = comp.find(f".//od:definition[@id='{ref.get('name')}']", NS)
    assert definition.get("class") == "compliance"
    # the Value is exported to the external variable used by the state's authmechanism field
    value = ds.find(f".//x:Value[@id='{export.get('value-id')}']", NS)
    assert {v.get("selector"): v.text for v in value.findall("x:value", NS)} == {
        None: "^Tls$", "exact": "^Tls$", "includes": "(^|, )Tls(, |$)"}
    var = comp.find(f".//od:external_variable[@id='{export.get('export-name')}']", NS)
    assert var is not None and var.get("datatype") == "string"
    state = comp.find(".//win:cmdlet_state[@id='oval:mil.disa.stig:ste:6993101']", NS)
    field = state.find("win:value/od:field", NS)
    assert field.get("name") == "authmechanism"
    assert field.get("var_ref") == var.get("id") and field.get("operation") == "pattern match"
    obj = comp.find(".//win:cmdlet_object[@id='oval:mil.disa.stig:obj:6993101']", NS)
    assert obj.findtext("win:verb", namespaces=NS) == "Get"
    assert obj.findtext("win:noun", namespaces=NS) == "ReceiveConnector"
    assert [(f.get("name"), f.text) for f in obj.findall("win:select/od:field", NS)] == [
        ("name", "Name"), ("identity", "Identity"), ("authmechanism", "AuthMechanism")]
    test = comp.find(".//win:cmdlet_test[@id='oval:mil.disa.stig:tst:6993101']", NS)
    assert (test.get("check"), test.get("check_existence")) == ("all", "at_least_one_exists")


def test_check_text_travels_as_ocil(ds):
    rule = ds.find(f".//x:Rule[@id='{RULE}']", NS)
    name = rule.find("x:check[@system='http://scap.nist.gov/schema/ocil/2']/x:check-content-ref",
                     NS).get("name")
    q = ds.find(f".//ocil:questionnaire[@id='{name}']", NS)
    action = ds.find(f".//ocil:boolean_question_test_action[@id='"
                     f"{q.findtext('ocil:actions/ocil:test_action_ref', namespaces=NS)}']", NS)
    text = ds.find(f".//ocil:boolean_question[@id='{action.get('question_ref')}']", NS).findtext(
        "ocil:question_text", namespaces=NS)
    assert "Get-ReceiveConnector | Select Name, Identity, AuthMechanism" in text
    assert "if the value of AuthMechanism is not set to Tls, this is a finding" in text


def test_profiles_and_platform(ds):
    bench = ds.find(".//x:Benchmark", NS)
    assert bench.get("style") == "SCAP_1.3"
    assert bench.findtext("x:plain-text[@id='release-info']", namespaces=NS) == \
        "Release: 5 Benchmark Date: 26 Apr 2019"
    profiles = [p.get("id") for p in bench.findall("x:Profile", NS)]
    assert profiles == [f"xccdf_mil.disa.stig_profile_MAC-{n}_{c}" for n in (1, 2, 3)
                        for c in ("Classified", "Public", "Sensitive")]
    rules = [r.get("id") for r in bench.iter(f"{{{NS['x']}}}Rule")]
    assert RULE in rules and len(rules) == len(load_content().rules)
    for p in bench.findall("x:Profile", NS):  # DISA's nine profiles select every rule
        assert [s.get("idref") for s in p.findall("x:select", NS)] == rules
    cpe_name = bench.find("x:platform", NS).get("idref")
    item = ds.find(f".//cpe:cpe-item[@name='{cpe_name}']", NS)
    check = item.find("cpe:check", NS)
    inv = ds.find(f".//od:definition[@id='{check.text}']", NS)
    assert inv.get("class") == "inventory"
    fields = {f.get("name"): f.text for f in
              ds.findall(".//win:cmdlet_state[@id='oval:mil.disa.stig:ste:101']/win:value/od:field", NS)}
    assert fields == {"serverrole": "(^|, )Edge(, |$)", "admindisplayversion": r"^Version 15\.0 \(Build "}


def test_output_is_deterministic(tmp_path, monkeypatch):
    content = load_content()
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    assert generate(content).datastream == generate(content).datastream
    plain = generate(content).datastream
    # the library is given its time; SOURCE_DATE_EPOCH is read where a run starts (the CLI)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764300000")
    assert generate(content).datastream == plain
    out = tmp_path / "ds.xml"
    assert stigscap("generate", "-o", out).rc == 0
    stamped = out.read_bytes()
    assert b'timestamp="2025-11-28T03:20:00"' in stamped
    assert generate(content, timestamp="2025-11-28T03:20:00Z").datastream == stamped
    assert generate(content, timestamp="2026-01-02T03:04:05Z").datastream != stamped


def test_id_namespace_is_configurable(tmp_path):
    out = tmp_path / "ds.xml"
    assert stigscap("generate", "--id-namespace", "gov.example.isso", "-o", out).rc == 0
    root = etree.parse(str(out)).getroot()
    assert root.find(".//x:Rule[@id='xccdf_gov.example.isso_rule_SV-84553r1_rule']", NS) is not None
    assert root.find(".//od:definition[@id='oval:gov.example.isso:def:69931']", NS) is not None
