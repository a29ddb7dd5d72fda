"""The engine on the project's own generated OVAL and the collector's system characteristics
for the built-in example exports: every definition result equals `oscap oval analyse`, for
both tailorings of the seed rule's Value."""

from __future__ import annotations

import subprocess

import pytest
from lxml import etree

from tests.oval.ovalcases_builder import variables_doc
from stigscap.evaluator.oval.engine import evaluate
from tests.cli_helpers import stigscap
from tests.conftest import require_tool

NS = {"ds": "http://scap.nist.gov/schema/scap/source/1.2",
      "x": "http://checklists.nist.gov/xccdf/1.2",
      "o": "http://oval.mitre.org/XMLSchema/oval-definitions-5"}
SEED_VALUE = "xccdf_mil.disa.stig_value_receive_connector_authmechanism"


@pytest.fixture(scope="module", params=["edge2013", "edge2019", "mailbox2016"])
def generated(tmp_path_factory, request):
    """The example's content and system characteristics (edge2019 and mailbox2016 include
    registry_tests, SchUseStrongCrypto and the IMAP4 and POP3 services' Start values, and the
    Exchange directory's fileeffectiverights53_test, with its Values' offered options)."""
    out = tmp_path_factory.mktemp(f"run-{request.param}")
    run = stigscap("run", "--example", request.param, "--output", out,
                   "--timestamp", "2026-01-01T00:00:00")
    assert run.rc in (0, 1, 2) and "wrote ARF" in run.out, run.err  # 1: some rules error
    ds = etree.parse(str(next(out.glob("*-ds.xml"))))
    sc = next(out.glob("*-sc.xml"))
    defs = None
    for comp in ds.iterfind(".//ds:component", NS):
        if comp.get("id").endswith("-oval.xml") and "-cpe-" not in comp.get("id"):
            defs = comp.find("o:oval_definitions", NS)
    bench = ds.find(".//x:Benchmark", NS)
    exports = {ce.get("export-name"): ce.get("value-id")
               for ce in bench.iter(f"{{{NS['x']}}}check-export")}
    values = {v.get("id"): v for v in bench.iter(f"{{{NS['x']}}}Value")}
    return out, defs, sc, exports, values


@pytest.mark.parametrize("selector", [None, "includes"])
def test_generated_content_matches_oscap(generated, selector):
    require_tool("oscap")
    out, defs, sc, exports, values = generated
    assert defs is not None
    external = {v.get("id"): v.get("datatype") for v in defs.iter(f"{{{NS['o']}}}external_variable")}
    variables = {}
    for var_id, datatype in external.items():
        value = values[exports[var_id]]
        sel = selector if value.get("id") == SEED_VALUE else None
        chosen = [e for e in value.findall("x:value", NS) if e.get("selector") == sel] or \
            value.findall("x:value", NS)[:1]
        variables[var_id] = (datatype, [chosen[0].text or ""])
    d = out / f"defs-{selector}.xml"
    v = out / f"vars-{selector}.xml"
    o = out / f"oscap-{selector}.xml"
    d.write_bytes(etree.tostring(defs))
    v.write_bytes(variables_doc(variables))
    r = subprocess.run(["oscap", "oval", "analyse", "--variables", str(v), "--results", str(o),
                        str(d), str(sc)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    theirs = {e.get("definition_id"): e.get("result") for e in etree.parse(str(o)).iterfind(
        ".//{http://oval.mitre.org/XMLSchema/oval-results-5}definition")
        if e.get("definition_id")}
    ours = evaluate(defs, etree.parse(str(sc)),
                    {k: vals for k, (_dt, vals) in variables.items()}).definition_results
    assert ours == theirs
    assert "false" in ours.values() and "true" in ours.values()
    registry = {t.get("id") for t in defs.iter(f"{{{NS['o']}}}tests") for t in t
                if t.tag.endswith(("}registry_test", "}fileeffectiverights53_test"))}
    if "edge2013" not in out.name:   # the 2013 Edge STIG has no registry or permission check
        assert {t.rsplit("}", 1)[-1] for t in (x.tag for x in defs.iter()
                                               if x.get("id") in registry)} == {
            "registry_test", "fileeffectiverights53_test"}
    compared = {c.get("test_ref") for d in defs.iter(f"{{{NS['o']}}}definition")
                if ours.get(d.get("id")) in ("true", "false")
                for c in d.iter(f"{{{NS['o']}}}criterion")}
    assert registry <= compared   # each decided, by both engines alike
