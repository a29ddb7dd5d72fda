"""Checklists from a real ARF: `stigscap run --example` (generate → collect → eval) → export."""

from __future__ import annotations

import json

import click
import pytest
from click.testing import CliRunner
from lxml import etree

from stigscap.evaluator.cli.main import main
from tests.conftest import shared_file

X12 = "http://checklists.nist.gov/xccdf/1.2"


@pytest.fixture(scope="module")
def real_arf(tmp_path_factory):
    if "run" not in set(main.list_commands(click.Context(main))):
        pytest.skip("stigscap run (generate, collect, eval) not available")
    d = tmp_path_factory.mktemp("pipeline")
    res = CliRunner().invoke(main, ["run", "--example", "--output", str(d), "--timestamp",
                                    "2026-11-28T03:00:00Z"])
    arfs = list(d.glob("*-arf.xml"))
    # exit 1/2 when rules error or fail on the example data; the ARF is written either way
    assert res.exit_code in (0, 1, 2) and len(arfs) == 1, res.output
    return arfs[0]


def test_real_arf_to_ckl_and_cklb(real_arf, tmp_path):
    root = etree.parse(str(real_arf)).getroot()
    results = {rr.get("idref").split("_rule_", 1)[1]: rr.findtext(f"{{{X12}}}result")
               for rr in root.iter(f"{{{X12}}}rule-result")}
    fails = [rr for rr in root.iter(f"{{{X12}}}rule-result")
             if rr.findtext(f"{{{X12}}}result") == "fail"]
    r = CliRunner()
    ckl, cklb = tmp_path / "h.ckl", tmp_path / "h.cklb"
    assert r.invoke(main, ["export", "ckl", str(real_arf), "-o", str(ckl)]).exit_code == 0
    assert r.invoke(main, ["export", "cklb", str(real_arf), "-o", str(cklb)]).exit_code == 0
    doc = etree.parse(str(ckl)).getroot()
    vulns = {}
    for v in doc.iter("VULN"):
        data = {sd.findtext("VULN_ATTRIBUTE"): sd.findtext("ATTRIBUTE_DATA")
                for sd in v.iter("STIG_DATA")}
        vulns[data["Rule_ID"]] = (v, data)
    assert set(vulns) == set(results)
    mapping = {"pass": "NotAFinding", "fail": "Open", "notapplicable": "Not_Applicable"}
    for rid, res in results.items():
        assert vulns[rid][0].findtext("STATUS") == mapping.get(res, "Not_Reviewed")
    v, data = vulns["SV-84553r1_rule"]
    # the check text comes from the generated content (OCIL question), not left empty
    assert "Get-ReceiveConnector | Select Name, Identity, AuthMechanism" in data["Check_Content"]
    assert "Automated check (stigscap)" not in data["Vuln_Discuss"]
    assert fails
    for rr in fails:
        details = vulns[rr.get("idref").split("_rule_", 1)[1]][0].findtext("FINDING_DETAILS")
        assert details.startswith("Automated check by stigscap: fail (Open).")
        for msg in rr.iter(f"{{{X12}}}message"):
            assert msg.text in details
        for inst in rr.iter(f"{{{X12}}}instance"):
            assert inst.text in details
            line = next(ln for ln in details.splitlines() if ln.startswith("- [FAIL]")
                        and inst.text in ln)
            assert line
    cdoc = json.loads(cklb.read_text())
    assert {x["rule_id_src"]: x["status"] for x in cdoc["stigs"][0]["rules"]} == {
        k: {"NotAFinding": "not_a_finding", "Open": "open", "Not_Applicable": "not_applicable",
            "Not_Reviewed": "not_reviewed"}[mapping.get(res, "Not_Reviewed")]
        for k, res in results.items()}
    schema = etree.XMLSchema(etree.parse(str(shared_file("samples",
                                                         "U_Checklist_Schema_V2.5.xsd"))))
    assert schema.validate(etree.parse(str(ckl))), schema.error_log


def test_real_arf_with_the_disa_stig_is_complete(real_arf, tmp_path):
    stig = shared_file("samples",
                       "U_MS_Exchange_2013_Edge_Transport_Server_STIG_V1R5_Manual-xccdf.xml")
    out = tmp_path / "full.ckl"
    res = CliRunner().invoke(main, ["export", "ckl", str(real_arf), "--stig", str(stig),
                                    "-o", str(out)])
    assert res.exit_code == 0, res.output
    root = etree.parse(str(real_arf)).getroot()
    mapping = {"pass": "NotAFinding", "fail": "Open", "notapplicable": "Not_Applicable"}
    want = {rr.get("idref").split("_rule_", 1)[1]: mapping.get(rr.findtext(f"{{{X12}}}result"),
                                                                "Not_Reviewed")
            for rr in root.iter(f"{{{X12}}}rule-result")}
    got = {}
    for v in etree.parse(str(out)).getroot().iter("VULN"):
        rid = next(sd.findtext("ATTRIBUTE_DATA") for sd in v.iter("STIG_DATA")
                   if sd.findtext("VULN_ATTRIBUTE") == "Rule_ID")
        got[rid] = v.findtext("STATUS")
    assert len(got) == 63
    assert {k: got[k] for k in want if k in got} == {k: v for k, v in want.items() if k in got}
    assert got["SV-84553r1_rule"] == "Open"


def test_real_arf_report_counts(real_arf, tmp_path):
    from lxml import html
    out = tmp_path / "r.html"
    res = CliRunner().invoke(main, ["report", str(real_arf), "-o", str(out)])
    assert res.exit_code == 0, res.output
    results = [rr.findtext(f"{{{X12}}}result")
               for rr in etree.parse(str(real_arf)).getroot().iter(f"{{{X12}}}rule-result")]
    doc = html.fromstring(out.read_text())
    row = doc.xpath("//section[@id='hosts']//tbody/tr")[0]
    assert int(row.find_class("errors")[0].text_content()) == sum(
        r in ("error", "unknown") for r in results)
    shown = {td.get("data-status"): int(td.text_content()) for td in row.xpath("td[@data-status]")}
    assert shown["Open"] == results.count("fail")
    assert shown["NotAFinding"] == results.count("pass") + results.count("fixed")
    assert len(doc.xpath("//div[@class='finding']")) == results.count("fail")


def test_stig_manager_reads_the_real_checklists(real_arf, kit, tmp_path):
    kit.node_tools()
    results = {rr.get("idref").split("_rule_", 1)[1]: rr.findtext(f"{{{X12}}}result")
               for rr in etree.parse(str(real_arf)).getroot().iter(f"{{{X12}}}rule-result")}
    smc = {"pass": "pass", "fixed": "pass", "fail": "fail", "notapplicable": "notapplicable"}
    for fmt in ("ckl", "cklb"):
        out = tmp_path / f"real.{fmt}"
        assert CliRunner().invoke(main, ["export", fmt, str(real_arf), "-o",
                                         str(out)]).exit_code == 0
        proc = kit.run_node("smc-parse.mjs", str(out))
        assert proc.returncode == 0, proc.stdout + proc.stderr
        [cl] = json.loads(proc.stdout)["checklists"]
        assert {r["ruleId"]: r["result"] for r in cl["reviews"]} == {
            k: smc.get(v, "notchecked") for k, v in results.items()}
