"""The many-hosts API (Evaluator compiled once) and engine rules the CLI tests do not reach:
negate, inventory errors, the real collector's system characteristics, determinism."""

from __future__ import annotations

import ipaddress
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree

from stigscap.evaluator.results.arf import Evaluator, TargetInfo
from stigscap.evaluator.cli.main import main
from stigscap.schemas.errors import StigscapError
from stigscap.schemas.namespaces import OVAL_DEF, XCCDF12
from stigscap.schemas.xmlio import parse_xml_bytes, parse_xml_file

from tests.xccdf.xccdf_syschar import syschar_xml

from tests.conftest import require_tool

RULE = "xccdf_mil.disa.stig_rule_SV-84553r1_rule"
TS = "2026-01-01T00:00:00Z"
X = {"x": XCCDF12}


@pytest.fixture(scope="module")
def ds_file(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ds") / "ds.xml"
    r = CliRunner().invoke(main, ["generate", "--rule", "EX13-EG-000340", "-o", str(out),
                                  "--timestamp",
                                  "2026-01-01T00:00:00"])
    assert r.exit_code == 0, r.output
    return out


def _result(res) -> str:
    return next(rr.result for rr in res.rule_results if rr.idref == RULE)


def test_one_evaluator_many_hosts_equals_fresh_evaluators(ds_file):
    hosts = [syschar_xml([("A", "Tls")], host="EDGE01"),
             syschar_xml([("A", "None"), ("B", "Tls")], host="EDGE02", ip="192.0.2.11"),
             syschar_xml([("A", "Tls")], host="EDGE03", role="Hub")]
    shared = Evaluator(parse_xml_file(ds_file), "MAC-2_Public")
    outs = [shared.evaluate(parse_xml_bytes(h).getroot(), timestamp=TS) for h in hosts]
    assert [_result(o) for o in outs] == ["pass", "fail", "notapplicable"]
    assert [o.exit_code for o in outs] == [0, 2, 0]
    for h, o in zip(hosts, outs):
        fresh = Evaluator(parse_xml_file(ds_file), "MAC-2_Public").evaluate(
            parse_xml_bytes(h).getroot(), timestamp=TS)
        assert fresh.to_bytes() == o.to_bytes()
    # each ARF names its own host only
    assert b"EDGE02" in outs[1].to_bytes() and b"EDGE01." not in outs[1].to_bytes()


def test_rule_results_are_xccdf_result_members(ds_file):
    """The XCCDF engine hands out XccdfResultType members (their text the schema's words)."""
    from stigscap.evaluator.xccdf.values import XccdfResultType
    res = Evaluator(parse_xml_file(ds_file), "MAC-1_Classified").evaluate(
        parse_xml_bytes(syschar_xml([("A", "None")])).getroot(), timestamp=TS)
    assert res.rule_results and all(type(rr.result) is XccdfResultType
                                    for rr in res.rule_results)
    assert _result(res) is XccdfResultType.FAIL and f"{_result(res)}" == "fail"
    assert res.counts == {"fail": 1} and res.exit_code == 2
    assert b"<result>fail</result>" in res.to_bytes()


def test_spliced_datastream_equals_a_full_lxml_serialization(ds_file):
    res = Evaluator(parse_xml_file(ds_file), "MAC-1_Classified").evaluate(
        parse_xml_bytes(syschar_xml()).getroot(), timestamp=TS)
    data = res.to_bytes()
    tree = etree.fromstring(data)
    # re-serializing the parsed ARF with lxml gives the same document (C14N)
    again = etree.fromstring(etree.tostring(tree))
    assert etree.tostring(again, method="c14n") == etree.tostring(tree, method="c14n")
    coll = tree.find(".//{http://scap.nist.gov/schema/scap/source/1.2}data-stream-collection")
    src = parse_xml_file(ds_file).getroot()
    assert etree.tostring(coll, method="c14n", exclusive=True) == \
        etree.tostring(src, method="c14n", exclusive=True)


def test_target_info_override_and_identity(ds_file):
    ev = Evaluator(parse_xml_file(ds_file), "MAC-1_Classified")
    target = TargetInfo(name="edge01.example.mil", host_name="edge01",
                        fqdn="edge01.example.mil", interfaces=[("2001:db8::10", None)],
                        identity="EXAMPLE\\svc-scan", authenticated=True, privileged=True)
    res = ev.evaluate(parse_xml_bytes(syschar_xml()).getroot(), target=target, timestamp=TS)
    tr = etree.fromstring(res.testresult_text(in_arf=True).encode())
    ident = tr.find("x:identity", X)
    assert ident.text == "EXAMPLE\\svc-scan" and ident.get("privileged") == "true"
    # IPv6 written out in full: ai:ip-v6's XSD pattern (and SCAPVal RES-136-2) take no '::'
    full = "2001:0db8:0000:0000:0000:0000:0000:0010"
    assert tr.findtext("x:target-address", namespaces=X) == full
    assert f"<ai:ip-v6>{full}</ai:ip-v6>".encode() in res.to_bytes()


def test_many_targets_one_evaluator_each_report_holds_its_own_values(ds_file):
    """The TestResult and ARF are rendered once per shape and filled per host: hosts of the
    same shape with other values (markup characters too), and hosts of other shapes, each get
    exactly their own values, and the same bytes as from a fresh Evaluator."""
    A = "http://scap.nist.gov/schema/asset-identification/1.1"
    targets = [
        TargetInfo(name="edge01", host_name="edge01", interfaces=[("192.0.2.1", "00:15:5D:00:00:01")],
                   identity="a", authenticated=True),
        TargetInfo(name='e<2>&"x"', host_name="e'2", interfaces=[("192.0.2.2", "00:15:5D:00:00:02")],
                   identity="DOM\\<b>", authenticated=True),
        TargetInfo(name="edge03.example.mil", host_name="edge03", fqdn="edge03.example.mil",
                   interfaces=[("2001:db8::3", None), (None, "00:15:5D:00:00:03")],
                   os_name="Windows & more", privileged=True),
        TargetInfo(name="edge04", interfaces=[]),
        TargetInfo(name="edge05", host_name="edge05", interfaces=[("192.0.2.5", "00:15:5D:00:00:05")],
                   identity="e", privileged=True),   # edge01's shape, other flags
    ]
    shared = Evaluator(parse_xml_file(ds_file), "MAC-1_Classified")
    sc = parse_xml_bytes(syschar_xml([("A", "Tls")])).getroot()
    for t in targets:
        arf = shared.evaluate(sc, target=t, timestamp=TS).to_bytes()
        fresh = Evaluator(parse_xml_file(ds_file), "MAC-1_Classified").evaluate(
            sc, target=t, timestamp=TS).to_bytes()
        assert arf == fresh
        root = etree.fromstring(arf)
        tr = root.find(".//x:TestResult", X)
        assert tr.findtext("x:target", namespaces=X) == t.name
        assert tr.findtext("x:title", namespaces=X) == f"stigscap evaluation of {t.name}"
        ident = tr.find("x:identity", X)
        assert (ident.text, ident.get("authenticated"), ident.get("privileged")) == (
            t.identity, str(t.authenticated).lower(), str(t.privileged).lower())
        assert [e.text for e in tr.iterfind("x:target-address", X)] == t.addresses
        assert [(f.get("name"), f.text) for f in tr.iterfind("x:target-facts/x:fact", X)] == \
            [(n, v) for n, _typ, v in t.facts()]
        dev = root.find(f".//{{{A}}}computing-device")
        assert dev.findtext(f"{{{A}}}hostname") == t.host_name
        assert dev.findtext(f"{{{A}}}fqdn") == t.fqdn
        got = [(c.findtext(f".//{{{A}}}ip-v4") or c.findtext(f".//{{{A}}}ip-v6"),
                c.findtext(f"{{{A}}}mac-address")) for c in dev.iterfind(f".//{{{A}}}connection")]
        assert got == [(ip and ipaddress.ip_address(ip).exploded, mac)
                       for ip, mac in t.interfaces]
        assert b"\x00" not in arf


def _modified_ds(ds_file: Path, tmp_path: Path, edit) -> Path:
    tree = parse_xml_file(ds_file)
    edit(tree.getroot())
    out = tmp_path / "ds-mod.xml"
    out.write_bytes(etree.tostring(tree, xml_declaration=True, encoding="UTF-8"))
    return out


def test_negate_swaps_pass_and_fail(ds_file, tmp_path):
    def negate(root):
        for check in root.iter(f"{{{XCCDF12}}}check"):
            if check.get("system") == OVAL_DEF:
                check.set("negate", "true")
    ds = _modified_ds(ds_file, tmp_path, negate)
    ev = Evaluator(parse_xml_file(ds), "MAC-1_Classified")
    ok = ev.evaluate(parse_xml_bytes(syschar_xml([("A", "Tls")])).getroot(), timestamp=TS)
    bad = ev.evaluate(parse_xml_bytes(syschar_xml([("A", "None")])).getroot(), timestamp=TS)
    assert (_result(ok), _result(bad)) == ("fail", "pass")
    assert b'negate="true"' in ok.to_bytes()


def test_unknown_platform_inventory_is_not_silently_notapplicable(ds_file):
    """No Get-ExchangeServer item: applicability cannot be decided → unknown, exit 2."""
    ev = Evaluator(parse_xml_file(ds_file), "MAC-1_Classified")
    res = ev.evaluate(parse_xml_bytes(syschar_xml([("A", "Tls")], include_inventory=False))
                      .getroot(), timestamp=TS)
    rr = next(r for r in res.rule_results if r.idref == RULE)
    assert rr.result == "unknown" and res.exit_code == 2
    assert any("platform" in text for _, text in rr.messages)


def test_profile_short_and_full_ids_and_errors(ds_file):
    ds = parse_xml_file(ds_file)
    a = Evaluator(ds, "MAC-3_Sensitive").profile_id
    b = Evaluator(ds, "xccdf_mil.disa.stig_profile_MAC-3_Sensitive").profile_id
    assert a == b == "xccdf_mil.disa.stig_profile_MAC-3_Sensitive"
    with pytest.raises(StigscapError, match="available profiles: .*MAC-1_Classified"):
        Evaluator(ds, "nope")
    with pytest.raises(StigscapError, match="not an OVAL system characteristics"):
        Evaluator(ds, "MAC-3_Sensitive").evaluate(ds.getroot(), timestamp=TS)


def test_real_collector_output_end_to_end(ds_file, tmp_path):
    """stigscap collect (built-in example exports) → stigscap eval → ARF judged by oscap."""
    oscap = require_tool("oscap")
    sc, arf = tmp_path / "sc.xml", tmp_path / "arf.xml"
    r = CliRunner().invoke(main, ["collect", "-d", str(ds_file), "--example", "-o", str(sc),
                                  "--interface", "Ethernet0,192.0.2.10,00-15-5D-01-02-03",
                                  "--timestamp", "2026-01-01T00:00:00"])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(main, ["eval", str(ds_file), "--profile", "MAC-1_Classified",
                                  "--system-characteristics", str(sc), "--results-arf",
                                  str(arf), "--timestamp", TS])
    assert r.exit_code == 2, r.output
    doc = etree.parse(str(arf))
    rr = doc.find(f".//x:rule-result[@idref='{RULE}']", X)
    assert rr.findtext("x:result", namespaces=X) == "fail"
    msgs = " | ".join(m.text for m in rr.findall("x:message", X))
    assert "'None'" in msgs and "BasicAuthRequireTLS" in msgs
    for cmd in (["ds", "rds-validate"], ["info"]):
        p = subprocess.run([oscap, *cmd, str(arf)], capture_output=True, text=True)
        assert p.returncode == 0, p.stdout + p.stderr
    # oscap's own HTML report reads the ARF and shows the failing connectors
    p = subprocess.run([oscap, "xccdf", "generate", "report", str(arf)], capture_output=True,
                       text=True)
    assert p.returncode == 0 and "Anonymous test EDGE01" in p.stdout, p.stderr


def test_role_unchecked_and_unscored(ds_file, tmp_path):
    def role(value):
        def edit(root):
            for rule in root.iter(f"{{{XCCDF12}}}Rule"):
                rule.set("role", value)
        return edit
    sc = parse_xml_bytes(syschar_xml([("A", "None")])).getroot()
    unchecked = Evaluator(parse_xml_file(_modified_ds(ds_file, tmp_path, role("unchecked"))),
                          "MAC-1_Classified").evaluate(sc, timestamp=TS)
    assert _result(unchecked) == "notchecked" and unchecked.exit_code == 0
    unscored = Evaluator(parse_xml_file(_modified_ds(ds_file, tmp_path, role("unscored"))),
                         "MAC-1_Classified").evaluate(sc, timestamp=TS)
    assert _result(unscored) == "fail"
    flat = next(s for s in unscored.xccdf.scores if s.system == "urn:xccdf:scoring:flat")
    assert flat.maximum == "0"


def test_unselected_group_unselects_its_rules(ds_file, tmp_path):
    tailoring = etree.fromstring(f"""<Tailoring xmlns="{XCCDF12}" id="xccdf_x_tailoring_t">
      <version time="2026-01-01T00:00:00">1</version>
      <Profile id="xccdf_x_profile_t" extends="xccdf_mil.disa.stig_profile_MAC-1_Classified">
        <title>t</title><select idref="xccdf_mil.disa.stig_group_V-69931" selected="false"/>
      </Profile></Tailoring>""".encode())
    ev = Evaluator(parse_xml_file(ds_file), "xccdf_x_profile_t", tailoring=tailoring)
    res = ev.evaluate(parse_xml_bytes(syschar_xml([("A", "None")])).getroot(), timestamp=TS)
    assert _result(res) == "notselected" and res.exit_code == 0


_FLAGS = ["None", "Tls", "Integrated", "BasicAuth", "BasicAuthRequireTLS", "ExchangeServer",
          "ExternalAuthoritative"]


def test_verdict_and_evidence_for_random_connector_mixes(ds_file):
    """For any mix: fail iff some connector is not compliant under the chosen reading, and
    the evidence names exactly the non-compliant connectors (one message and instance each)."""
    import re

    from hypothesis import given, settings
    from hypothesis import strategies as st

    evaluators = {sel: Evaluator(parse_xml_file(ds_file), "MAC-1_Classified",
                                 refine_values={"receive_connector_authmechanism": sel})
                  for sel in ("exact", "includes")}
    patterns = {"exact": r"^Tls$", "includes": r"(^|, )Tls(, |$)"}
    mechanism = st.lists(st.sampled_from(_FLAGS), min_size=1, max_size=3, unique=True).map(
        lambda flags: ", ".join(f for f in _FLAGS if f in flags))

    @settings(max_examples=60, deadline=None)
    @given(st.lists(mechanism, min_size=1, max_size=6), st.sampled_from(["exact", "includes"]))
    def check(mechanisms, selector):
        conns = [(f"Conn {i}", m) for i, m in enumerate(mechanisms)]
        res = evaluators[selector].evaluate(parse_xml_bytes(syschar_xml(conns)).getroot(),
                                            timestamp=TS)
        bad = [name for name, m in conns if not re.search(patterns[selector], m)]
        rr = next(r for r in res.rule_results if r.idref == RULE)
        assert rr.result == ("fail" if bad else "pass")
        assert res.exit_code == (2 if bad else 0)
        assert rr.instances == [f"EDGE01\\{n}" for n in bad]
        lines = [t for _, t in rr.messages]
        assert len(lines) == len(bad)
        for name, line in zip(bad, lines):
            assert line.startswith(f"Receive connector '{name}'") and patterns[selector] in line

    check()


class _CountingList(list):
    """A list that counts membership tests (`x in lst` scans the whole list)."""

    def __init__(self, *args):
        super().__init__(*args)
        self.scans = 0

    def __contains__(self, item):
        self.scans += 1
        return super().__contains__(item)


def test_evidence_lines_are_merged_without_a_scan_per_line():
    """Issue 13: `eval` of 100,000 failing connectors took > 600 s because every evidence line
    was checked against the rule's growing message and instance lists (quadratic). The lines
    are merged through sets now: the lists are never scanned once per line, and duplicates are
    still dropped, order kept."""
    from tests.oval.ovalcases_builder import (F, P, State, Test, cmdlet_item, cmdlet_object,
                                              collected, connector, criteria, criterion,
                                              definition, definitions_doc, syschar_doc)
    from stigscap.evaluator.oval.engine import evaluate
    from stigscap.evaluator.xccdf.engine import RuleResult, add_evidence
    from stigscap.evaluator.xccdf.values import XccdfResultType

    obj, tst, ste, dfn = f"{P}:obj:1", f"{P}:tst:1", f"{P}:ste:1", f"{P}:def:1"
    defs = definitions_doc([definition(dfn, criteria("AND", criterion(tst)))],
                           [Test(tst, obj, [ste]).xml()], [cmdlet_object(obj)],
                           [State(ste, [F("authmechanism", "Tls")]).xml()], [])
    n = 400
    records = [connector(f"Conn {i}", "None") for i in range(n)] + [connector("Conn 0", "None")]
    sc = syschar_doc([collected(obj, "complete", [1])], [cmdlet_item(1, records)])
    ev = evaluate(etree.fromstring(defs), etree.fromstring(sc))
    rr = RuleResult(idref="r", result=XccdfResultType.FAIL, role="full", severity="high",
                    weight="10", version=None, idents=[])
    rr.messages = _CountingList([("info", "kept first")])
    rr.instances = _CountingList()
    add_evidence(rr, ev, dfn)
    assert rr.messages.scans < 10 and rr.instances.scans < 10
    # one line and one instance per distinct connector (the repeated "Conn 0" is dropped)
    assert len(rr.instances) == n and rr.instances[:2] == ["EDGE01\\Conn 0", "EDGE01\\Conn 1"]
    assert len(rr.messages) == n + 1 and rr.messages[0] == ("info", "kept first")
    assert rr.object_instances[obj] == list(rr.instances)
