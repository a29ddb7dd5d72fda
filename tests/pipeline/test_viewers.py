"""ARF viewers (issue 15 item 9): openscap-report and oval-graph read the OVAL definitions
from the OVAL results, which SCAP 1.3 (RES-180/181/182: include_source_definitions="false")
leaves out. `eval --oval-results-with-definitions` writes them for such viewers; both viewers
(pinned in the test extras) then read every rule with the results we computed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import etree

from stigscap.schemas.namespaces import OVAL_DEF, OVAL_RES, XCCDF12
from tests.cli_helpers import stigscap
from tests.conftest import require_tool

TS = "2026-12-01T00:00:00Z"
BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    local = BIN / name
    return str(local) if local.is_file() else require_tool(name)


@pytest.fixture(scope="module")
def arfs(tmp_path_factory):
    out = tmp_path_factory.mktemp("viewers")
    assert stigscap("run", "--example", "-o", out / "run", "--timestamp", TS).rc == 2
    ds, sc = next((out / "run").glob("*-ds.xml")), next((out / "run").glob("*-sc.xml"))
    base = ["eval", ds, "--profile", "MAC-1_Classified", "--system-characteristics", sc,
            "--timestamp", TS, "-q"]
    assert stigscap(*base, "--results-arf", out / "plain.xml").rc == 2
    run = stigscap(*base, "--oval-results-with-definitions", "--results-arf", out / "viewer.xml",
                   "--oval-results", out / "oval.xml")
    assert run.rc == 2, run.err
    return out / "plain.xml", out / "viewer.xml", out / "oval.xml"


def _rule_results(arf: Path) -> dict[str, tuple[str, tuple[str, ...]]]:
    root = etree.parse(str(arf)).getroot()
    return {rr.get("idref"): (rr.findtext(f"{{{XCCDF12}}}result"),
                              tuple(m.text for m in rr.iter(f"{{{XCCDF12}}}message")))
            for rr in root.iter(f"{{{XCCDF12}}}rule-result")}


def _oval_reports(doc: Path) -> list[etree._Element]:
    return list(etree.parse(str(doc)).getroot().iter(f"{{{OVAL_RES}}}oval_results"))


def test_the_option_adds_definitions_and_changes_no_verdict(arfs):
    plain, viewer, oval = arfs
    assert _rule_results(plain) == _rule_results(viewer)
    for rep in _oval_reports(plain):
        assert rep.find(f"{{{OVAL_RES}}}directives").get("include_source_definitions") == "false"
        assert rep.find(f"{{{OVAL_DEF}}}oval_definitions") is None
    reports = _oval_reports(viewer) + _oval_reports(oval)
    assert len(reports) >= 3
    for rep in reports:
        assert rep.find(f"{{{OVAL_RES}}}directives").get("include_source_definitions") == "true"
        defs = rep.find(f"{{{OVAL_DEF}}}oval_definitions")
        assert defs is not None
        source = {d.get("id") for d in defs.iter(f"{{{OVAL_DEF}}}definition")}
        results = list(rep.iter(f"{{{OVAL_RES}}}definition"))
        assert results and {d.get("definition_id") for d in results} <= source
        for d in results:   # every reported definition leads with its criteria (viewers read [0])
            assert etree.QName(d[0]).localname == "criteria", d.get("definition_id")
    # the data stream's own definitions, unchanged, in the compliance report
    ds_defs = {d.get("id") for d in etree.parse(str(viewer)).getroot().iter(
        f"{{{OVAL_DEF}}}definition") if d.getparent().getparent().tag != f"{{{OVAL_RES}}}oval_results"}
    first = _oval_reports(viewer)[0].find(f"{{{OVAL_DEF}}}oval_definitions")
    assert {d.get("id") for d in first.iter(f"{{{OVAL_DEF}}}definition")} <= ds_defs


def test_openscap_report_reads_every_rule_with_our_results(arfs, tmp_path):
    _plain, viewer, _ = arfs
    tool = _tool("oscap-report")
    out = tmp_path / "report.json"
    p = subprocess.run([tool, "-f", "JSON", "-o", str(out), str(viewer)], capture_output=True,
                       text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    rules = json.loads(out.read_text())["rules"]
    ours = _rule_results(viewer)
    assert {r: v["result"] for r, v in rules.items()} == {r: v[0] for r, v in ours.items()}
    html = tmp_path / "report.html"
    p = subprocess.run([tool, "-o", str(html), str(viewer)], capture_output=True, text=True,
                       timeout=300)
    assert p.returncode == 0, p.stderr
    text = html.read_text()
    for rid, (result, _) in ours.items():
        if result == "fail":
            assert rid in text


def _oval_results_by_definition(arf: Path) -> dict[str, dict[str, str]]:
    """definition id → {test id: result} from the compliance report of our ARF (the tests'
    results, or `not evaluated` for a definition that was not)."""
    rep = _oval_reports(arf)[0]
    tests = {t.get("test_id"): t.get("result") for t in rep.iter(f"{{{OVAL_RES}}}test")}
    out = {}
    for d in rep.iter(f"{{{OVAL_RES}}}definition"):
        out[d.get("definition_id")] = {c.get("test_ref"): tests.get(c.get("test_ref"), c.get("result"))
                                       for c in d.iter(f"{{{OVAL_RES}}}criterion")}
    return out


def _graph_values(node: dict, found: dict[str, str]) -> None:
    if node.get("tag") == "Test":
        found[node["node_id"]] = node["value"]
    for child in node.get("child") or ():
        _graph_values(child, found)


def test_oval_graph_draws_every_evaluated_rule_with_our_test_results(arfs, tmp_path):
    plain, viewer, _ = arfs
    tool = _tool("arf-to-json")
    ours = _oval_results_by_definition(viewer)
    root = etree.parse(str(viewer)).getroot()
    checked = 0
    for rr in root.iter(f"{{{XCCDF12}}}rule-result"):
        ref = rr.find(f".//{{{XCCDF12}}}check-content-ref")
        if ref is None or ref.get("name") not in ours:
            continue   # a manual (OCIL) rule: no OVAL tree to draw
        def_tests = ours[ref.get("name")]
        if "not evaluated" in def_tests.values():
            # oval-graph 1.3.3 accepts only its own abbreviations (noteval, notappl) for a
            # node's value, not OVAL's "not evaluated": an unset organization-defined Value
            continue
        out = tmp_path / f"{len(list(tmp_path.iterdir()))}.json"
        p = subprocess.run([tool, "-o", str(out), str(viewer),
                            rr.get("idref").rsplit("_rule_", 1)[1]],
                           capture_output=True, text=True, timeout=120)
        assert p.returncode == 0 and out.is_file(), (rr.get("idref"), p.stdout, p.stderr)
        graph = json.loads(out.read_text())
        found: dict[str, str] = {}
        for tree in graph.values():
            _graph_values(tree, found)
        assert found == def_tests, rr.get("idref")
        checked += 1
    assert checked >= 30
    # without the definitions oval-graph finds nothing to draw (why the option exists)
    p = subprocess.run([tool, "-o", str(tmp_path / "plain.json"), str(plain), "SV-84553r1"],
                       capture_output=True, text=True, timeout=120)
    assert not (tmp_path / "plain.json").exists()
    assert "no results" in p.stdout + p.stderr
