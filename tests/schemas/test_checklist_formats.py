"""`validate` on STIG Viewer checklists and XCCDF tailoring files: each is detected and checked
against its own structure.

CKL: our native restatement of DISA's checklist schema 2.5 must agree with libxml2 validating
against the real XSD (read from ../shared, skipped when absent) on STIG Viewer 2.17's files,
on the CKL stigscap writes, and on broken copies of it. CKLB: STIG Viewer 3 / Evaluate-STIG /
STIG Manager files and ours pass; broken copies fail, located by line and JSON path.
"""

from __future__ import annotations

import json
import re

import pytest
from lxml import etree

from stigscap.schemas.validate import check_file
from tests.conftest import SAMPLES, shared_file
from tests.schemas.planted import base_bytes

CKL_SAMPLES = sorted(p for p in SAMPLES.glob("*.ckl") if "MALFORMED" not in p.name) \
    if SAMPLES.is_dir() else []
CKLB_SAMPLES = sorted(SAMPLES.glob("*.cklb")) if SAMPLES.is_dir() else []


@pytest.fixture(scope="module")
def our_ckl() -> bytes:
    import stigscap
    return stigscap.checklist(base_bytes("arf"), "ckl")


@pytest.fixture(scope="module")
def our_cklb() -> bytes:
    import stigscap
    return stigscap.checklist(base_bytes("arf"), "cklb")


def _xsd_verdict(path) -> tuple[bool, set[int]]:
    xsd = etree.XMLSchema(etree.parse(str(shared_file("samples", "U_Checklist_Schema_V2.5.xsd"))))
    ok = xsd.validate(etree.parse(str(path)))
    return ok, {e.line for e in xsd.error_log}


# (description, regex, replacement) applied once to the CKL stigscap writes
CKL_BREAKS = [
    ("status not in the enumeration", r"<STATUS>Open</STATUS>", "<STATUS>Opened</STATUS>"),
    ("attribute on VULN", r"<VULN>", '<VULN id="v1">'),
    ("WEB_OR_DATABASE not a boolean", r"<WEB_OR_DATABASE>false<", "<WEB_OR_DATABASE>maybe<"),
    ("HOST_IP before HOST_NAME", r"(<HOST_NAME>[^<]*</HOST_NAME>)(\s*)(<HOST_IP>[^<]*</HOST_IP>)",
     r"\3\2\1"),
    ("unknown element in ASSET", r"<TECH_AREA>", "<EXTRA/><TECH_AREA>"),
    ("text between elements", r"<ASSET>", "<ASSET>loose text"),
    ("element inside SID_DATA", r"<SID_DATA>1</SID_DATA>", "<SID_DATA><b>1</b></SID_DATA>"),
    ("no STIG_INFO", r"<STIG_INFO>.*?</STIG_INFO>", ""),
    ("no COMMENTS", r"<COMMENTS>[^<]*</COMMENTS>|<COMMENTS\s*/>", ""),
    ("two ROLE elements", r"(<ROLE>None</ROLE>)", r"\1\1"),
    ("unknown SID_NAME", r"<SID_NAME>customname</SID_NAME>", "<SID_NAME>nickname</SID_NAME>"),
    ("unknown VULN_ATTRIBUTE", r"<VULN_ATTRIBUTE>Weight</VULN_ATTRIBUTE>",
     "<VULN_ATTRIBUTE>Heaviness</VULN_ATTRIBUTE>"),
]


def test_stig_viewer_ckl_samples_are_valid(cli):
    if not CKL_SAMPLES:
        pytest.skip(f"reference file not available: {SAMPLES}/*.ckl")
    for path in CKL_SAMPLES:
        result = check_file(path)
        assert (result.kind, result.problems) == ("ckl@2.5", []), path
        assert _xsd_verdict(path)[0], path
    res = cli("validate", *CKL_SAMPLES)
    assert res.exit_code == 0 and res.stdout.count("valid ckl@2.5") == len(CKL_SAMPLES)


def test_our_ckl_is_valid(tmp_path, our_ckl):
    p = tmp_path / "edge01.ckl"
    p.write_bytes(our_ckl)
    assert check_file(p).problems == []


@pytest.mark.parametrize("what,pattern,repl", CKL_BREAKS, ids=[b[0] for b in CKL_BREAKS])
def test_broken_ckl_is_invalid_as_the_xsd_says(tmp_path, our_ckl, what, pattern, repl):
    text, n = re.subn(pattern, repl, our_ckl.decode("utf-8"), count=1, flags=re.S)
    assert n == 1, what
    p = tmp_path / "broken.ckl"
    p.write_text(text, encoding="utf-8")
    result = check_file(p)
    assert result.kind == "ckl@2.5" and not result.valid, what
    first = result.errors[0]
    assert first.line and first.path.startswith("/CHECKLIST") and first.rule == "ckl@2.5"
    assert "\n" not in str(first)
    if SAMPLES.joinpath("U_Checklist_Schema_V2.5.xsd").is_file():
        ok, lines = _xsd_verdict(p)
        assert not ok, what
        assert first.line in lines, (what, first, lines)


