"""`stigscap eval` and `stigscap oval-analyse` read the host's system characteristics item by
item (results/syschar_stream.py): what they write is byte for byte what the whole-tree path
(`Evaluator.evaluate`, `build_results_document`) writes, for the whole STIG's content and the
collector's output with many Receive connectors."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from lxml import etree

import stigscap.evaluator.results.arf as arf_module
import stigscap.evaluator.results.syschar_stream as S
from stigscap.evaluator.cli.main import main
from stigscap.evaluator.oval.engine import OvalEvaluation, compile_definitions
from stigscap.evaluator.oval.results import build_results_document
from stigscap.evaluator.results.arf import Evaluator
from stigscap.schemas.xmlio import parse_xml_file, serialize
from tests.oval.ovalcases_builder import variables_doc
from tests.xccdf.stig_syschar import compliance_oval, whole_stig_syschar

TS = "2026-01-01T00:00:00"
PROFILE = "MAC-1_Classified"


@pytest.fixture(scope="module")
def stig(tmp_path_factory):
    d = tmp_path_factory.mktemp("stig")
    ds = d / "ds.xml"
    r = CliRunner().invoke(main, ["generate", "-o", str(ds), "--timestamp", TS])
    assert r.exit_code == 0, r.output
    sc = d / "sc.xml"
    sc.write_bytes(whole_stig_syschar(parse_xml_file(ds).getroot(), 150))
    return ds, sc


@pytest.fixture
def streams(monkeypatch):
    """Counts the documents read item by item (the real function runs)."""
    calls = []
    real = S.stream_syschar

    def counting(*args, **kwargs):
        calls.append(args[0])
        return real(*args, **kwargs)
    monkeypatch.setattr(arf_module, "stream_syschar", counting)
    monkeypatch.setattr(S, "stream_syschar", counting)
    return calls


@pytest.mark.parametrize("directives", ["full", "thin"])
def test_eval_outputs_equal_the_whole_tree(stig, tmp_path, streams, directives):
    ds, sc = stig
    out = {k: tmp_path / f"{k}.xml" for k in ("arf", "oval", "xccdf")}
    r = CliRunner().invoke(main, ["eval", str(ds), "--profile", PROFILE,
                                  "--system-characteristics", str(sc), "--results-arf",
                                  str(out["arf"]), "--oval-results", str(out["oval"]),
                                  "--results", str(out["xccdf"]), "--timestamp", TS,
                                  "--oval-directives", directives])
    assert r.exit_code == 2, r.output        # the example exports have findings
    assert streams == [str(sc)]
    tree = Evaluator(parse_xml_file(ds, huge_tree=True), PROFILE, oval_directives=directives
                     ).evaluate(parse_xml_file(sc, huge_tree=True).getroot(), timestamp=TS)
    assert out["arf"].read_bytes() == tree.to_bytes()
    assert out["oval"].read_bytes() == tree.oval_results_bytes(0)
    assert out["xccdf"].read_bytes() == tree.xccdf_results_bytes()
    assert [(rr.idref, rr.result, rr.messages, rr.instances) for rr in tree.rule_results
            if rr.result == "fail"] and f"fail {tree.counts['fail']}" in r.output
    assert len(list(tmp_path.iterdir())) == 3          # no spool or temporary file left


def test_oval_analyse_equals_the_whole_tree(stig, tmp_path, streams):
    ds, sc = stig
    defs, variables = compliance_oval(parse_xml_file(ds).getroot())
    (tmp_path / "defs.xml").write_bytes(etree.tostring(defs))
    (tmp_path / "vars.xml").write_bytes(variables_doc(variables))
    res = tmp_path / "res.xml"
    r = CliRunner().invoke(main, ["oval-analyse", str(tmp_path / "defs.xml"), str(sc),
                                  "--variables", str(tmp_path / "vars.xml"),
                                  "--results", str(res), "--timestamp", TS])
    assert r.exit_code == 0, r.output
    assert streams == [str(sc)]
    ev = compile_definitions(defs).evaluate(parse_xml_file(sc, huge_tree=True).getroot(),
                                            {k: v for k, (_t, v) in variables.items()})
    assert res.read_bytes() == serialize(build_results_document(ev, timestamp=TS))
    assert "false" in ev.definition_results.values()


def test_eval_and_oval_analyse_do_not_load_the_live_collector():
    """Start-up counts at 1,000 connectors (issue 13: ≤ oscap's time at every size): the
    commands that read files import neither pypsrp nor the content model (pydantic)."""
    import subprocess
    import sys
    code = ("import sys, stigscap.evaluator.cli.eval, stigscap.evaluator.cli.oval; "
            "print(sorted(m for m in ('pypsrp', 'pydantic', 'stigscap.evaluator.collect.winrm')"
            " if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def _reversed_with_other_sizes(sc: bytes, every: int) -> bytes:
    """The same host with system_data's items in reverse order (the Get-TransportConfig items
    the EX13-EG-000120/000160 variables read now come after the connectors compared with them)
    and every `every`-th connector's MaxMessageSize other than the global one."""
    root = etree.fromstring(sc)
    sd = root.find("{*}system_data")
    items = list(sd)
    tails = [i.tail for i in items]
    for item in items:
        sd.remove(item)
    for item, tail in zip(reversed(items), tails):
        item.tail = tail
        sd.append(item)
    n = 0
    for field in sd.iterfind(".//{*}field[@name='maxmessagesize']"):
        n += 1
        if n % every == 0:
            field.text = "42 MB (44,040,192 bytes)"
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


