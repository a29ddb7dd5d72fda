"""`stigscap generate --stig DISA.xml`: the STIG's facts, the content's machine checks."""

from __future__ import annotations

import pytest
from lxml import etree

from tests.cli_helpers import assert_one_line_error, stigscap
from tests.conftest import shared_file

V1R5 = "U_MS_Exchange_2013_Edge_Transport_Server_STIG_V1R5_Manual-xccdf.xml"
V1R6 = "U_MS_Exchange_2013_Edge_Transport_Server_STIG_V1R6_Manual-xccdf.xml"
NS = {"x": "http://checklists.nist.gov/xccdf/1.2", "od": "http://oval.mitre.org/XMLSchema/oval-definitions-5"}


@pytest.fixture
def env(monkeypatch):
    import os
    e = dict(os.environ, SOURCE_DATE_EPOCH="1764300000")
    return e


@pytest.mark.parametrize("rules", [["SV-84553r1_rule"], []], ids=["seed rule", "whole STIG"])
def test_v1r5_gives_the_authored_benchmark_byte_for_byte(tmp_path, env, rules):
    stig = shared_file("samples", V1R5)
    args = [a for r in rules for a in ("--rule", r)]
    authored, from_stig = tmp_path / "authored.xml", tmp_path / "stig.xml"
    assert stigscap("generate", *args, "-o", authored, env=env).rc == 0
    assert stigscap("generate", "--stig", stig, *args, "-o", from_stig, env=env).rc == 0
    assert authored.read_bytes() == from_stig.read_bytes()


def test_v1r6_renumbers_and_keeps_legacy_ids_and_check(tmp_path, env):
    stig = shared_file("samples", V1R6)
    out = tmp_path / "ds.xml"
    run = stigscap("generate", "--stig", stig, "--rule", "SV-234760r961632_rule", "-o", out, env=env)
    assert run.rc == 0, run.err
    root = etree.parse(str(out)).getroot()
    bench = root.find(".//x:Benchmark", NS)
    assert bench.findtext("x:plain-text[@id='release-info']", namespaces=NS) == \
        "Release: 6 Benchmark Date: 24 Jul 2024"
    rule = bench.find(".//x:Rule", NS)
    assert rule.get("id") == "xccdf_mil.disa.stig_rule_SV-234760r961632_rule"
    assert rule.getparent().get("id") == "xccdf_mil.disa.stig_group_V-234760"
    idents = [(i.get("system"), i.text) for i in rule.findall("x:ident", NS)]
    assert ("http://cyber.mil/legacy", "SV-84553") in idents
    assert ("http://cyber.mil/legacy", "V-69931") in idents
    assert ("http://cyber.mil/cci", "CCI-002418") in idents
    ref = rule.find("x:check[@system='http://oval.mitre.org/XMLSchema/oval-definitions-5']"
                    "/x:check-content-ref", NS)
    assert ref is not None, "the authored machine check follows the renumbered rule"
    assert root.find(f".//od:definition[@id='{ref.get('name')}']", NS).get("class") == "compliance"


def test_unknown_rule_in_stig(tmp_path):
    stig = shared_file("samples", V1R5)
    out = tmp_path / "ds.xml"
    assert_one_line_error(stigscap("generate", "--stig", stig, "--rule", "SV-1r1_rule", "-o", out),
                          "no rule 'SV-1r1_rule'")
    assert not out.exists()


def test_stig_file_that_is_not_xml(tmp_path):
    bad = tmp_path / "stig.xml"
    bad.write_text("this is not XML")
    out = tmp_path / "ds.xml"
    assert_one_line_error(stigscap("generate", "--stig", bad, "-o", out), "stig.xml")
    assert not out.exists()