def test_cklb_samples_and_ours_pass(tmp_path, our_cklb):
    p = tmp_path / "edge01.cklb"
    p.write_bytes(our_cklb)
    files = [p, *CKLB_SAMPLES]
    for f in files:
        result = check_file(f)
        assert result.kind == "cklb@1.0" and result.document == "CKLB", f
        assert result.errors == [], (f, [str(e) for e in result.errors[:3]])
    assert check_file(p).problems == []


def _broken_cklb(tmp_path, data: bytes, edit) -> tuple[object, str]:
    doc = json.loads(data)
    edit(doc)
    text = json.dumps(doc, indent=2)
    p = tmp_path / "broken.cklb"
    p.write_text(text, encoding="utf-8")
    return check_file(p), text


CKLB_BREAKS = [
    ("status", lambda d: d["stigs"][0]["rules"][1].__setitem__("status", "passed"), "status"),
    ("severity", lambda d: d["stigs"][0]["rules"][1].__setitem__("severity", "critical"),
     "severity"),
    ("no rule_id_src", lambda d: d["stigs"][0]["rules"][1].pop("rule_id_src"), "rule_id_src"),
    ("stig_uuid", lambda d: d["stigs"][0]["rules"][1].__setitem__("stig_uuid", "other"),
     "stig_uuid"),
    ("ccis type", lambda d: d["stigs"][0]["rules"][1].__setitem__("ccis", "CCI-000001"), "ccis"),
    ("no target_data", lambda d: d.pop("target_data"), "target_data"),
    ("role", lambda d: d["target_data"].__setitem__("role", "Router"), "role"),
    ("override", lambda d: d["stigs"][0]["rules"][1].__setitem__(
        "overrides", {"severity": {"severity": "extreme", "reason": "r"}}), "override"),
    ("empty stigs", lambda d: d.__setitem__("stigs", []), "no STIG"),
]


@pytest.mark.parametrize("what,edit,needle", CKLB_BREAKS, ids=[b[0] for b in CKLB_BREAKS])
def test_broken_cklb_is_invalid(tmp_path, our_cklb, what, edit, needle):
    result, text = _broken_cklb(tmp_path, our_cklb, edit)
    assert not result.valid, what
    err = result.errors[0]
    assert needle in err.message and err.rule == "cklb@1.0" and err.path.startswith("$")
    assert err.line is not None and 1 <= err.line <= text.count("\n") + 1
    if what not in ("no target_data", "empty stigs"):
        # the line is where the JSON object in question starts
        assert text.splitlines()[err.line - 1].rstrip().endswith("{"), (what, err.line)


def test_cklb_not_json_or_duplicate_key_is_a_one_line_error(cli, tmp_path, our_cklb):
    p = tmp_path / "bad.cklb"
    p.write_text('{\n  "title": "x",\n  "title": "y"\n}\n', encoding="utf-8")
    res = cli("validate", p)
    assert res.exit_code == 1 and "'title' is given twice" in res.stderr
    p.write_text('{\n  "title": "x",\n  oops\n}\n', encoding="utf-8")
    res = cli("validate", p)
    assert res.exit_code == 1 and f"{p}:3: not valid JSON" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


TAILORING = """<?xml version="1.0" encoding="UTF-8"?>
<xccdf:Tailoring xmlns:xccdf="http://checklists.nist.gov/xccdf/1.2" id="xccdf_mil.disa.stig_tailoring_site">
  <xccdf:benchmark href="ms-exchange-2013-edge-stig-ds.xml"/>
  <xccdf:version time="2024-01-01T00:00:00">1</xccdf:version>
  <xccdf:Profile id="xccdf_mil.disa.stig_profile_site" extends="xccdf_mil.disa.stig_profile_MAC-1_Classified">
    <xccdf:title>Site</xccdf:title>
    <xccdf:set-value idref="xccdf_mil.disa.stig_value_send_connector_tlsdomain">^x$</xccdf:set-value>
  </xccdf:Profile>
</xccdf:Tailoring>
"""


def test_tailoring_file_is_detected_and_checked(cli, schema_dir, tmp_path):
    p = tmp_path / "tailoring.xml"
    p.write_text(TAILORING, encoding="utf-8")
    res = cli("validate", "--format", "json", p)
    report = json.loads(res.stdout)["files"][0]
    assert res.exit_code == 0 and report["kind"] == "xccdf@1.2"
    assert report["document"] == "Tailoring" and report["problems"] == []
    assert f"{p}: valid xccdf@1.2 (Tailoring)" in cli("validate", p).stdout
    # a Profile of the tailoring extending another one of the same tailoring (XCCDF 1.2 6.7.3)
    p.write_text(TAILORING.replace("</xccdf:Tailoring>", """  <xccdf:Profile id="xccdf_mil.disa.stig_profile_site2" extends="xccdf_mil.disa.stig_profile_site">
    <xccdf:title>Site 2</xccdf:title>
  </xccdf:Profile>
</xccdf:Tailoring>"""), encoding="utf-8")
    res = cli("validate", p)
    assert res.exit_code == 2 and "error: [xccdf-1.2:tailoring_profile_extends_valid]" in res.stdout
    # its own schema: the XCCDF 1.2 XSD (version is required)
    p.write_text(re.sub(r"<xccdf:version.*?</xccdf:version>", "", TAILORING), encoding="utf-8")
    res = cli("validate", p)
    assert res.exit_code == 2 and "[XSD xccdf@1.2]" in res.stdout
