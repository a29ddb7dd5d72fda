"""Content decisions where the STIG text and a plain default differ (issue 14 item 6), each
recorded in the rule's YAML (`reading:`) and judged through the real path: `stigscap run` on
JSON exports (XCCDF verdicts), or generate → system characteristics → OVAL engine."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml

from stigscap.content.loader import Content, load_content
from stigscap.evaluator.collect.model import SystemInfo
from stigscap.evaluator.collect.syschar import syschar_document
from stigscap.evaluator.oval.engine import compile_definitions
from stigscap.generator.build import content_from_stig, generate
from stigscap.generator.disa_xccdf import read_disa_benchmark
from stigscap.schemas.xmlio import parse_xml_bytes, parse_xml_file
from tests.cli_helpers import stigscap
from tests.conftest import shared_file
from tests.stig.test_stig_cases_e2e import _collected, _variables

HERE = Path(__file__).parent
REPO = HERE.parents[1]
CONTENT = load_content(REPO / "content")
HOST = yaml.safe_load((HERE / "cases" / "compliant_edge_host.yaml").read_text(encoding="utf-8"))
XCCDF = "http://checklists.nist.gov/xccdf/1.2"
TS = "2024-01-01T00:00:00"
MB10, MB25 = "10 MB (10,485,760 bytes)", "25 MB (26,214,400 bytes)"


def test_every_changed_reading_is_recorded():
    for sid in ("EX13-EG-000210", "EX13-EG-000160", "EX13-EG-000245", "EX13-EG-000120"):
        assert CONTENT.rule(sid).reading and "issue 14" in CONTENT.rule(sid).reading, sid
    assert "automatic finding" in CONTENT.rule("EX13-EG-000350").revisions[0].reading


# ---- whole host through `stigscap run` ------------------------------------------------------

def _run(tmp_path: Path, host: dict, *extra: str) -> dict[str, str]:
    exports = tmp_path / "exports"
    exports.mkdir(parents=True)
    for cmdlet, objects in host.items():
        (exports / f"{cmdlet}.json").write_text(json.dumps(objects), encoding="utf-8")
    out = tmp_path / "out"
    run = stigscap("run", "--from", exports, "--content", REPO / "content", "--output", out,
                   "--timestamp", TS, "--refine-value", "receive_connector_authmechanism=includes",
                   "--refine-value", "receive_connector_authmechanism_basic=includes", *extra)
    assert run.rc in (0, 1, 2), run.err
    arf = next(out.glob("*-arf.xml"))
    return {CONTENT.rule(rr.get("idref").removeprefix("xccdf_mil.disa.stig_rule_")).version:
            rr.findtext(f"{{{XCCDF}}}result")
            for rr in parse_xml_file(arf).getroot().iter(f"{{{XCCDF}}}rule-result")}


def test_block_list_rule_without_a_provider_is_notapplicable(tmp_path):
    # "If not using a service provider, this requirement is not applicable" (was: fail)
    host = copy.deepcopy(HOST)
    host["Get-IPBlockListProvider"] = []
    results = _run(tmp_path, host)
    assert results["EX13-EG-000210"] == "notapplicable"
    assert results["EX13-EG-000205"] == "pass"   # the other rules are judged as before


def test_block_list_rule_with_a_provider_is_judged(tmp_path):
    host = copy.deepcopy(HOST)
    host["Get-IPBlockListProvider"][0]["LookupDomain"] = ""
    assert _run(tmp_path, host)["EX13-EG-000210"] == "fail"


def test_block_list_applicability_that_cannot_be_decided_is_never_notapplicable(tmp_path):
    host = {k: v for k, v in HOST.items() if k != "Get-IPBlockListProvider"}
    assert _run(tmp_path, host)["EX13-EG-000210"] in ("error", "unknown")


def test_anonymous_internal_connectors_wait_for_the_site(tmp_path):
    host = copy.deepcopy(HOST)
    # the Internet-facing default connector admits anonymous senders, as an Edge server must
    host["Get-ReceiveConnector"][0]["PermissionGroups"] = "AnonymousUsers, ExchangeServers, Partners"
    assert _run(tmp_path / "a", host)["EX13-EG-000245"] == "notchecked"          # was: fail
    assert _run(tmp_path / "b", host, "--set-value",
                "receive_connector_internal_names=^Partner ")["EX13-EG-000245"] == "pass"
    assert _run(tmp_path / "c", host, "--set-value",
                "receive_connector_internal_names=^Default ")["EX13-EG-000245"] == "fail"


# ---- OVAL definitions on collected data ------------------------------------------------------

def _definition_result(content: Content, version: str, case: dict) -> str:
    gen = generate(content, timestamp=TS)
    compiled = compile_definitions(parse_xml_bytes(gen.components[gen.files["oval"]],
                                                   "oval").getroot())
    rule = content.rule(version)
    ids = gen.oval_ids[rule.rule_id]
    sc = syschar_document(_collected(rule, case, ids.tests), SystemInfo(host_name="EDGE01"),
                          timestamp=TS)
    result = compiled.evaluate(sc, _variables(rule, case, ids))
    return result.definition_results[ids.definition]


@pytest.mark.parametrize("version, cmdlet, global_prop", [
    ("EX13-EG-000160", "Get-ReceiveConnector", "MaxReceiveSize"),
    ("EX13-EG-000120", "Get-SendConnector", "MaxSendSize"),
])
def test_message_size_rules_compare_with_the_collected_global_value(version, cmdlet, global_prop):
    def case(global_size, *sizes):
        return {"Get-TransportConfig": [{"Name": "Transport Settings", "Identity": "Transport Settings",
                                         global_prop: global_size}],
                cmdlet: [{"Name": f"C{i}", "Identity": f"C{i}", "MaxMessageSize": s}
                         for i, s in enumerate(sizes)]}
    # an approved global 25 MB with connectors at 25 MB complies (was: fail, 10 MB was assumed)
    assert _definition_result(CONTENT, version, case(MB25, MB25, MB25)) == "true"
    assert _definition_result(CONTENT, version, case(MB10, MB10)) == "true"
    assert _definition_result(CONTENT, version, case(MB25, MB25, MB10)) == "false"
    assert _definition_result(CONTENT, version, case("Unlimited", MB10)) == "false"
    # the global value not collected: error, never a pass
    no_global = case(MB10, MB10)
    no_global["Get-TransportConfig"] = []
    assert _definition_result(CONTENT, version, no_global) in ("false", "error")


def test_exchange_2013_is_an_automatic_finding_in_v1r6():
    b = read_disa_benchmark(shared_file("samples", "U_MS_Exchange_2013_Edge_Transport_Server_STIG_"
                                        "V1R6_Manual-xccdf.xml"))
    content = content_from_stig(CONTENT, b, ["EX13-EG-000350"])
    rule = content.rule("EX13-EG-000350")
    assert rule.check is not None and rule.rule_id == "SV-234762r991683_rule"

    def case(version):
        return {"Get-ExchangeServer": [{"Name": "EDGE01", "AdminDisplayVersion": version}]}
    assert _definition_result(content, "EX13-EG-000350", case("Version 15.0 (Build 1497.2)")) == "false"
    assert _definition_result(content, "EX13-EG-000350", case("Version 15.1 (Build 2507.6)")) == "true"
    no_server = {"Get-ExchangeServer": []}
    assert _definition_result(content, "EX13-EG-000350", no_server) == "false"


def test_generate_v1r6_automates_the_unsupported_version_rule(tmp_path):
    stig = shared_file("samples", "U_MS_Exchange_2013_Edge_Transport_Server_STIG_V1R6_Manual-xccdf.xml")
    out = tmp_path / "ds.xml"
    run = stigscap("generate", "--stig", stig, "-o", out, "--timestamp", TS)
    assert run.rc == 0, run.err
    assert "(63 rules, 46 automated)" in run.out    # was 45: EX13-EG-000350 went manual
