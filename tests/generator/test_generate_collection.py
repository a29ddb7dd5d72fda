"""`stigscap generate --benchmark all`: one SCAP 1.3 data stream collection holding a data stream
per built-in benchmark (each its own Benchmark, OVAL, OCIL, CPE dictionary and platform), valid
to oscap (XSDs, schematron) and to `stigscap validate`; `eval` picks per host the benchmark
whose platform matches (or the one `--benchmark-id` names)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from lxml import etree

from stigscap.content.loader import builtin_benchmark_dir, builtin_benchmarks, load_content
from tests.cli_helpers import stigscap
from tests.conftest import REPO, require_tool

NS = {"ds": "http://scap.nist.gov/schema/scap/source/1.2",
      "x": "http://checklists.nist.gov/xccdf/1.2",
      "od": "http://oval.mitre.org/XMLSchema/oval-definitions-5"}
TS = "2026-01-01T00:00:00"


@pytest.fixture(scope="module")
def coll(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("coll") / "all-ds.xml"
    r = stigscap("generate", "--benchmark", "all", "-o", out, "--timestamp", TS)
    assert r.rc == 0, r.err
    return out


def _oscap(*args):
    oscap = require_tool("oscap")
    return subprocess.run([oscap, *map(str, args)], capture_output=True, text=True, timeout=300)


def test_collection_holds_one_data_stream_per_benchmark(coll):
    root = etree.parse(str(coll)).getroot()
    streams = root.findall("ds:data-stream", NS)
    benches = [b.get("id") for b in root.iterfind("ds:component/x:Benchmark", NS)]
    names = list(builtin_benchmarks())
    assert len(streams) == len(names) == len(benches) == 4
    assert benches == [f"xccdf_mil.disa.stig_benchmark_{load_content(builtin_benchmark_dir(n)).benchmark.id}"
                       for n in names]
    # each benchmark its own platform, each platform its own inventory definition
    platforms = [b.find("x:platform", NS).get("idref")
                 for b in root.iterfind("ds:component/x:Benchmark", NS)]
    assert len(set(platforms)) == 4
    # ids unique in the collection (SCAP 1.3 A-25-1 for profiles; OVAL ids one meaning each)
    profiles = [p.get("id") for p in root.iterfind("ds:component/x:Benchmark/x:Profile", NS)]
    assert len(profiles) == len(set(profiles)) == 36
    defs = [d.get("id") for d in root.iterfind("ds:component/od:oval_definitions/od:definitions/"
                                               "od:definition", NS)]
    assert len(defs) == len(set(defs))


def test_collection_passes_oscap_and_scap13_checks(coll):
    p = _oscap("ds", "sds-validate", coll)
    assert p.returncode == 0, p.stdout + p.stderr
    p = _oscap("xccdf", "validate", "--schematron", coll)
    out = p.stdout + p.stderr
    assert p.returncode == 0, out
    assert "Global schematron validation using the source data stream schematron: PASS" in out
    r = stigscap("validate", coll)
    assert r.rc == 0, r.out + r.err
    assert "valid sds@1.3 (0 errors" in r.out


def test_single_benchmark_output_is_unchanged(tmp_path):
    """--benchmark NAME alone still writes the very data stream it always did."""
    a, b = tmp_path / "a.xml", tmp_path / "b.xml"
    assert stigscap("generate", "-o", a, "--timestamp", TS).rc == 0
    assert stigscap("generate", "--benchmark", "exchange2013_edge", "-o", b,
                    "--timestamp", TS).rc == 0
    assert a.read_bytes() == b.read_bytes()
    assert b"profile_MAC-1_Classified\"" in a.read_bytes()


def test_eval_picks_the_benchmark_whose_platform_matches(coll, tmp_path):
    sc = tmp_path / "sc.xml"
    r = stigscap("collect", "-d", coll, "--from", REPO / "content" / "examples" / "edge2013",
                 "-o", sc)
    assert r.rc in (0, 1), r.err   # the other benchmarks' cmdlets are not in the 2013 exports
    arf = tmp_path / "arf.xml"
    r = stigscap("eval", coll, "--profile", "MAC-1_Classified", "--system-characteristics", sc,
                 "--results-arf", arf, "-q", "--timestamp", TS)
    assert r.rc == 2, r.err
    # the example is an Exchange 2013 Edge server (Version 15.0, ServerRole Edge)
    assert "benchmark xccdf_mil.disa.stig_benchmark_MS_Exchange_2013_Edge_STIG" in r.err
    assert "MS_Exchange_2016_Mailbox_Server_STIG" in r.err.split("not applicable")[1]
    tr = etree.parse(str(arf)).getroot().find(".//x:TestResult", NS)
    assert tr.find("x:benchmark", NS).get("id") == \
        "xccdf_mil.disa.stig_benchmark_MS_Exchange_2013_Edge_STIG"
    rules = {rr.get("idref") for rr in tr.iterfind("x:rule-result", NS)}
    assert len(rules) == 63 and "xccdf_mil.disa.stig_rule_SV-84553r1_rule" in rules

    # --benchmark-id: the Mailbox benchmark, whatever the host: its platform is false there
    r = stigscap("eval", coll, "--benchmark-id", "MS_Exchange_2016_Mailbox_Server_STIG",
                 "--profile", "MAC-1_Classified", "--system-characteristics", sc, "-q",
                 "--timestamp", TS)
    assert r.rc == 0 and "notapplicable 64" in r.out, r.out + r.err
    r = stigscap("eval", coll, "--benchmark-id", "nope", "--system-characteristics", sc)
    assert r.rc == 1 and "no benchmark 'nope'" in r.err


def test_eval_refuses_a_host_no_benchmark_matches(coll, tmp_path):
    """A host whose Get-ExchangeServer is missing: no benchmark can be chosen, exit 1 naming
    every benchmark's platform result (never a notapplicable report)."""
    sc = tmp_path / "sc.xml"
    exports = tmp_path / "exports"
    exports.mkdir()
    for f in (REPO / "content" / "examples" / "edge2013").glob("Get-*.xml"):
        if f.name != "Get-ExchangeServer.xml":
            (exports / f.name).write_bytes(f.read_bytes())
    stigscap("collect", "-d", coll, "--from", exports, "-o", sc)
    assert sc.exists()
    arf = tmp_path / "arf.xml"
    r = stigscap("eval", coll, "--profile", "MAC-1_Classified", "--system-characteristics", sc,
                 "--results-arf", arf)
    assert r.rc == 1
    assert "cannot be decided" in r.err or "no benchmark's platform matches" in r.err, r.err
    assert "MS_Exchange_2019_Edge_Server_STIG" in r.err
    assert not arf.exists()