@pytest.mark.parametrize("connectors", [150, 3000])
def test_eval_with_the_compared_items_last_equals_the_whole_tree(stig, tmp_path, streams,
                                                                  monkeypatch, connectors):
    """The object_component variables' items after the items compared with them: those are
    fed again after the last item (from a spool, the file read once); every output is the
    whole tree's, byte for byte, and the size rules find the connectors that differ."""
    ds, _sc = stig
    sc = tmp_path / "sc.xml"
    sc.write_bytes(_reversed_with_other_sizes(
        whole_stig_syschar(parse_xml_file(ds).getroot(), connectors), 7))
    again = []
    real = OvalEvaluation.feed_deferred

    def counted(self, item):
        again.append(item.get("id"))
        return real(self, item)
    monkeypatch.setattr(OvalEvaluation, "feed_deferred", counted)
    out = {k: tmp_path / f"{k}.xml" for k in ("arf", "oval")}
    r = CliRunner().invoke(main, ["eval", str(ds), "--profile", PROFILE,
                                  "--system-characteristics", str(sc), "--results-arf",
                                  str(out["arf"]), "--oval-results", str(out["oval"]),
                                  "--timestamp", TS])
    assert r.exit_code == 2, r.output
    assert streams == [str(sc)] and again
    tree = Evaluator(parse_xml_file(ds, huge_tree=True), PROFILE
                     ).evaluate(parse_xml_file(sc, huge_tree=True).getroot(), timestamp=TS)
    assert out["arf"].read_bytes() == tree.to_bytes()
    assert out["oval"].read_bytes() == tree.oval_results_bytes(0)
    sizes = {rr.idref: rr for rr in tree.rule_results
             if rr.idref.endswith(("SV-84451r1_rule", "SV-84481r1_rule"))}
    assert {rr.result for rr in sizes.values()} == {"fail"}
    root = parse_xml_file(sc, huge_tree=True).getroot()
    ref = root.find("{*}collected_objects/{*}object[@id='oval:mil.disa.stig:obj:6985902']"
                    "/{*}reference").get("item_ref")
    other = [v.find("{*}field[@name='identity']").text
             for v in root.find(f"{{*}}system_data/{{*}}cmdlet_item[@id='{ref}']")
             .iterfind("{*}value")
             if v.find("{*}field[@name='maxmessagesize']").text.startswith("42 MB")]
    assert 0 < len(other) < connectors
    assert sizes["xccdf_mil.disa.stig_rule_SV-84481r1_rule"].instances == other
